import {after, test, TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, nsxJson, run} from '../helpers/env.js'
import {buildBusyboxOci} from '../helpers/images.js'
import {freePort, needRegistry, startRegistry, TestRegistry} from '../helpers/registry.js'
import {docker, dockerCli, startService} from '../helpers/docker-cli.js'
import {api, swaggerChecker} from '../helpers/api.js'

/**
 * Registry mirrors from containers-registries.conf(5) (CONTAINERS_REGISTRIES_CONF, a file of the
 * test's own), against Debian's docker-registry on loopback: a docker.io name pulled through its
 * mirror keeps its name; the registry itself is tried after the mirrors; a repository nobody has
 * is docker's "pull access denied ... repository does not exist" (404 through the API, exit 1
 * from nsx pull and docker pull, 125 from nsx run); an unreachable registry is Go's dial error
 * (500); GET /distribution/{name}/json answers through the mirror. No test reaches beyond
 * loopback: every registry entry's own location is a closed 127.0.0.1 port.
 */

const work = mkdtempSync(join(tmpdir(), 'nsx-mirrors-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

let fixture: string | undefined
function layout(t: TestContext): string | undefined {
  if (!needRoot(t) || !needRegistry(t) || !needCommand(t, 'umoci', 'umoci') || !needCommand(t, 'skopeo', 'skopeo') || !needCommand(t, 'busybox', 'busybox-static')) return undefined
  if (!fixture) {
    const dir = join(work, 'fixture')
    mkdirSync(dir)
    fixture = buildBusyboxOci(dir)
  }
  return fixture
}

function skopeoPush(src: string, reg: TestRegistry, repo: string): void {
  const r = run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${src}:latest`, `docker://${reg.host}/${repo}`])
  assert.equal(r.status, 0, r.stderr)
}

/** An empty store, a home, and a registries.conf of the test's own. */
function env(t: TestContext, conf: string): NodeJS.ProcessEnv & {NSX_ROOT: string} {
  const d = mkdtempSync(join(work, 'env-'))
  t.after(() => rmSync(d, {recursive: true, force: true}))
  mkdirSync(join(d, 'home'))
  writeFileSync(join(d, 'registries.conf'), conf)
  return {...process.env, NSX_ROOT: join(d, 'store'), HOME: join(d, 'home'), XDG_RUNTIME_DIR: d, REGISTRY_AUTH_FILE: '', CONTAINERS_REGISTRIES_CONF: join(d, 'registries.conf'), NSX_NETWORK: 'none'}
}

/** docker.io (and a made-up registry) located at a closed loopback port, each with the test registry as its mirror. */
async function mirrorConf(reg: TestRegistry, extra = ''): Promise<{conf: string; closed: number}> {
  const closed = await freePort()
  const conf = `# nsx test
[[registry]]
prefix = "docker.io"
location = "127.0.0.1:${closed}"
[[registry.mirror]]
location = "${reg.host}"
insecure = true

[[registry]]
location = "registry.nsx.test"
[[registry.mirror]]
location = "${reg.host}/ns"
insecure = true
${extra}`
  return {conf, closed}
}

function leftovers(store: string): {tmp: string[]; layers: string[]; images: string[]} {
  const ls = (p: string) => {
    try {
      return readdirSync(join(store, p))
    } catch {
      return []
    }
  }
  return {tmp: ls('tmp'), layers: ls('layers/sha256'), images: ls('images/sha256')}
}

test('a docker.io name pulled through its mirror keeps its name; a namespaced mirror; the mirror is skipped when it lacks the image', async (t) => {
  const src = layout(t)
  if (!src) return
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'library/alpine:3.10')
  skopeoPush(src, reg, 'ns/tools/bb:1')
  const {conf} = await mirrorConf(reg)
  const e = env(t, conf)
  const r = nsx(['pull', 'alpine:3.10'], {env: e})
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^Pulled alpine:3\.10 \(image [0-9a-f]{12}, digest sha256:[0-9a-f]{64}\)\n$/)
  const images = nsxJson<{images: {names: string[]}[]}>(['images'], {env: e})
  assert.deepEqual(images.images.map((i) => i.names), [['alpine:3.10']])
  // The same image under every docker.io spelling; run by its docker.io name.
  const out = nsx(['run', '--rm', '--image', 'docker.io/library/alpine:3.10', '--', '/bin/sh', '-c', 'echo mirrored'], {env: e})
  assert.equal(out.stdout, 'mirrored\n', out.stderr)
  // registry.nsx.test/tools/bb:1 lives at the mirror's ns/ path.
  const ns = nsx(['pull', '-q', 'registry.nsx.test/tools/bb:1'], {env: e})
  assert.equal(ns.status, 0, ns.stderr)
  assert.ok(nsxJson<{images: {names: string[]}[]}>(['images'], {env: e}).images.some((i) => i.names.includes('registry.nsx.test/tools/bb:1')))
  // A location rewrite, for push and pull alike: push.nsx.test/app lives at the test registry's pushed/app.
  const rw = env(t, `${conf}\n[[registry]]\nprefix = "push.nsx.test"\nlocation = "${reg.host}/pushed"\ninsecure = true\n`)
  assert.equal(nsx(['pull', '-q', 'alpine:3.10'], {env: rw}).status, 0)
  const pushed = nsx(['push', '-q', 'alpine:3.10', 'push.nsx.test/app:1'], {env: rw})
  assert.equal(pushed.status, 0, pushed.stderr)
  const there = run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/pushed/app:1`])
  assert.equal(there.status, 0, there.stderr)
  assert.equal(nsx(['rmi', 'alpine:3.10'], {env: rw}).status, 0)
  const back = nsx(['pull', '-q', 'push.nsx.test/app:1'], {env: rw})
  assert.equal(back.status, 0, back.stderr)
  // A mirror that lacks the image is passed over for the next source: here a second mirror.
  const two = env(t, `[[registry]]\nprefix = "docker.io"\nlocation = "127.0.0.1:${await freePort()}"\n[[registry.mirror]]\nlocation = "${reg.host}/empty"\ninsecure = true\n[[registry.mirror]]\nlocation = "${reg.host}"\ninsecure = true\n`)
  const r2 = nsx(['pull', '-q', 'alpine:3.10'], {env: two})
  assert.equal(r2.status, 0, r2.stderr)
  // mirror-by-digest-only: a tag does not go to the mirror, so the (closed) registry answers.
  const digestOnly = env(t, `[[registry]]\nprefix = "docker.io"\nlocation = "127.0.0.1:${await freePort()}"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "${reg.host}"\ninsecure = true\n`)
  assertOneLineError(nsx(['pull', 'alpine:3.10'], {env: digestOnly}), 1, /^nsx pull: Get "http:\/\/127\.0\.0\.1:\d+\/v2\/": dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/)
  // A blocked registry is refused before anything is asked.
  const blocked = env(t, `[[registry]]\nlocation = "registry.nsx.test"\nblocked = true\n`)
  assertOneLineError(nsx(['pull', 'registry.nsx.test/x:1'], {env: blocked}), 1, /registry registry\.nsx\.test is blocked in .*registries\.conf/)
  // A malformed file is one line naming it.
  const bad = env(t, '[[registry]\nlocation = 1\n')
  assertOneLineError(nsx(['pull', 'alpine:3.10'], {env: bad}), 1, /registries\.conf: not valid TOML/)
})

test("a repository nobody has: docker's words, 404 through the API, docker's exit codes, nothing left", async (t) => {
  const src = layout(t)
  if (!src) return
  const bin = dockerCli(t)
  if (!bin) return
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'library/alpine:3.10')
  const {conf, closed} = await mirrorConf(reg)
  const e = env(t, conf)
  const denied = /^nsx pull: pull access denied for nosuch, repository does not exist or may require 'docker login': manifest unknown: .* \(at mirror 127\.0\.0\.1:\d+; 127\.0\.0\.1:\d+ not reached: Get "http:\/\/127\.0\.0\.1:\d+\/v2\/": dial tcp .*connection refused\)$/
  assertOneLineError(nsx(['pull', 'nosuch'], {env: e}), 1, denied)
  // The tag missing, the repository there: docker's "manifest for ... not found".
  assertOneLineError(nsx(['pull', 'alpine:9.99'], {env: e}), 1, /^nsx pull: manifest for alpine:9\.99 not found: manifest unknown: /)
  // nsx run pulls a missing image: the same words, exit 125.
  const ran = nsx(['run', '--rm', '--image', 'nosuch', '--', 'true'], {env: e})
  assert.equal(ran.status, 125, ran.stderr)
  assert.match(ran.stderr, /pull access denied for nosuch, repository does not exist/)
  assert.deepEqual(leftovers(e.NSX_ROOT), {tmp: [], layers: [], images: []}, 'a failed pull leaves nothing')

  const dir = mkdtempSync(join(work, 'svc-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const svc = await startService(t, dir, e)
  const created = await api(svc.socket, 'POST', '/v1.41/images/create?fromImage=dockerpytest_does_not_exist&tag=latest')
  assert.equal(created.status, 404, created.body)
  assert.match(JSON.parse(created.body).message, /^pull access denied for dockerpytest_does_not_exist, repository does not exist or may require 'docker login'/)
  // docker pull: the daemon's words after "Error response from daemon", exit 1.
  const dp = docker(svc, ['pull', 'nosuch'])
  assert.equal(dp.status, 1, dp.stderr)
  assert.match(dp.stderr, /Error response from daemon: pull access denied for nosuch, repository does not exist or may require 'docker login'/)
  // docker run: create answers 404, the CLI pulls, fails: 125.
  const dr = docker(svc, ['run', '--rm', 'nosuch', 'true'])
  assert.equal(dr.status, 125, dr.stderr)
  assert.match(dr.stderr, /pull access denied for nosuch/)
  // A registry not reached, no mirror: Go's dial error, 500.
  const unreachable = await api(svc.socket, 'POST', `/v1.41/images/create?fromImage=127.0.0.1:${closed}/x&tag=1`)
  assert.equal(unreachable.status, 500, unreachable.body)
  assert.match(JSON.parse(unreachable.body).message, new RegExp(`^Get "http://127\\.0\\.0\\.1:${closed}/v2/": dial tcp 127\\.0\\.0\\.1:${closed}: connect: connection refused$`))
  // Through the mirror, by the API: pulled under its docker.io name.
  const ok = await api(svc.socket, 'POST', '/v1.41/images/create?fromImage=alpine&tag=3.10')
  assert.equal(ok.status, 200, ok.body)
  assert.match(ok.body, /Status: Downloaded newer image for alpine:3\.10/)
  const listed = JSON.parse((await api(svc.socket, 'GET', '/v1.41/images/json')).body) as {RepoTags: string[]}[]
  assert.deepEqual(listed.map((i) => i.RepoTags), [['alpine:3.10']])
  assert.deepEqual(leftovers(e.NSX_ROOT).tmp, [])
})

test('GET /distribution/{name}/json: the descriptor and platforms, through the mirror, swagger-checked', async (t) => {
  const src = layout(t)
  if (!src) return
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'library/busybox:latest')
  const {conf} = await mirrorConf(reg)
  const e = env(t, conf)
  const dir = mkdtempSync(join(work, 'svc-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const svc = await startService(t, dir, e)
  const check = await swaggerChecker()
  const r = await api(svc.socket, 'GET', '/v1.41/distribution/busybox:latest/json')
  assert.equal(r.status, 200, r.body)
  const body = JSON.parse(r.body) as {Descriptor: {mediaType: string; digest: string; size: number}; Platforms: object[]}
  assert.equal(check('GET', '/distribution/{name}/json', 200, body), '')
  const raw = run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/library/busybox:latest`])
  assert.equal(raw.status, 0, raw.stderr)
  assert.equal(body.Descriptor.size, Buffer.byteLength(raw.stdout))
  assert.equal(body.Descriptor.mediaType, 'application/vnd.oci.image.manifest.v1+json')
  assert.match(body.Descriptor.digest, /^sha256:[0-9a-f]{64}$/)
  assert.deepEqual(body.Platforms, [{architecture: 'amd64', os: 'linux'}])
  const missing = await api(svc.socket, 'GET', '/v1.41/distribution/nosuch:1/json')
  assert.equal(missing.status, 404, missing.body)
  assert.match(JSON.parse(missing.body).message, /^pull access denied for nosuch, repository does not exist/)
  assert.deepEqual(leftovers(e.NSX_ROOT), {tmp: [], layers: [], images: []}, 'an inspect stores nothing')
})

