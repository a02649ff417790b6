import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseReference} from '../../src/image/reference.js'
import {RegistryError, RegistryUnreachable} from '../../src/registry/client.js'
import {PullError, pullFailure} from '../../src/registry/pull-error.js'
import {findRegistry, loadRegistriesConf, parseRegistriesConf, pullSources, RegistriesConf, registriesConfFiles, registrySource} from '../../src/registry/registries-conf.js'

const conf = (text: string): RegistriesConf => ({registries: parseRegistriesConf(text, 'test.conf'), files: ['test.conf']})
const D = `sha256:${'b'.repeat(64)}`

test('registries.conf v2: a docker.io mirror, tried before the registry; the name is kept', () => {
  const c = conf(`
unqualified-search-registries = ["docker.io"]
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:5000"
insecure = true
[[registry.mirror]]
location = "mirror.example.com/hub/"
`)
  assert.deepEqual(c.registries[0], {
    prefix: 'docker.io',
    location: 'docker.io',
    insecure: false,
    blocked: false,
    mirrorByDigestOnly: false,
    mirrors: [
      {location: '127.0.0.1:5000', insecure: true, pullFromMirror: 'all'},
      {location: 'mirror.example.com/hub', insecure: false, pullFromMirror: 'all'},
    ],
    file: 'test.conf',
  })
  assert.deepEqual(pullSources(c, parseReference('alpine:3.10')), [
    {registry: '127.0.0.1:5000', repository: 'library/alpine', insecure: true, mirror: true},
    {registry: 'mirror.example.com', repository: 'hub/library/alpine', insecure: false, mirror: true},
    {registry: 'docker.io', repository: 'library/alpine', insecure: false, mirror: false},
  ])
  // A registry with no entry: itself only.
  assert.deepEqual(pullSources(c, parseReference('quay.io/x/y:1')), [{registry: 'quay.io', repository: 'x/y', insecure: false, mirror: false}])
})

test('registries.conf: prefixes match at path boundaries, the longest wins; location rewrites; wildcards', () => {
  const c = conf(`
[[registry]]
prefix = "example.com/foo"
location = "internal.example.com:5000/bar"
[[registry]]
location = "example.com"
insecure = true
[[registry]]
prefix = "*.corp.test"
blocked = true
`)
  assert.equal(findRegistry(c, parseReference('example.com/foo/app:1'))?.prefix, 'example.com/foo')
  assert.equal(findRegistry(c, parseReference('example.com/foobar/app:1'))?.prefix, 'example.com', 'not at a path boundary')
  assert.deepEqual(pullSources(c, parseReference('example.com/foo/app:1')), [{registry: 'internal.example.com:5000', repository: 'bar/app', insecure: false, mirror: false}])
  assert.deepEqual(pullSources(c, parseReference('example.com/other:1')), [{registry: 'example.com', repository: 'other', insecure: true, mirror: false}])
  assert.throws(() => pullSources(c, parseReference('registry.corp.test/a:1')), /registry registry\.corp\.test is blocked in test\.conf/)
  // A push goes to the registry at its location, never to a mirror.
  assert.deepEqual(registrySource(c, parseReference('example.com/foo/app:1')), {registry: 'internal.example.com:5000', repository: 'bar/app', insecure: false, mirror: false})
  assert.throws(() => registrySource(c, parseReference('registry.corp.test/a:1')), /blocked/)
  assert.equal(findRegistry(c, parseReference('corp.test/a:1')), undefined, 'a wildcard covers subdomains only')
})

test('registries.conf: mirrors by digest only, pull-from-mirror', () => {
  const c = conf(`
[[registry]]
location = "docker.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "m1.test"
[[registry]]
location = "quay.io"
[[registry.mirror]]
location = "d.test"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "t.test"
pull-from-mirror = "tag-only"
`)
  assert.deepEqual(pullSources(c, parseReference('busybox:1')).map((s) => s.registry), ['docker.io'])
  assert.deepEqual(pullSources(c, parseReference(`busybox@${D}`)).map((s) => s.registry), ['m1.test', 'docker.io'])
  assert.deepEqual(pullSources(c, parseReference('quay.io/a/b:1')).map((s) => s.registry), ['t.test', 'quay.io'])
  assert.deepEqual(pullSources(c, parseReference(`quay.io/a/b@${D}`)).map((s) => s.registry), ['d.test', 'quay.io'])
})

test('registries.conf v1: insecure and block lists', () => {
  const c = conf(`
[registries.search]
registries = ["docker.io"]
[registries.insecure]
registries = ["127.0.0.1:5000"]
[registries.block]
registries = ["bad.test"]
`)
  assert.deepEqual(pullSources(c, parseReference('127.0.0.1:5000/a:1')), [{registry: '127.0.0.1:5000', repository: 'a', insecure: true, mirror: false}])
  assert.throws(() => pullSources(c, parseReference('bad.test/a:1')), /blocked/)
})

