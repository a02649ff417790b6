import {after, test, TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {createHash, randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, NSX_BIN, nsx, nsxJson, run} from '../helpers/env.js'
import {spawn} from 'node:child_process'
import {buildBusyboxOci, buildStaticProbe, umociUnpack} from '../helpers/images.js'
import {needRegistry, startRegistry, startTokenService, TestRegistry} from '../helpers/registry.js'

/**
 * nsx pull/push/tag/login/logout against Debian's docker-registry started by each test on a
 * free 127.0.0.1 port, with and without htpasswd auth; skopeo and umoci on the other side.
 */

const work = mkdtempSync(join(tmpdir(), 'nsx-registry-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

let fixture: string | undefined
function layout(t: TestContext): string | undefined {
  if (!needRoot(t) || !needRegistry(t) || !needCommand(t, 'umoci', 'umoci') || !needCommand(t, 'skopeo', 'skopeo') || !needCommand(t, 'busybox', 'busybox-static') || !needCommand(t, 'gcc', 'gcc') || !needCommand(t, 'htpasswd', 'apache2-utils'))
    return undefined
  if (!fixture) {
    const dir = join(work, 'fixture')
    mkdirSync(dir)
    const probe = buildStaticProbe(dir)
    fixture = buildBusyboxOci(dir, {extraFiles: {'usr/local/bin/probe': probe}})
  }
  return fixture
}

/** An empty store and credential files of the test's own. */
function env(t: TestContext): NodeJS.ProcessEnv {
  const d = mkdtempSync(join(work, 'env-'))
  t.after(() => rmSync(d, {recursive: true, force: true}))
  mkdirSync(join(d, 'home'))
  mkdirSync(join(d, 'run'))
  return {NSX_ROOT: join(d, 'store'), HOME: join(d, 'home'), XDG_RUNTIME_DIR: join(d, 'run'), REGISTRY_AUTH_FILE: ''}
}

function skopeoPush(src: string, reg: TestRegistry, repo: string, creds?: string): void {
  const args = ['copy', '-q', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), `oci:${src}:latest`, `docker://${reg.host}/${repo}`]
  const r = run('skopeo', args)
  assert.equal(r.status, 0, r.stderr)
}

function listTree(root: string, rel = ''): string[] {
  const out: string[] = []
  for (const n of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${n}` : n
    const st = statSync(join(root, p), {throwIfNoEntry: false})
    out.push(p)
    if (st?.isDirectory() && !statSync(join(root, p)).isSymbolicLink?.()) out.push(...listTree(root, p))
  }
  return out
}

test('pull from an anonymous registry, run it, pull again reuses every layer', async (t) => {
  const src = layout(t)
  if (!src) return
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'test/busybox:1')
  const e = env(t)
  const r = nsx(['pull', `${reg.host}/test/busybox:1`], {env: e})
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^Pulled 127\.0\.0\.1:\d+\/test\/busybox:1 \(image [0-9a-f]{12}, digest sha256:[0-9a-f]{64}\)\n$/)
  // Not a terminal: one line per layer.
  assert.equal(r.stderr.trim().split('\n').filter((l) => /^[0-9a-f]{12}: pulled /.test(l)).length, 3, r.stderr)
  // /etc/hostname is the container's own (docker's rule), not the image's 'probe'.
  const out = nsx(['run', '--rm', '--hostname', 'pulled', '--image', `${reg.host}/test/busybox:1`, '--', '/bin/sh', '-c', 'echo $FOO; cat /etc/hostname; ls /etc/old; /usr/local/bin/probe x'], {env: e})
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stdout, 'bar\npulled\nc\nprobe x\n')
  const again = nsxJson<{layers: {reused: boolean}[]; digest: string}>(['pull', `${reg.host}/test/busybox:1`], {env: e})
  assert.deepEqual(again.layers.map((l) => l.reused), [true, true, true])
  // By digest too, and the image is found by its repo digest afterwards.
  const byDigest = nsx(['pull', '-q', `${reg.host}/test/busybox@${again.digest}`], {env: e})
  assert.equal(byDigest.status, 0, byDigest.stderr)
  const images = nsxJson<{images: {names: string[]}[]}>(['images'], {env: e})
  assert.ok(JSON.stringify(images).includes(`${reg.host}/test/busybox:1`))
})

test('nsx run pulls a missing image first', async (t) => {
  const src = layout(t)
  if (!src) return
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'auto/pull:latest')
  const e = env(t)
  const out = nsx(['run', '--rm', '--image', `${reg.host}/auto/pull`, '--', '/bin/sh', '-c', 'echo ran'], {env: e})
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stdout, 'ran\n')
  assert.match(out.stderr, /unable to find image .* locally; pulling it/)
})

test('push: nsx-pushed image pulled by skopeo and unpacked by umoci; a loaded image keeps its id in the registry', async (t) => {
  const src = layout(t)
  if (!src) return
  const reg = await startRegistry(t)
  const e = env(t)
  // Loaded from a file: the blobs are kept as loaded, so push sends the same bytes and the id holds.
  const load = nsx(['load', `${src}:latest`, '--json'], {env: e})
  assert.equal(load.status, 0, load.stderr)
  const loadedId = (JSON.parse(load.stdout) as {image: {id: string}}).image.id
  const tag = nsx(['tag', 'oci:latest', `${reg.host}/pushed/bb:2`], {env: e})
  assert.equal(tag.status, 0, tag.stderr)
  const push = nsx(['push', `${reg.host}/pushed/bb:2`], {env: e})
  assert.equal(push.status, 0, push.stderr)
  assert.match(push.stdout, /^Pushed 127\.0\.0\.1:\d+\/pushed\/bb:2 \(digest sha256:[0-9a-f]{64}\)\n$/)
  const out = join(work, `skopeo-${Date.now()}`)
  const c = run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/pushed/bb:2`, `oci:${out}:t`])
  assert.equal(c.status, 0, c.stderr)
  const ours = umociUnpack(out, 't', join(out, 'bundle'))
  const theirs = umociUnpack(src, 'latest', join(out, 'bundle-orig'))
  assert.deepEqual(listTree(ours), listTree(theirs))
  assert.equal(readFileSync(join(ours, 'etc/old/c'), 'utf8'), 'c\n')
  const cfg = JSON.parse(run('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${reg.host}/pushed/bb:2`]).stdout)
  assert.deepEqual(cfg.config.Env, ['FOO=bar'])
  assert.deepEqual(cfg.config.Cmd, ['/bin/sh'])
  // A second push sends no layer again.
  const second = nsxJson<{layers: {existed: boolean}[]; configDigest: string}>(['push', `${reg.host}/pushed/bb:2`], {env: e})
  assert.deepEqual(second.layers.map((l) => l.existed), [true, true, true])
  assert.equal(second.configDigest, loadedId, 'the registry has the loaded image under its own id')
  assert.equal(cfg.rootfs.diff_ids.length, 3)
  // docker load of a docker-archive and nsx import of a root filesystem tar: the same (the bug was a repacked tar and a new id).
  const archive = join(work, `bb-${Date.now()}.tar`)
  assert.equal(run('skopeo', ['copy', '-q', `oci:${src}:latest`, `docker-archive:${archive}:arch/bb:1`]).status, 0)
  const fromArchive = nsxJson<{image: {id: string}}>(['load', archive, '--json'], {env: e})
  assert.equal(nsx(['tag', 'arch/bb:1', `${reg.host}/arch/bb:1`], {env: e}).status, 0)
  assert.equal(nsxJson<{configDigest: string}>(['push', `${reg.host}/arch/bb:1`, '--json'], {env: e}).configDigest, fromArchive.image.id)
  const rootfsTar = join(work, `rootfs-${Date.now()}.tar`)
  assert.equal(run('tar', ['-C', ours, '-cf', rootfsTar, '.']).status, 0)
  const imported = nsxJson<{id: string}>(['import', rootfsTar, `${reg.host}/imported/bb:1`, '--json'], {env: e})
  assert.equal(nsxJson<{configDigest: string}>(['push', `${reg.host}/imported/bb:1`, '--json'], {env: e}).configDigest, imported.id)
  // Pulled back into another store, then pushed elsewhere: the very blobs (same digests).
  const e2 = env(t)
  const pulled = nsxJson<{layers: {digest: string}[]}>(['pull', `${reg.host}/pushed/bb:2`], {env: e2})
  const again = nsxJson<{layers: {digest: string}[]}>(['push', `${reg.host}/pushed/bb:2`, `${reg.host}/copy/bb:3`], {env: e2})
  assert.deepEqual(again.layers.map((l) => l.digest), pulled.layers.map((l) => l.digest))
})

test('htpasswd registry: login, pull, push, logout; no password anywhere', async (t) => {
  const src = layout(t)
  if (!src) return
  const password = `s3cret-${process.pid}`
  const reg = await startRegistry(t, {auth: {user: 'alice', password}})
  skopeoPush(src, reg, 'private/bb:1', `alice:${password}`)
  const e = env(t)
  const anon = nsx(['pull', `${reg.host}/private/bb:1`], {env: e})
  assertOneLineError(anon, 1, /authentication required; log in with nsx login 127\.0\.0\.1:\d+$/)
  const wrong = nsx(['login', '-u', 'alice', '--password-stdin', reg.host], {env: e, input: 'wrong-password\n'})
  assertOneLineError(wrong, 1, /unauthorized/)
  assert.doesNotMatch(wrong.stderr + wrong.stdout, /wrong-password/)
  const ok = nsx(['login', '-u', 'alice', '--password-stdin', reg.host], {env: e, input: `${password}\n`})
  assert.equal(ok.status, 0, ok.stderr)
  assert.equal(ok.stdout, `Login succeeded: ${reg.host}\n`)
  assert.doesNotMatch(ok.stderr + ok.stdout, new RegExp(password))
  for (const f of [join(e.HOME!, '.docker', 'config.json'), join(e.XDG_RUNTIME_DIR!, 'containers', 'auth.json')]) {
    assert.equal(statSync(f).mode & 0o777, 0o600, f)
    const auth = JSON.parse(readFileSync(f, 'utf8')).auths[reg.host].auth
    assert.equal(Buffer.from(auth, 'base64').toString(), `alice:${password}`)
  }
  // podman reads what nsx login wrote.
  if (needCommand(t, 'skopeo', 'skopeo')) {
    const insp = run('skopeo', ['inspect', '--tls-verify=false', '--authfile', join(e.XDG_RUNTIME_DIR!, 'containers', 'auth.json'), `docker://${reg.host}/private/bb:1`])
    assert.equal(insp.status, 0, insp.stderr)
  }
  const pull = nsx(['pull', `${reg.host}/private/bb:1`], {env: e})
  assert.equal(pull.status, 0, pull.stderr)
  const push = nsx(['push', `${reg.host}/private/bb:1`, `${reg.host}/private/copy:1`], {env: e})
  assert.equal(push.status, 0, push.stderr)
  const out = nsx(['logout', reg.host], {env: e})
  assert.equal(out.status, 0, out.stderr)
  assert.equal(JSON.parse(readFileSync(join(e.HOME!, '.docker', 'config.json'), 'utf8')).auths[reg.host], undefined)
  assertOneLineError(nsx(['logout', reg.host], {env: e}), 1, /not logged in to 127\.0\.0\.1:\d+$/)
  assertOneLineError(nsx(['push', `${reg.host}/private/bb:1`, `${reg.host}/private/copy:2`], {env: e}), 1, /authentication required/)
})

test('registry errors become one line; a corrupt blob stores nothing', async (t) => {
  const src = layout(t)
  if (!src) return
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'err/bb:1')
  const e = env(t)
  assertOneLineError(nsx(['pull', `${reg.host}/err/bb:nope`], {env: e}), 1, /manifest for 127\.0\.0\.1:\d+\/err\/bb:nope not found: manifest unknown: manifest unknown$/)
  assertOneLineError(nsx(['pull', `${reg.host}/nothing/here:1`], {env: e}), 1, /pull access denied for 127\.0\.0\.1:\d+\/nothing\/here, repository does not exist or may require 'docker login': (manifest|name) unknown/)
  assertOneLineError(nsx(['pull', 'Bad/Name'], {env: e}), 1, /invalid reference 'Bad\/Name'/)
  // A single-platform image for another platform: taken, with a warning (podman's behaviour).
  const other = nsx(['pull', '-q', '--platform', 'linux/s390x', `${reg.host}/err/bb:1`], {env: {...e, NSX_ROOT: join(e.NSX_ROOT!, '..', 'store-other')}})
  assert.equal(other.status, 0, other.stderr)
  assert.match(other.stderr, /warning: .* is for linux\/amd64, not linux\/s390x/)
  assertOneLineError(nsx(['pull', '--platform', 'linux', `${reg.host}/err/bb:1`], {env: e}), 1, /invalid platform/)
  assertOneLineError(nsx(['pull', '127.0.0.1:1/x:1'], {env: e}), 1, /Get "http:\/\/127\.0\.0\.1:1\/v2\/": dial tcp 127\.0\.0\.1:1: connect: connection refused$/)
  assertOneLineError(nsx(['push', 'no-such-image:1'], {env: e}), 1, /no such image/)
  // Flip bytes in the registry's copy of the largest layer: the digest check must refuse it.
  const blobs = join(reg.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256')
  let biggest = ''
  let size = 0
  for (const pre of readdirSync(blobs))
    for (const h of readdirSync(join(blobs, pre))) {
      const f = join(blobs, pre, h, 'data')
      const s = statSync(f).size
      if (s > size) [biggest, size] = [f, s]
    }
  const fd = openSync(biggest, 'r+')
  writeSync(fd, Buffer.from('corrupt!'), 0, 8, Math.floor(size / 2))
  closeSync(fd)
  const bad = nsx(['pull', `${reg.host}/err/bb:1`], {env: e})
  assert.equal(bad.status, 1)
  assert.match(bad.stderr.trim().split('\n').pop()!, /(digest mismatch|corrupt or truncated gzip|not a tar archive)/)
  // Two small layers may be stored; the corrupt one is not, and nothing half-done stays in tmp/ or as an image.
  const store = e.NSX_ROOT!
  assert.deepEqual(readdirSync(join(store, 'tmp')), [])
  assert.deepEqual(readdirSync(join(store, 'images', 'sha256')), [])
  for (const l of readdirSync(join(store, 'layers', 'sha256'))) assert.ok(statSync(join(store, 'layers', 'sha256', l, 'meta.json')).isFile())
  assert.ok(readdirSync(join(store, 'layers', 'sha256')).length < 3)
})

test('zstd layers (skopeo) and a buildah push are pulled and run', async (t) => {
  const src = layout(t)
  if (!src || !needCommand(t, 'buildah', 'buildah') || !needCommand(t, 'zstd', 'zstd')) return
  const reg = await startRegistry(t)
  const z = run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-compress-format', 'zstd', '--dest-compress', `oci:${src}:latest`, `docker://${reg.host}/zstd/bb:1`])
  assert.equal(z.status, 0, z.stderr)
  const m = JSON.parse(run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/zstd/bb:1`]).stdout)
  assert.ok(m.layers.every((l: {mediaType: string}) => l.mediaType.endsWith('+zstd')), JSON.stringify(m.layers))
  const e = env(t)
  const out = nsx(['run', '--rm', '--image', `${reg.host}/zstd/bb:1`, '--', '/bin/sh', '-c', 'ls /etc/old; /usr/local/bin/probe z'], {env: e})
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stdout, 'c\nprobe z\n')
  // buildah push from an OCI layout (docker schema 2 manifest, gzip).
  // buildah's own storage for the test (vfs: no mounts left behind), removed with it.
  const broot = mkdtempSync(join(work, 'buildah-'))
  const bopts = ['--root', join(broot, 'root'), '--runroot', join(broot, 'run'), '--storage-driver', 'vfs']
  t.after(() => {
    run('buildah', [...bopts, 'rmi', '-a', '-f'])
    rmSync(broot, {recursive: true, force: true})
  })
  const bp = run('skopeo', ['copy', '-q', `oci:${src}:latest`, `containers-storage:[vfs@${join(broot, 'root')}+${join(broot, 'run')}]localhost/bb:1`])
  assert.equal(bp.status, 0, bp.stderr)
  const b = run('buildah', [...bopts, 'push', '-q', '--tls-verify=false', '--format', 'v2s2', 'localhost/bb:1', `docker://${reg.host}/buildah/bb:1`])
  assert.equal(b.status, 0, b.stderr)
  const raw = JSON.parse(run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/buildah/bb:1`]).stdout)
  assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json')
  const out2 = nsx(['run', '--rm', '--image', `${reg.host}/buildah/bb:1`, '--', '/usr/local/bin/probe', 'buildah'], {env: e})
  assert.equal(out2.status, 0, out2.stderr)
  assert.equal(out2.stdout, 'probe buildah\n')
})

test('an image index: this machine\'s platform by default, --platform for another', async (t) => {
  const src = layout(t)
  if (!src) return
  const reg = await startRegistry(t)
  // A copy of the fixture layout whose index holds an amd64 and an arm64 manifest (the arm64
  // one differs only in its config's architecture: nothing here runs it).
  const dir = join(work, `index-${Date.now()}`)
  run('cp', ['-a', src, dir])
  const blob = (d: string) => join(dir, 'blobs', 'sha256', d.slice(7))
  const put = (data: Buffer): {digest: string; size: number} => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`
    writeFileSync(blob(digest), data)
    return {digest, size: data.length}
  }
  const top = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'))
  const amd = top.manifests[0]
  const manifest = JSON.parse(readFileSync(blob(amd.digest), 'utf8'))
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8'))
  const armCfg = put(Buffer.from(JSON.stringify({...config, architecture: 'arm64', variant: 'v8'})))
  const armMan = put(Buffer.from(JSON.stringify({...manifest, config: {...manifest.config, ...armCfg}})))
  const index = put(Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
    {mediaType: 'application/vnd.oci.image.manifest.v1+json', ...armMan, platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}},
    {mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amd.digest, size: amd.size, platform: {os: 'linux', architecture: 'amd64'}},
  ]})))
  writeFileSync(join(dir, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: {'org.opencontainers.image.ref.name': 'multi'}}]}))
  const c = run('skopeo', ['copy', '-q', '--all', '--dest-tls-verify=false', `oci:${dir}:multi`, `docker://${reg.host}/multi/bb:1`])
  assert.equal(c.status, 0, c.stderr)
  const e = env(t)
  const host = nsxJson<{platform: string; id: string}>(['pull', `${reg.host}/multi/bb:1`], {env: e})
  assert.equal(host.platform, `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`)
  const arm = nsxJson<{platform: string; id: string}>(['pull', '--platform', 'linux/arm64', `${reg.host}/multi/bb:1`], {env: e})
  assert.equal(arm.platform, 'linux/arm64')
  assert.equal(arm.id, armCfg.digest)
  assertOneLineError(nsx(['pull', '--platform', 'linux/ppc64le', `${reg.host}/multi/bb:1`], {env: e}), 1, /no image for linux\/ppc64le in the index \(it has linux\/arm64\/v8, linux\/amd64\)/)
})

