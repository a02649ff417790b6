import {after, test, TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, nsxJson, run} from '../helpers/env.js'
import {buildBusyboxOci, umociUnpack} from '../helpers/images.js'
import {needRegistry, startRegistry, TestRegistry} from '../helpers/registry.js'

/**
 * nsx build against buildah bud (--isolation chroot, its own vfs storage) on the seeds'
 * Dockerfile shapes, the base image served by a docker-registry the test starts.
 */

const work = mkdtempSync(join(tmpdir(), 'nsx-build-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

let fixture: string | undefined
function base(t: TestContext): string | undefined {
  if (!needRoot(t) || !needRegistry(t) || !needCommand(t, 'umoci', 'umoci') || !needCommand(t, 'skopeo', 'skopeo') || !needCommand(t, 'busybox', 'busybox-static')) return undefined
  fixture ??= buildBusyboxOci(join(work, 'fixture'))
  return fixture
}

async function registryWithBase(t: TestContext, layout: string): Promise<{reg: TestRegistry; image: string}> {
  const reg = await startRegistry(t)
  const r = run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${reg.host}/base/busybox:1`])
  assert.equal(r.status, 0, r.stderr)
  return {reg, image: `${reg.host}/base/busybox:1`}
}

function env(t: TestContext): NodeJS.ProcessEnv {
  const d = mkdtempSync(join(work, 'env-'))
  t.after(() => rmSync(d, {recursive: true, force: true}))
  return {NSX_ROOT: join(d, 'store'), HOME: d, XDG_RUNTIME_DIR: d}
}

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, 'ctx-'))
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), {recursive: true})
    writeFileSync(join(dir, p), c)
  }
  return dir
}

const seedShape = (image: string) => `FROM ${image}
MAINTAINER nsx-test@example.com

# the seeds' shape: RUN, COPY, ENV, WORKDIR, EXPOSE, ENTRYPOINT in exec form
RUN mkdir -p /bootstrap && echo built > /bootstrap/marker && echo RUN-$((40+2))
COPY requirements.txt /bootstrap/requirements.txt
ENV APP_HOME=/srv/app LANG=C.UTF-8
WORKDIR /srv/app
RUN ["/bin/sh", "-c", "cat /bootstrap/requirements.txt > deps && \\
     echo $APP_HOME >> deps"]
EXPOSE 8888
ENTRYPOINT ["/bin/sh", "-c", "cat /bootstrap/marker /srv/app/deps; pwd; echo $LANG; ls /etc/old; cat /etc/hostname"]
`

test('the seeds\' Dockerfile shape: nsx build and buildah bud agree on the config and the output; a rebuild runs no RUN', async (t) => {
  const layout = base(t)
  if (!layout || !needCommand(t, 'buildah', 'buildah')) return
  const {reg, image} = await registryWithBase(t, layout)
  const ctx = context({'Dockerfile': seedShape(image), 'requirements.txt': 'numpy\nscipy\n'})
  const e = env(t)
  const b = nsx(['build', '-t', 'seed:1', ctx], {env: e})
  assert.equal(b.status, 0, b.stderr)
  assert.match(b.stdout, /RUN-42/)
  assert.match(b.stdout, /Successfully tagged seed:1/)
  const ours = nsx(['run', '--rm', '--hostname', 'seedhost', '--image', 'seed:1'], {env: e})
  assert.equal(ours.status, 0, ours.stderr)
  // /etc/hostname is the container's own (docker's rule), not the image's 'probe'.
  assert.equal(ours.stdout, 'built\nnumpy\nscipy\n/srv/app\n/srv/app\nC.UTF-8\nc\nseedhost\n')

  // buildah, in storage of its own, then pushed to the registry and run by nsx too.
  const broot = mkdtempSync(join(work, 'buildah-'))
  const bopts = ['--root', join(broot, 'root'), '--runroot', join(broot, 'run'), '--storage-driver', 'vfs']
  t.after(() => {
    run('buildah', [...bopts, 'rm', '-a'])
    run('buildah', [...bopts, 'rmi', '-a', '-f'])
    rmSync(broot, {recursive: true, force: true})
  })
  const bb = run('buildah', [...bopts, 'bud', '--isolation', 'chroot', '--tls-verify=false', '-q', '-t', 'localhost/seed:1', ctx])
  assert.equal(bb.status, 0, bb.stderr)
  const theirs = JSON.parse(run('skopeo', ['inspect', '--config', `containers-storage:[vfs@${join(broot, 'root')}+${join(broot, 'run')}]localhost/seed:1`]).stdout)
  const mine = JSON.parse(run('skopeo', ['inspect', '--config', `oci:${exportOci(e, 'seed:1')}:x`]).stdout)
  for (const k of ['Entrypoint', 'Cmd', 'WorkingDir', 'ExposedPorts', 'User', 'Volumes', 'StopSignal']) assert.deepEqual(mine.config[k] ?? null, theirs.config[k] ?? null, k)
  assert.deepEqual([...mine.config.Env].sort(), [...theirs.config.Env].sort())
  assert.equal(mine.author, theirs.author)
  assert.equal(mine.architecture, theirs.architecture)
  const push = run('buildah', [...bopts, 'push', '-q', '--tls-verify=false', 'localhost/seed:1', `docker://${reg.host}/buildah/seed:1`])
  assert.equal(push.status, 0, push.stderr)
  const theirsRun = nsx(['run', '--rm', '--hostname', 'seedhost', '--image', `${reg.host}/buildah/seed:1`], {env: e})
  assert.equal(theirsRun.status, 0, theirsRun.stderr)
  assert.equal(theirsRun.stdout, ours.stdout)

  // Unchanged: every file step from the cache, no RUN runs, the same image.
  const id = nsxJson<{id: string}>(['build', '-q', ctx], {env: e}).id
  const again = nsx(['build', '-t', 'seed:1', ctx], {env: e})
  assert.equal(again.status, 0, again.stderr)
  assert.doesNotMatch(again.stdout, /RUN-42/)
  // Every step after FROM, the config-only ones too (MAINTAINER, ENV, EXPOSE, ENTRYPOINT), as docker's classic builder.
  assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 8)
  assert.equal(nsxJson<{id: string}>(['build', '-q', ctx], {env: e}).id, id)
  // A changed file: its COPY and the steps after it run again; MAINTAINER and the first RUN stay cached.
  writeFileSync(join(ctx, 'requirements.txt'), 'pandas\n')
  const changed = nsx(['build', '-t', 'seed:2', ctx], {env: e})
  assert.equal(changed.status, 0, changed.stderr)
  assert.doesNotMatch(changed.stdout, /RUN-42/)
  assert.equal((changed.stdout.match(/Using cache/g) ?? []).length, 2)
  assert.match(nsx(['run', '--rm', '--image', 'seed:2'], {env: e}).stdout, /^built\npandas\n/)
  // --no-cache runs everything.
  assert.match(nsx(['build', '--no-cache', '-t', 'seed:3', ctx], {env: e}).stdout, /RUN-42/)
  // Once the images are removed and gc has swept their layers, the cache entries go too, and a build runs again.
  const cacheDir = join(e.NSX_ROOT!, 'build-cache')
  const before = readdirSync(cacheDir).length
  assert.equal(nsx(['rmi', 'seed:2', 'seed:3'], {env: e}).status, 0)
  assert.equal(nsx(['gc'], {env: e}).status, 0)
  assert.ok(readdirSync(cacheDir).length < before, 'stale cache entries removed')

  // Pushed by nsx, pulled by skopeo, unpacked by umoci.
  const p = nsx(['push', 'seed:1', `${reg.host}/nsx/seed:1`], {env: e})
  assert.equal(p.status, 0, p.stderr)
  const out = join(work, `pulled-${Date.now()}`)
  const c = run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/nsx/seed:1`, `oci:${out}:t`])
  assert.equal(c.status, 0, c.stderr)
  const rootfs = umociUnpack(out, 't', join(out, 'bundle'))
  assert.equal(readFileSync(join(rootfs, 'srv/app/deps'), 'utf8'), 'numpy\nscipy\n/srv/app\n')
  assert.equal(readFileSync(join(rootfs, 'bootstrap/marker'), 'utf8'), 'built\n')
  // What the RUN containers mounted (/proc, /dev, /sys, /etc/hosts, /etc/resolv.conf) is not in the image.
  for (const p of ['proc', 'dev', 'sys', 'etc/hosts', 'etc/resolv.conf']) assert.equal(statSync(join(rootfs, p), {throwIfNoEntry: false}), undefined, p)
})

test('--cache-from: only the images named are cache sources, a changed build argument is not cached; --add-host in each RUN\'s /etc/hosts', async (t) => {
  const layout = base(t)
  if (!layout) return
  const {image} = await registryWithBase(t, layout)
  // docker-py's test_build_with_cache_from, plus a build argument.
  const ctx = context({'Dockerfile': `FROM ${image}\nENV FOO=bar\nARG V=1\nRUN touch baz && echo RAN-baz\nRUN echo $V > /v && echo RAN-v\n`})
  const e = env(t)
  const count = (out: string) => (out.match(/Using cache/g) ?? []).length
  const first = nsx(['build', '-t', 'build1', ctx], {env: e})
  assert.equal(first.status, 0, first.stderr)
  const id1 = nsxJson<{id: string}>(['build', '-q', '--cache-from', 'build1', ctx], {env: e}).id
  // ENV, ARG, RUN, RUN: each from build1, and so the same image.
  const second = nsx(['build', '-t', 'build2', '--cache-from', 'build1', ctx], {env: e})
  assert.equal(second.status, 0, second.stderr)
  assert.equal(count(second.stdout), 4, second.stdout)
  assert.doesNotMatch(second.stdout, /^RAN-/m)
  assert.equal(nsxJson<{id: string}>(['build', '-q', ctx], {env: e}).id, id1)
  // An image that is not stored: no cache source at all, though the local cache has every step.
  const none = nsx(['build', '-t', 'build3', '--cache-from', 'nosuchtag', ctx], {env: e})
  assert.equal(none.status, 0, none.stderr)
  assert.equal(count(none.stdout), 0, none.stdout)
  assert.match(none.stdout, /--cache-from nosuchtag: no such image, skipped/)
  assert.match(none.stdout, /^RAN-baz$/m)
  // Another value of V: ENV and ARG from build1; both RUNs see V, so both run (docker's rule: their history names |1 V=2).
  const changed = nsx(['build', '-t', 'build4', '--cache-from', 'build1', '--build-arg', 'V=2', ctx], {env: e})
  assert.equal(changed.status, 0, changed.stderr)
  assert.equal(count(changed.stdout), 2, changed.stdout)
  assert.match(changed.stdout, /^RAN-baz$/m)
  assert.match(changed.stdout, /^RAN-v$/m)
  const v = nsx(['run', '--rm', '--image', 'build4', '--', '/bin/sh', '-c', 'cat /v'], {env: e})
  assert.equal(v.stdout, '2\n', v.stderr)
  const history = nsxJson<unknown>(['history', 'build4'], {env: e})
  assert.ok(JSON.stringify(history).includes('RUN |1 V=2 /bin/sh -c echo $V > /v'), JSON.stringify(history))

  // docker-py's test_build_with_extra_hosts: the names resolve in RUN, and are in its /etc/hosts.
  const hosts = context({'Dockerfile': `FROM ${image}\nRUN ping -c1 -W5 hello.world.test\nRUN cp /etc/hosts /hosts-file\n`})
  const hb = nsx(['build', '-t', 'hosts:1', '--add-host', 'extrahost.local.test:127.0.0.1', '--add-host', 'hello.world.test:127.0.0.1', hosts], {env: e})
  assert.equal(hb.status, 0, hb.stdout + hb.stderr)
  const file = nsx(['run', '--rm', '--image', 'hosts:1', '--', '/bin/sh', '-c', 'cat /hosts-file'], {env: e})
  assert.match(file.stdout, /^127\.0\.0\.1\textrahost\.local\.test$/m)
  assert.match(file.stdout, /^127\.0\.0\.1\thello\.world\.test$/m)
  assertOneLineError(nsx(['build', '--add-host', 'nonsense', hosts], {env: e}), 125, /invalid --add-host 'nonsense'/)
})

/** An OCI layout holding only the stored image's config and a manifest: enough for skopeo inspect --config. */
function exportOci(e: NodeJS.ProcessEnv, name: string): string {
  const dir = mkdtempSync(join(work, 'oci-'))
  const images = nsxJson<{images: {id: string; names: string[]}[]}>(['images'], {env: e})
  const img = JSON.stringify(images).includes(name) ? images.images.find((i) => i.names.includes(name)) : undefined
  assert.ok(img, `${name} not in ${JSON.stringify(images)}`)
  const config = readFileSync(join(e.NSX_ROOT!, 'images', 'sha256', img!.id.slice(7), 'config.json'))
  const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`
  mkdirSync(join(dir, 'blobs', 'sha256'), {recursive: true})
  const put = (b: Buffer) => {
    const d = digest(b)
    writeFileSync(join(dir, 'blobs', 'sha256', d.slice(7)), b)
    return {digest: d, size: b.length}
  }
  const manifest = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', ...put(config)}, layers: []}))
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  writeFileSync(join(dir, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put(manifest), annotations: {'org.opencontainers.image.ref.name': 'x'}}]}))
  return dir
}