test('registries.conf: bad files are one line naming the file and the key', () => {
  const bad: [string, RegExp][] = [
    ['[[registry]\n', /test\.conf: not valid TOML: /],
    ['[[registry]]\ninsecure = true\n', /a \[\[registry\]\] needs a location/],
    ['[[registry]]\nlocation = "https://docker.io"\n', /without a scheme/],
    ['[[registry]]\nlocation = 5\n', /location must be a string/],
    ['[[registry]]\nlocation = "a.test"\ninsecure = "yes"\n', /insecure must be true or false/],
    ['[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\ninsecure = true\n', /a mirror of a\.test needs a location/],
    ['[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = "sometimes"\n', /pull-from-mirror is all, digest-only or tag-only/],
    ['[[registry]]\nlocation = "a.test"\n[[registry]]\nlocation = "a.test"\n', /two \[\[registry\]\] entries with the prefix a\.test/],
    ['[registries.insecure]\nregistries = ["a.test"]\n[[registry]]\nlocation = "b.test"\n', /mixes the v1/],
  ]
  for (const [text, re] of bad) assert.throws(() => parseRegistriesConf(text, 'test.conf'), re, text)
  // A mirror whose location is not a registry host cannot be used.
  const c = conf('[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "mirror"\n')
  assert.throws(() => pullSources(c, parseReference('busybox')), /'mirror' does not start with a registry host/)
})

test('registries.conf files: $CONTAINERS_REGISTRIES_CONF, then the drop-ins; a drop-in replaces an entry by prefix; a missing file is empty', () => {
  const d = mkdtempSync(join(tmpdir(), 'nsx-regconf-'))
  try {
    const home = join(d, 'home')
    const drop = join(home, '.config', 'containers', 'registries.conf.d')
    mkdirSync(drop, {recursive: true})
    writeFileSync(join(d, 'main.conf'), '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "a.test"\n[[registry]]\nlocation = "quay.io"\n')
    writeFileSync(join(drop, '50-mirror.conf'), '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "b.test"\n')
    writeFileSync(join(drop, 'ignored.txt'), 'not toml [[')
    const env = {CONTAINERS_REGISTRIES_CONF: join(d, 'main.conf'), HOME: home}
    const files = registriesConfFiles(env)
    assert.equal(files[0], join(d, 'main.conf'))
    assert.equal(files.at(-1), join(drop, '50-mirror.conf'))
    const c = loadRegistriesConf(env)
    assert.deepEqual(pullSources(c, parseReference('busybox')).map((s) => s.registry), ['b.test', 'docker.io'])
    assert.deepEqual(c.registries.map((r) => r.prefix).sort(), ['docker.io', 'quay.io'])
    // The user's own registries.conf stands in for /etc's when there is no variable.
    writeFileSync(join(home, '.config', 'containers', 'registries.conf'), '[[registry]]\nlocation = "ghcr.io"\n')
    assert.equal(registriesConfFiles({HOME: home})[0], join(home, '.config', 'containers', 'registries.conf'))
    assert.deepEqual(loadRegistriesConf({CONTAINERS_REGISTRIES_CONF: join(d, 'missing.conf'), HOME: join(d, 'nohome')}).registries, [])
  } finally {
    rmSync(d, {recursive: true, force: true})
  }
})

test("pull failures in docker's words: not found 404, unreachable 500, a mirror's answer when the registry is not reached", () => {
  const ref = parseReference('nosuch')
  const mirror = {registry: '127.0.0.1:5000', repository: 'library/nosuch', insecure: true, mirror: true}
  const hub = {registry: 'docker.io', repository: 'library/nosuch', insecure: false, mirror: false}
  const unknown = new RegistryError('pull nosuch: manifest unknown', 404, 'MANIFEST_UNKNOWN', 'manifest unknown')
  const dial = new RegistryUnreachable('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host', 'docker.io')
  const denied = new RegistryError('x', 401, 'DENIED', 'requested access to the resource is denied')

  const a = pullFailure(ref, [{source: hub, err: denied}]) as PullError
  assert.equal(a.status, 404)
  assert.equal(a.message, "pull access denied for nosuch, repository does not exist or may require 'docker login': denied: requested access to the resource is denied")
  const b = pullFailure(parseReference('alpine:9'), [{source: hub, err: unknown}]) as PullError
  assert.equal(b.message, 'manifest for alpine:9 not found: manifest unknown: manifest unknown')
  const c = pullFailure(ref, [{source: hub, err: unknown, repositoryMissing: true}]) as PullError
  assert.match(c.message, /^pull access denied for nosuch, repository does not exist/)
  const d = pullFailure(ref, [{source: hub, err: dial}]) as PullError
  assert.equal(d.status, 500)
  assert.equal(d.message, dial.message)
  const e = pullFailure(ref, [{source: mirror, err: unknown, repositoryMissing: true}, {source: hub, err: dial}]) as PullError
  assert.equal(e.status, 404)
  assert.equal(e.message, `pull access denied for nosuch, repository does not exist or may require 'docker login': manifest unknown: manifest unknown (at mirror 127.0.0.1:5000; docker.io not reached: ${dial.message})`)
  // The registry's own answer wins over the mirrors', which are appended.
  const f = pullFailure(ref, [{source: mirror, err: dial}, {source: hub, err: dial}]) as PullError
  assert.equal(f.status, 500)
  assert.equal(f.message, `${dial.message} (mirrors also failed: mirror 127.0.0.1:5000: ${dial.message})`)
  // Anything else passes through unchanged with one source.
  const other = new Error('disk full')
  assert.equal(pullFailure(ref, [{source: hub, err: other}]), other)
})