/** The token service runs in this process: commands that use it must not block its event loop. */
function runAsync(cmd: string, args: string[], opts: {env?: NodeJS.ProcessEnv; input?: string} = {}): Promise<{status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {env: opts.env ? {...process.env, ...opts.env} : process.env, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (status, signal) => resolve({status, signal, stdout, stderr}))
    child.stdin.end(opts.input ?? '')
  })
}

const nsxAsync = (args: string[], env: NodeJS.ProcessEnv, input?: string) => runAsync(process.execPath, [NSX_BIN, ...args], {env: {NO_COLOR: '1', ...env}, input})

test('bearer-token challenge: a token per repository scope from the realm, with the stored credentials', async (t) => {
  const src = layout(t)
  if (!src || !needCommand(t, 'openssl', 'openssl')) return
  const password = `tok-${process.pid}`
  const token = await startTokenService(t, {bob: password})
  const reg = await startRegistry(t, {token})
  const c = await runAsync('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `bob:${password}`, `oci:${src}:latest`, `docker://${reg.host}/team/bb:1`])
  assert.equal(c.status, 0, c.stderr)
  const e = env(t)
  // Anonymous: the token service grants nothing, the registry refuses.
  assertOneLineError(await nsxAsync(['pull', `${reg.host}/team/bb:1`], e), 1, /(authentication required|unauthorized)/)
  assertOneLineError(await nsxAsync(['login', '-u', 'bob', '--password-stdin', reg.host], e, 'nope\n'), 1, /unauthorized/)
  const ok = await nsxAsync(['login', '-u', 'bob', '--password-stdin', reg.host], e, password)
  assert.equal(ok.status, 0, ok.stderr)
  token.requests.length = 0
  const pull = await nsxAsync(['pull', `${reg.host}/team/bb:1`], e)
  assert.equal(pull.status, 0, pull.stderr)
  assert.ok(token.requests.some((r) => r.user === 'bob' && r.scope.includes('repository:team/bb:pull')), JSON.stringify(token.requests))
  // One token per scope and process: not one per blob.
  assert.ok(token.requests.length <= 2, JSON.stringify(token.requests))
  const push = await nsxAsync(['push', `${reg.host}/team/bb:1`, `${reg.host}/team/copy:1`], e)
  assert.equal(push.status, 0, push.stderr)
  assert.ok(token.requests.some((r) => r.scope.includes('repository:team/copy:pull,push')), JSON.stringify(token.requests))
  const back = await runAsync('skopeo', ['inspect', '--tls-verify=false', '--creds', `bob:${password}`, `docker://${reg.host}/team/copy:1`])
  assert.equal(back.status, 0, back.stderr)
})

test('an interrupted pull leaves no half layer counted as stored; the next pull completes it', async (t) => {
  if (!layout(t)) return
  const dir = join(work, `big-${Date.now()}`)
  mkdirSync(dir)
  const big = join(dir, 'random.bin')
  writeFileSync(big, randomBytes(48 << 20))
  const src = buildBusyboxOci(dir, {extraFiles: {'data/random.bin': big}})
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'big/bb:1')
  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    const e = env(t)
    const store = e.NSX_ROOT!
    const child = spawn(process.execPath, [NSX_BIN, 'pull', `${reg.host}/big/bb:1`], {env: {...process.env, ...e}, stdio: 'ignore'})
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    // Interrupted while a layer is being extracted into tmp/.
    for (let i = 0; i < 400 && child.exitCode === null; i++) {
      let inTmp: string[] = []
      try {
        inTmp = readdirSync(join(store, 'tmp')).filter((n) => n.startsWith('layer-'))
      } catch {
        // not made yet
      }
      if (inTmp.length > 0) break
      await new Promise((r) => setTimeout(r, 10))
    }
    child.kill(signal)
    await exited
    assert.deepEqual(readdirSync(join(store, 'images', 'sha256')), [], `${signal}: no image recorded`)
    for (const l of readdirSync(join(store, 'layers', 'sha256'))) assert.ok(statSync(join(store, 'layers', 'sha256', l, 'meta.json')).isFile(), `${signal}: layer ${l} is whole`)
    if (signal === 'SIGINT') assert.deepEqual(readdirSync(join(store, 'tmp')), [], 'SIGINT: nsx removed its work')
    const again = nsx(['pull', '-q', `${reg.host}/big/bb:1`], {env: e})
    assert.equal(again.status, 0, again.stderr)
    const out = nsx(['run', '--rm', '--image', `${reg.host}/big/bb:1`, '--', '/bin/sh', '-c', 'wc -c < /data/random.bin'], {env: e})
    assert.equal(out.stdout.trim(), String(48 << 20))
    // What a SIGKILL left in tmp/ is swept by gc.
    assert.equal(nsx(['gc'], {env: e}).status, 0)
    assert.deepEqual(readdirSync(join(store, 'tmp')), [])
  }
})

test('progress: a bar per layer redrawn in place on a terminal', async (t) => {
  const src = layout(t)
  if (!src || !needCommand(t, 'script', 'bsdutils')) return
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'tty/bb:1')
  const e = env(t)
  // script(1) gives nsx a pseudo-terminal as stdout and stderr.
  const r = run('script', ['-qfec', `${process.execPath} ${NSX_BIN} pull ${reg.host}/tty/bb:1`, '/dev/null'], {env: {...process.env, ...e, TERM: 'xterm', COLUMNS: '100'}})
  assert.equal(r.status, 0, r.stdout)
  // Three rows, rewritten by moving the cursor up over them, ending as "pulled".
  assert.match(r.stdout, /\x1b\[3A/)
  const finalRows = r.stdout.split('\x1b[3A').pop()!
  assert.equal((finalRows.match(/[0-9a-f]{12}: pulled /g) ?? []).length, 3, JSON.stringify(finalRows))
  assert.match(r.stdout, /Pulled 127\.0\.0\.1:\d+\/tty\/bb:1/)
})
