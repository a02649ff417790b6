import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {api, ApiService, conformsOn, startApiService, swaggerChecker} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {containerToolsPresent, Fixture, makeFixture} from '../helpers/container.js'
import {IN_CI} from '../helpers/env.js'

/**
 * The service's answers checked against moby's own definition of API 1.41 (the swagger file in
 * test/fixtures/moby), endpoint by endpoint: what the docker CLI, docker-py and compose parse.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-apisw-') : undefined
let svc: ApiService | undefined
after(() => svc?.stop())
let check: Awaited<ReturnType<typeof swaggerChecker>>

before(async () => {
  check = await swaggerChecker()
  if (!fx) return
  mkdirSync(join(fx.dir, 'img'), {recursive: true})
  const l = fx.nsx(['load', '-i', buildBusyboxArchive(join(fx.dir, 'img'))])
  assert.equal(l.status, 0, l.stderr)
  svc = await startApiService(fx.dir, fx.env)
})

const conforms = (method: string, url: string, template: string, body?: object): Promise<unknown> => conformsOn(svc!.socket, check, method, url, template, body)

test('responses conform to moby swagger 1.41: system, containers, exec, errors', async (t) => {
  if (!fx) {
    if (IN_CI) assert.fail('needs root, gcc and busybox-static')
    return t.skip('needs root, gcc and busybox-static')
  }
  await conforms('GET', '/version', '/version')
  await conforms('GET', '/info', '/info')
  const created = await conforms('POST', '/containers/create?name=sw', '/containers/create', {Image: 'busybox', Cmd: ['sh', '-c', 'echo hi; sleep 1000'], Labels: {a: 'b'}}) as {Id: string}
  await conforms('GET', '/containers/json?all=1', '/containers/json')
  await conforms('GET', '/containers/sw/json', '/containers/{id}/json')
  const start = await api(svc!.socket, 'POST', '/v1.41/containers/sw/start')
  assert.equal(start.status, 204, start.body)
  assert.equal((await api(svc!.socket, 'POST', '/v1.41/containers/sw/start')).status, 304, 'a second start is 304')
  const listed = await conforms('GET', '/containers/json', '/containers/json') as {Id: string; State: string}[]
  assert.deepEqual(listed.map((c) => [c.Id, c.State]), [[created.Id, 'running']])
  await conforms('GET', '/containers/sw/json', '/containers/{id}/json')
  await conforms('GET', '/containers/sw/top', '/containers/{id}/top')
  const stats = await conforms('GET', '/containers/sw/stats?stream=false', '/containers/{id}/stats') as {memory_stats: {usage: number}; pids_stats: {current: number}}
  assert.ok(stats.memory_stats.usage > 0 && stats.pids_stats.current >= 2, JSON.stringify(stats))
  const exec = await conforms('POST', '/containers/sw/exec', '/containers/{id}/exec', {Cmd: ['true'], AttachStdout: true}) as {Id: string}
  // Before it ran, ExitCode is null as docker's daemon has it (its swagger says integer: the one field where the daemon and its definition differ).
  const before = JSON.parse((await api(svc!.socket, 'GET', `/v1.41/exec/${exec.Id}/json`)).body) as {Running: boolean; ExitCode: number | null}
  assert.deepEqual([before.Running, before.ExitCode], [false, null])
  const run = await api(svc!.socket, 'POST', `/v1.41/exec/${exec.Id}/start`, JSON.stringify({Detach: false}))
  assert.equal(run.status, 200)
  const done = await conforms('GET', `/exec/${exec.Id}/json`, '/exec/{id}/json') as {ExitCode: number}
  assert.equal(done.ExitCode, 0)
  assert.equal((await api(svc!.socket, 'POST', '/v1.41/containers/sw/kill?signal=TERM')).status, 204)
  // Error is null when there is none, as docker's daemon sends it (the docker CLI reads any object there as a failure).
  const waitReply = await api(svc!.socket, 'POST', '/v1.41/containers/sw/wait')
  const waited = JSON.parse(waitReply.body) as {StatusCode: number; Error: unknown}
  assert.deepEqual(waited, {StatusCode: 143, Error: null})
  assert.equal(check('POST', '/containers/{id}/wait', 200, {StatusCode: waited.StatusCode}), '')
  const notFound = await api(svc!.socket, 'GET', '/v1.41/containers/nope/json')
  assert.equal(check('GET', '/containers/{id}/json', 404, JSON.parse(notFound.body)), '')
  const pruned = await conforms('POST', '/containers/prune', '/containers/prune') as {ContainersDeleted: string[]}
  assert.deepEqual(pruned.ContainersDeleted, [created.Id])
  // The events of all that, replayed (since the epoch, until now: a finite stream), each line an EventMessage.
  const events = await api(svc!.socket, 'GET', `/v1.41/events?since=0&until=${Math.ceil(Date.now() / 1000)}&filters=${encodeURIComponent(JSON.stringify({container: [created.Id]}))}`)
  assert.equal(events.status, 200)
  const messages = events.body.trim().split('\n').map((l) => JSON.parse(l) as {Action: string; Actor: {Attributes: Record<string, string>}})
  for (const m of messages) assert.equal(check('GET', '/events', 200, m), '', JSON.stringify(m))
  assert.deepEqual(messages.map((m) => m.Action).filter((a) => !a.startsWith('exec_')), ['create', 'start', 'kill', 'die', 'destroy'])
  assert.ok(messages.every((m) => m.Actor.Attributes.a === 'b' && m.Actor.Attributes.name === 'sw'), 'each with the labels and name of the container, the destroy too')
})
