import {after, test, TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, nsxJson, run} from '../helpers/env.js'
import {buildBusyboxOci, umociUnpack} from '../helpers/images.js'

/**
 * nsx save in both formats, read back by podman load (its own vfs storage), skopeo/umoci and
 * nsx load; nsx history of a loaded and of a built image.
 */

const work = mkdtempSync(join(tmpdir(), 'nsx-save-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

let fixture: string | undefined
function layout(t: TestContext): string | undefined {
  if (!needRoot(t) || !needCommand(t, 'umoci', 'umoci') || !needCommand(t, 'skopeo', 'skopeo') || !needCommand(t, 'busybox', 'busybox-static')) return undefined
  fixture ??= buildBusyboxOci(join(work, 'fixture'))
  return fixture
}

function storeEnv(t: TestContext): NodeJS.ProcessEnv {
  const d = mkdtempSync(join(work, 'store-'))
  t.after(() => rmSync(d, {recursive: true, force: true}))
  return {NSX_ROOT: d}
}

/** A built image on top of the fixture: a loaded base (no kept blobs) and a built layer (a kept tar). */
function builtImage(t: TestContext, e: NodeJS.ProcessEnv, src: string): void {
  assert.equal(nsx(['load', `${src}:latest`], {env: e}).status, 0)
  const ctx = mkdtempSync(join(work, 'ctx-'))
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM oci:latest\nRUN echo saved > /saved && rm /etc/hostname\nCMD ["/bin/sh", "-c", "cat /saved; ls /etc"]\n')
  const b = nsx(['build', '-q', '-t', 'saveme:1', ctx], {env: e})
  assert.equal(b.status, 0, b.stderr)
}

test('docker-archive and oci-archive: podman load takes both; nsx load and umoci read them back', async (t) => {
  const src = layout(t)
  if (!src || !needCommand(t, 'podman', 'podman')) return
  const e = storeEnv(t)
  builtImage(t, e, src)
  const id = nsxJson<{images: {id: string; names: string[]}[]}>(['images'], {env: e}).images.find((i) => i.names.includes('saveme:1'))!.id
  const docker = join(work, 'docker.tar')
  const oci = join(work, 'oci.tar')
  const s1 = nsxJson<{format: string}>(['save', '-o', docker, 'saveme:1'], {env: e})
  assert.equal(s1.format, 'docker-archive')
  assert.equal(nsx(['save', '--format', 'oci-archive', '-o', oci, 'saveme:1'], {env: e}).status, 0)

  const proot = mkdtempSync(join(work, 'podman-'))
  const p = ['--root', join(proot, 'root'), '--runroot', join(proot, 'run'), '--storage-driver', 'vfs']
  t.after(() => {
    run('podman', [...p, 'rmi', '-a', '-f'])
    rmSync(proot, {recursive: true, force: true})
  })
  for (const f of [docker, oci]) {
    const l = run('podman', [...p, 'load', '-i', f])
    assert.equal(l.status, 0, l.stderr)
    assert.match(l.stdout, /Loaded image: (localhost\/)?saveme:1/)
  }
  const insp = JSON.parse(run('podman', [...p, 'image', 'inspect', 'localhost/saveme:1']).stdout)[0]
  // The archive's config is the image podman has (the loaded base's layers were packed again
  // from their trees, so its diff_ids, and the id, may differ from the stored image's).
  const manifest = JSON.parse(run('tar', ['-xOf', docker, 'manifest.json']).stdout)
  assert.equal(`${insp.Id}.json`, manifest[0].Config)
  assert.deepEqual(manifest[0].RepoTags, ['saveme:1'])
  assert.deepEqual(insp.Config.Cmd, ['/bin/sh', '-c', 'cat /saved; ls /etc'])
  assert.equal(insp.RootFS.Layers.length, 4)

  // nsx load of its own archive: the same image.
  const e2 = storeEnv(t)
  const back = nsxJson<{image: {id: string}}>(['load', docker], {env: e2})
  assert.equal(back.image.id, `sha256:${insp.Id}`)
  // Saved again from there (every layer now reproduces its tar), the id stays.
  const again = join(work, 'again.tar')
  assert.equal(nsx(['save', '-o', again, 'saveme:1'], {env: e2}).status, 0)
  assert.equal(JSON.parse(run('tar', ['-xOf', again, 'manifest.json']).stdout)[0].Config, manifest[0].Config)
  void id
  const out = nsx(['run', '--rm', '--image', 'saveme:1'], {env: e2})
  assert.equal(out.status, 0, out.stderr)
  // A container's /etc holds its own hosts, hostname and resolv.conf (as docker's); the image's
  // whiteout of /etc/hostname is checked on umoci's unpacking below.
  assert.equal(out.stdout, 'saved\nhostname\nhosts\nold\nresolv.conf\n')
  // skopeo reads the OCI archive; umoci unpacks it with the whiteout applied.
  const dir = join(work, 'oci-dir')
  assert.equal(run('skopeo', ['copy', '-q', `oci-archive:${oci}:saveme:1`, `oci:${dir}:t`]).status, 0)
  const rootfs = umociUnpack(dir, 't', join(work, 'bundle'))
  assert.ok(existsSync(join(rootfs, 'saved')))
  assert.ok(!existsSync(join(rootfs, 'etc/hostname')))
})

test('nsx load reads an oci-archive (its own save --format oci-archive, plain or gzipped), nothing left in tmp/', async (t) => {
  const src = layout(t)
  if (!src) return
  const e = storeEnv(t)
  builtImage(t, e, src)
  const oci = join(work, 'load-oci.tar')
  assert.equal(nsx(['save', '--format', 'oci-archive', '-o', oci, 'saveme:1'], {env: e}).status, 0)
  const gz = join(work, 'load-oci.tar.gz')
  assert.equal(run('sh', ['-c', `gzip -c ${oci} > ${gz}`]).status, 0)
  for (const f of [oci, gz]) {
    const e2 = storeEnv(t)
    const back = nsxJson<{image: {id: string; names: string[]}}>(['load', f], {env: e2})
    assert.deepEqual(back.image.names, ['saveme:1'])
    const out = nsx(['run', '--rm', '--image', 'saveme:1'], {env: e2})
    assert.equal(out.status, 0, out.stderr)
    assert.match(out.stdout, /^saved\n/)
    assert.deepEqual(readdirSync(join(e2.NSX_ROOT!, 'tmp')), [])
  }
  // An unknown tag names the archive, not the copy in tmp/.
  const e3 = storeEnv(t)
  const bad = nsx(['load', `${oci}:nope`], {env: e3})
  assertOneLineError(bad, 1, /unknown tag 'nope' in \S+load-oci\.tar \(tags: saveme:1\)/)
  assert.deepEqual(readdirSync(join(e3.NSX_ROOT!, 'tmp')), [])
})

test('save errors leave no file; history lists every step with its layer', async (t) => {
  const src = layout(t)
  if (!src) return
  const e = storeEnv(t)
  builtImage(t, e, src)
  const outDir = mkdtempSync(join(work, 'out-'))
  assertOneLineError(nsx(['save', '-o', join(outDir, 'x.tar'), 'nosuch:1'], {env: e}), 1, /no such image: nosuch:1/)
  assertOneLineError(nsx(['save', '-o', join(outDir, 'missing-dir', 'x.tar'), 'saveme:1'], {env: e}), 1, /cannot write .*ENOENT/)
  assert.deepEqual(readdirSync(outDir), [])
  const h = nsxJson<{history: {createdBy: string; emptyLayer: boolean; layer?: string; size: number}[]}>(['history', 'saveme:1'], {env: e})
  assert.deepEqual(h.history.map((r) => r.createdBy.split(' ')[0]), ['CMD', 'RUN', 'umoci', 'umoci', 'umoci', 'umoci'])
  assert.equal(h.history[1].layer !== undefined && h.history[1].size, 6)
  assert.equal(h.history.filter((r) => !r.emptyLayer).length, 4)
  const text = nsx(['history', 'saveme:1'], {env: e})
  assert.equal(text.status, 0, text.stderr)
  assert.match(text.stdout, /^LAYER +CREATED +SIZE CREATED BY\n<missing> .* CMD \["\/bin\/sh","-c","cat \/saved; ls \/etc"\]\n[0-9a-f]{12} .* 6B RUN \/bin\/sh -c echo saved/)
  assertOneLineError(nsx(['history', 'nosuch'], {env: e}), 1, /no such image/)
  mkdirSync(join(outDir, 'ok'))
})