test('every tag: nsx pull --all-tags, and the API pull without a tag (docker-py all_tags), through the mirror', async (t) => {
  const src = layout(t)
  if (!src) return
  const reg = await startRegistry(t)
  skopeoPush(src, reg, 'library/hello-world:latest')
  skopeoPush(src, reg, 'library/hello-world:linux')
  const {conf} = await mirrorConf(reg)
  const e = env(t, conf)
  const all = nsxJson<{name: string}[]>(['pull', '--all-tags', 'hello-world'], {env: e})
  assert.deepEqual(all.map((r) => r.name).sort(), ['hello-world:latest', 'hello-world:linux'])
  assertOneLineError(nsx(['pull', '-a', 'hello-world:latest'], {env: e}), 1, /tag can't be used with --all-tags\/-a/)
  assertOneLineError(nsx(['pull', '-a', 'nosuch'], {env: e}), 1, /pull access denied for nosuch, repository does not exist/)
  assert.equal(nsx(['rmi', 'hello-world:latest', 'hello-world:linux'], {env: e}).status, 0)
  const dir = mkdtempSync(join(work, 'svc-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const svc = await startService(t, dir, e)
  const r = await api(svc.socket, 'POST', '/v1.41/images/create?fromImage=hello-world')
  assert.equal(r.status, 200, r.body)
  assert.match(r.body, /Status: Downloaded newer image for hello-world\b/)
  const tags = (JSON.parse((await api(svc.socket, 'GET', '/v1.41/images/json')).body) as {RepoTags: string[]}[]).flatMap((i) => i.RepoTags).sort()
  assert.deepEqual(tags, ['hello-world:latest', 'hello-world:linux'])
})
