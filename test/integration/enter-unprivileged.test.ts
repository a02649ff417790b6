import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, readlinkSync} from 'node:fs'
import {NSX_BIN, needCommand, needRoot, run} from '../helpers/env.js'
import {TestProcesses, childrenOf, waitFor} from '../helpers/processes.js'

/**
 * An ordinary user entering their own rootless namespaces: nothing works until the user
 * namespace is entered, so it must come first (nsenter's second pass). The user is a
 * throwaway uid with no account (setpriv needs none), so there is nothing to remove.
 */

const procs = new TestProcesses()
let uid = 0
let target = 0
const PROBE = ['sh', '-c', 'for n in cgroup ipc mnt net pid time user uts; do readlink /proc/self/ns/$n; done; id -u; hostname; pwd']

function freeUid(): number {
  const used = new Set(readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => Number(l.split(':')[2])))
  for (let u = 61000; u < 62000; u++) if (!used.has(u)) return u
  throw new Error('no free uid')
}

const as = (cmd: string, args: string[]) => run('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', cmd, ...args], {cwd: '/'})
const nsxAs = (args: string[]) => as(process.execPath, [NSX_BIN, 'enter', ...args])

before(async () => {
  if (process.getuid?.() !== 0) return
  uid = freeUid()
  const c = procs.spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'unshare', '--user', '--map-root-user', '--fork', '--kill-child', '--pid', '--mount-proc', '--mount', '--uts', '--net', 'sh', '-c', 'hostname rootless; exec sleep 600'], {cwd: '/'})
  await waitFor(() => c.pid !== undefined && childrenOf(c.pid).length === 1, 5000, 'unshare to fork')
  const kid = childrenOf(c.pid!)[0]
  await waitFor(() => readlinkSync(`/proc/${kid}/exe`).endsWith('/sleep'), 5000, 'the target to exec sleep')
  target = kid
})
after(() => procs.killAll())

function guard(t: import('node:test').TestContext): boolean {
  return needRoot(t) && needCommand(t, 'setpriv', 'util-linux') && needCommand(t, 'nsenter', 'util-linux')
}

test('unprivileged, with --preserve-credentials: the user namespace first, then the rest, as nsenter', (t) => {
  if (!guard(t)) return
  const args = ['-t', String(target), '-U', '-m', '-u', '-n', '-p', '--preserve-credentials', ...PROBE]
  const a = as('nsenter', args)
  const b = nsxAs(args)
  assert.equal(a.status, 0, a.stderr)
  assert.deepEqual({status: b.status, stdout: b.stdout}, {status: a.status, stdout: a.stdout}, b.stderr)
  const lines = b.stdout.trim().split('\n')
  assert.equal(lines[6], readlinkSync(`/proc/${target}/ns/user`))
  assert.deepEqual(lines.slice(8, 10), ['0', 'rootless'])
})

test('unprivileged, without it: setgroups is denied in a rootless user namespace, for nsenter and for nsx alike', (t) => {
  if (!guard(t)) return
  const args = ['-t', String(target), '-U', '-n', 'true']
  const a = as('nsenter', args)
  const b = nsxAs(args)
  assert.equal(a.status, 1)
  assert.equal(b.status, 125)
  assert.equal(b.stderr, 'nsx enter: setgroups: Operation not permitted\n')
})

test('unprivileged `nsx enter PID`: every namespace, though the target keeps the host\'s cgroup namespace (nsenter -a fails there)', (t) => {
  if (!guard(t)) return
  assert.notEqual(as('nsenter', ['-t', String(target), '-a', '--preserve-credentials', 'true']).status, 0)
  const r = nsxAs(['--preserve-credentials', String(target), ...PROBE])
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  const types = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']
  types.forEach((ns, i) => assert.equal(lines[i], readlinkSync(`/proc/${target}/ns/${ns}`), ns))
})

test('unprivileged, into a root-owned process: one line naming the refused setns', async (t) => {
  if (!guard(t)) return
  const c = procs.spawn('sleep', ['600'])
  await waitFor(() => c.pid !== undefined)
  const r = nsxAs(['-t', String(c.pid), '-n', 'true'])
  assert.equal(r.status, 125)
  assert.equal(r.stderr, `nsx enter: setns(net) into pid ${c.pid}: Operation not permitted\n`)
})