test('multi-stage, scratch, ARG, .dockerignore, ADD of a tar, --chown, SHELL, LABEL, USER, escape directive', async (t) => {
  const layout = base(t)
  if (!layout) return
  const {image} = await registryWithBase(t, layout)
  const tarDir = mkdtempSync(join(work, 'tar-'))
  mkdirSync(join(tarDir, 'pkg'))
  writeFileSync(join(tarDir, 'pkg', 'inside'), 'from the tar\n')
  const ctx = context({
    '.dockerignore': 'secret*\n*.log\n!keep.log\n',
    'secret.txt': 'no',
    'debug.log': 'no',
    'keep.log': 'kept\n',
    'app/a.txt': 'a\n',
    'app/b.txt': 'b\n',
    'Dockerfile': `# escape=\`
ARG BASE=${image}
FROM \${BASE} AS build
ARG GREETING=hello
LABEL org.example.name="nsx test" version=1
RUN echo "$GREETING from build" > /greeting && \`
    echo passwd-line && echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group
COPY --chown=app:app app/*.txt /data/
COPY *.log /logs/
ADD pkg.tar.gz /opt/
SHELL ["/bin/sh", "-e", "-c"]
RUN ls /logs > /listing; stat -c '%u:%g %n' /data/a.txt >> /listing; cat /opt/pkg/inside >> /listing
USER app
STOPSIGNAL SIGINT

FROM scratch
COPY --from=build /bin/busybox /bin/
COPY --from=build /greeting /listing /out/
CMD ["/bin/busybox", "cat", "/out/greeting", "/out/listing"]
`,
  })
  run('tar', ['-czf', join(ctx, 'pkg.tar.gz'), '-C', tarDir, 'pkg'])
  const e = env(t)
  const b = nsx(['build', '-t', 'multi:1', '--build-arg', 'GREETING=bonjour', ctx], {env: e})
  assert.equal(b.status, 0, b.stderr)
  const out = nsx(['run', '--rm', '--image', 'multi:1'], {env: e})
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stdout, 'bonjour from build\nkeep.log\n1000:1000 /data/a.txt\nfrom the tar\n')
  // The build stage by --target: its labels, user, stop signal; the build argument is not in its Env.
  const tb = nsxJson<{id: string}>(['build', '--target', 'build', '-t', 'multi:build', ctx], {env: e})
  const cfg = JSON.parse(readFileSync(join(e.NSX_ROOT!, 'images', 'sha256', tb.id.slice(7), 'config.json'), 'utf8'))
  assert.deepEqual(cfg.config.Labels, {'org.example.name': 'nsx test', version: '1'})
  assert.equal(cfg.config.User, 'app')
  assert.equal(cfg.config.StopSignal, 'SIGINT')
  assert.deepEqual(cfg.config.Shell, ['/bin/sh', '-e', '-c'])
  assert.ok(!cfg.config.Env.some((x: string) => x.startsWith('GREETING=')))
  // One history entry per layer that is not empty, as the OCI spec wants.
  assert.equal(cfg.history.filter((h: {empty_layer?: boolean}) => !h.empty_layer).length, cfg.rootfs.diff_ids.length)
})

