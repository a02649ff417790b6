import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Router, stripVersion} from '../../src/api/router.js'
import {ApiError, queryBool, queryFilters, statusOf} from '../../src/api/http.js'
import {activationFd, parseAddress} from '../../src/api/server.js'
import {NsxError} from '../../src/cli/errors.js'

const h = () => undefined

test('the version prefix is stripped; unversioned paths stay as they are', () => {
  assert.deepEqual(stripVersion('/v1.41/containers/json'), {version: '1.41', path: '/containers/json'})
  assert.deepEqual(stripVersion('/containers/json'), {path: '/containers/json'})
  assert.deepEqual(stripVersion('/v1.41x/containers'), {path: '/v1.41x/containers'})
})

test('routes match by method and path, with one-segment and rest-of-path parameters', () => {
  const r = new Router([
    {method: 'GET', path: '/containers/{id}/json', handler: h},
    {method: 'POST', path: '/containers/{id}/start', handler: h},
    {method: 'GET', path: '/images/{name*}/json', handler: h},
  ])
  assert.deepEqual((r.match('GET', '/containers/abc/json') as {params: object}).params, {id: 'abc'})
  assert.deepEqual((r.match('GET', '/images/localhost:5000/a/b:1/json') as {params: object}).params, {name: 'localhost:5000/a/b:1'})
  assert.deepEqual((r.match('HEAD', '/containers/abc/json') as {params: object}).params, {id: 'abc'}, 'HEAD falls back to GET')
  assert.deepEqual(r.match('GET', '/containers/abc/start'), {methods: ['POST']})
  assert.equal(r.match('GET', '/nothing'), undefined)
})

test('query booleans as clients send them', () => {
  const q = new URLSearchParams('a=1&b=true&c=True&d=0&e=false&f=False&g=')
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => queryBool(q, k)), [true, true, true, false, false, false, false, false])
  assert.throws(() => queryBool(new URLSearchParams('x=yes'), 'x'), (e: unknown) => e instanceof ApiError && e.status === 400)
})

test('filters: the list form and the old map form', () => {
  const f = queryFilters(new URLSearchParams({filters: JSON.stringify({label: ['a=b'], status: {running: true, exited: false}})}))
  assert.deepEqual(Object.fromEntries(f), {label: ['a=b'], status: ['running']})
  assert.throws(() => queryFilters(new URLSearchParams({filters: '{'})), (e: unknown) => e instanceof ApiError && e.status === 400)
})

test("domain errors get docker's statuses from their kinds, not their wording", () => {
  assert.equal(statusOf(NsxError.notFound('No such container: x', 1)), 404)
  assert.equal(statusOf(NsxError.conflict('container web is not running', 1)), 409)
  assert.equal(statusOf(NsxError.conflict('the name "web" is already in use by container 1234', 125)), 409)
  assert.equal(statusOf(new Error('boom')), 500)
  // Worded like a conflict, yet a bad argument: the kind decides.
  assert.equal(statusOf(NsxError.invalid('conflicting options: --restart and --rm (a container removed when it ends cannot be restarted)', 125)), 400)
  // No kind: 500 whatever it says (the wording once made this a 404).
  assert.equal(statusOf(new NsxError('No such container: x', 1)), 500)
})

test('addresses and socket activation', () => {
  assert.deepEqual(parseAddress('unix:///run/nsx/docker.sock'), {kind: 'unix', path: '/run/nsx/docker.sock'})
  assert.deepEqual(parseAddress('tcp://127.0.0.1:2376'), {kind: 'tcp', host: '127.0.0.1', port: 2376})
  assert.throws(() => parseAddress('http://x'), /invalid address/)
  assert.equal(activationFd({LISTEN_FDS: '1', LISTEN_PID: String(process.pid)}), 3)
  assert.equal(activationFd({LISTEN_FDS: '1', LISTEN_PID: '1'}), undefined)
  assert.equal(activationFd({}), undefined)
})

test("docker's create body becomes nsx run's arguments, and what nsx cannot honour is refused", async () => {
  const {createArgs} = await import('../../src/api/create-body.js')
  const {parseRunArgs} = await import('../../src/container/options.js')
  const args = createArgs({
    Image: 'busybox', Cmd: ['sh', '-c', 'echo hi'], Env: ['A=1', 'B'], Tty: true, OpenStdin: true, WorkingDir: '/tmp', Labels: {'com.example': 'x=y'},
    HostConfig: {Binds: ['/srv:/data:ro'], AutoRemove: true, Memory: 64 * 1024 * 1024, NanoCpus: 5e8, NetworkMode: 'default', RestartPolicy: {Name: ''}},
  }, 'web')
  const o = parseRunArgs(args)
  assert.equal(o.name, 'web')
  assert.equal(o.image, 'busybox')
  assert.deepEqual(o.command, ['sh', '-c', 'echo hi'])
  assert.deepEqual(o.env, ['A=1', 'B'], 'an entry without = is kept as sent (NAME unset), never resolved from the service\'s environment')
  assert.equal(o.tty && o.interactive && o.rm, true)
  assert.deepEqual(o.volumes, ['/srv:/data:ro'])
  assert.deepEqual(o.labels, ['com.example=x=y'])
  assert.equal(o.memory, String(64 * 1024 * 1024))
  assert.equal(o.cpus, '0.5')
  const ep = parseRunArgs(createArgs({Image: 'busybox', Entrypoint: ['/bin/echo', 'a'], Cmd: ['b']}))
  assert.equal(ep.entrypoint, '/bin/echo')
  assert.deepEqual(ep.command, ['a', 'b'])
  assert.throws(() => createArgs({}), (e: unknown) => e instanceof ApiError && e.status === 400)
  // The log driver, isolation and volume driver go to nsx run's flags, which check them (src/lifecycle/create.ts).
  assert.deepEqual(createArgs({Image: 'busybox', HostConfig: {LogConfig: {Type: 'none'}, Isolation: 'default', VolumeDriver: 'foo'}}).slice(0, 6), ['--log-driver', 'none', '--isolation', 'default', '--volume-driver', 'foo'])
})
