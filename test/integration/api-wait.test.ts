import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {api, ApiService, serviceWithBusybox} from '../helpers/api.js'
import {containerToolsPresent, Fixture, makeFixture} from '../helpers/container.js'
import {IN_CI} from '../helpers/env.js'
import {pauseFifo, waitFor} from '../helpers/processes.js'

/**
 * POST /containers/{id}/wait returns at the supervisor's end, not at the exit record: a prune or
 * rm right after it must find the container exited. The supervisor's end changes no file, so the
 * service learns of it from the supervisor's pidfd (src/container/process-end.ts), never by
 * looking again. The supervisor is held between the two by a test hook (NSX_TEST_PAUSE_AFTER_EXIT).
 */
const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-apiwait-') : undefined
let svc: ApiService | undefined
after(() => svc?.stop())

/** Whether process PID is alive and not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^[ZX]$/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[0])
  } catch {
    return false
  }
}

test('wait answers once the supervisor has ended, not when it has recorded the exit', async (t) => {
  if (!fx) {
    if (IN_CI) assert.fail('needs root, gcc and busybox-static')
    return t.skip('needs root, gcc and busybox-static')
  }
  // The supervisors this service starts pause on this FIFO after recording the exit.
  const {path: fifo, release} = pauseFifo(join(fx.dir, 'after-exit.fifo'))
  t.after(release)
  svc = await serviceWithBusybox({...fx, env: {...fx.env, NSX_TEST_PAUSE_AFTER_EXIT: fifo}})
  const created = await api(svc.socket, 'POST', '/v1.41/containers/create?name=held', JSON.stringify({Image: 'busybox', Cmd: ['sh', '-c', 'while [ ! -e /go ]; do sleep 0.1; done; exit 3']}))
  assert.equal(created.status, 201, created.body)
  assert.equal((await api(svc.socket, 'POST', '/v1.41/containers/held/start')).status, 204)
  const inspect = JSON.parse((await api(svc.socket, 'GET', '/v1.41/containers/held/json')).body) as {Nsx: {SupervisorPid: number; Dir: string}}
  const sup = inspect.Nsx.SupervisorPid
  assert.ok(running(sup))
  let supervisorRanAtAnswer: boolean | undefined
  const waited = api(svc.socket, 'POST', '/v1.41/containers/held/wait').then((r) => {
    supervisorRanAtAnswer = running(sup)
    return r
  })
  assert.equal(fx.nsx(['exec', 'held', 'touch', '/go']).status, 0)
  await waitFor(() => existsSync(join(inspect.Nsx.Dir, 'exit')), 30000, 'the supervisor to record the exit')
  // Exit recorded, supervisor held: a wait that took the record for the end would answer now.
  // (A wait can only let a wrong answer pass unseen, never fail a right one.)
  await new Promise((res) => setTimeout(res, 300))
  assert.equal(supervisorRanAtAnswer, undefined, 'wait answered while the supervisor was still there')
  await waitFor(release, 30000, 'the supervisor to wait on the FIFO')
  const r = await waited
  assert.equal(r.status, 200)
  assert.deepEqual(JSON.parse(r.body), {StatusCode: 3, Error: null})
  assert.equal(supervisorRanAtAnswer, false, 'wait answered while the supervisor was still there')
  // What the wait promised: the container is exited for the next verb.
  const after = JSON.parse((await api(svc.socket, 'GET', '/v1.41/containers/held/json')).body) as {State: {Status: string; ExitCode: number}}
  assert.deepEqual([after.State.Status, after.State.ExitCode], ['exited', 3])
  assert.equal((await api(svc.socket, 'DELETE', '/v1.41/containers/held')).status, 204)
})