test('a failing step: step, line and status in one line; no image, nothing left in tmp/', async (t) => {
  const layout = base(t)
  if (!layout) return
  const {image} = await registryWithBase(t, layout)
  const ctx = context({'Dockerfile': `FROM ${image}\nRUN echo first > /f\nRUN echo doomed > /g && exit 7\nCMD ["true"]\n`})
  const e = env(t)
  assert.equal(nsx(['pull', '-q', image], {env: e}).status, 0)
  const r = nsx(['build', '-t', 'broken:1', ctx], {env: e})
  assert.equal(r.status, 1)
  const last = r.stderr.trim().split('\n')
  assert.equal(last.length, 1, r.stderr)
  assert.match(last[0], /^nsx build: step 3\/4 \(Dockerfile line 3: RUN echo doomed > \/g && exit 7\): the command exited with status 7$/)
  assert.deepEqual(readdirSync(join(e.NSX_ROOT!, 'tmp')), [])
  assert.deepEqual(readdirSync(join(e.NSX_ROOT!, 'images', 'sha256')).filter((n) => statSync(join(e.NSX_ROOT!, 'images', 'sha256', n)).isDirectory() && readFileSync(join(e.NSX_ROOT!, 'images', 'sha256', n, 'image.json'), 'utf8').includes('"build"')), [])
  assertOneLineError(nsx(['images', 'broken:1'], {env: e}), 1)
  assertOneLineError(nsx(['build', '-t', 'x', join(ctx, 'nope')], {env: e}), 1, /build context .*: no such directory/)
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${image}\nCOPY missing.txt /\n`)
  assertOneLineError(nsx(['build', ctx], {env: e}), 1, /step 2\/2 \(Dockerfile line 2: COPY missing.txt \/\): COPY failed: missing.txt: not found in the build context/)
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${image}\nFROBNICATE x\n`)
  assertOneLineError(nsx(['build', ctx], {env: e}), 1, /Dockerfile:2: unknown instruction FROBNICATE/)
})
