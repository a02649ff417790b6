import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseEnterArgs} from '../../src/enter/options.js'
import {buildEnterPlan, EnterFacts} from '../../src/plan/enter.js'
import {encodePlan} from '../../src/plan/encode.js'
import {NsxError} from '../../src/cli/errors.js'
import {NS_TYPES} from '../../src/ns/types.js'

// Our namespaces: inode 100 + index; the target's differ except where a test says.
const self = Object.fromEntries(NS_TYPES.map((t, i) => [t, 100 + i]))
const other = Object.fromEntries(NS_TYPES.map((t, i) => [t, 200 + i]))

function facts(over: Partial<NonNullable<EnterFacts['target']>> = {}, sameUserNs = false): EnterFacts {
  const ns = {...other, ...(sameUserNs ? {user: self.user} : {})}
  return {self, target: {pid: 42, startTime: 777, ns, ...over}}
}

/** The plan as the executor receives it, minus argv[0], as one string per op. */
function plan(argv: string[], f: EnterFacts = facts()): string[] {
  const o = parseEnterArgs(argv)
  if (o.target === undefined && /^\d+$/.test(o.command[0] ?? '')) o.target = o.command.shift()
  const ops = buildEnterPlan(o, f).ops
  return ops.map((op) => encodePlan({command: 'x', ops: [op]}).slice(1).join(' '))
}

const PASS1 = ['setns-try cgroup', 'setns-try ipc', 'setns-try uts', 'setns-try net', 'setns-try pid', 'setns-try mnt', 'setns-try time']
const PASS2 = ['setns cgroup', 'setns ipc', 'setns uts', 'setns net', 'setns pid', 'setns mnt', 'setns time']

test('-a into a target that shares our user namespace: all others in nsenter order, no credential change, fork for pid', () => {
  assert.deepEqual(plan(['-t', '42', '-a'], facts({}, true)), [
    'pin 42 777', 'pin-check', ...PASS1, ...PASS2, 'release-target', 'fork', 'exec-shell',
  ])
})

test('-a into another user namespace: groups dropped first, user namespace first in the second pass, ids 0 after the fork', () => {
  assert.deepEqual(plan(['-t', '42', '-a', 'id']), [
    'pin 42 777', 'pin-check', 'setgroups-try', ...PASS1, 'setns user', ...PASS2, 'release-target', 'fork',
    'setgroups', 'setgid 0', 'setuid 0', 'exec id',
  ])
})

test('-a tolerates a refusal to enter a namespace the target shares with us (a rootless container keeps the host\'s cgroup namespace)', () => {
  const shared: EnterFacts = {self, target: {pid: 42, startTime: 777, ns: {...other, cgroup: self.cgroup, time: self.time}}}
  const p = plan(['-t', '42', '-a', 'true'], shared)
  const pass2 = p.slice(p.indexOf('setns user'))
  assert.deepEqual(pass2.slice(0, 4), ['setns user', 'setns-try cgroup', 'setns ipc', 'setns uts'])
  assert.ok(pass2.includes('setns-try time'))
  // Named explicitly, the namespace must be entered, as nsenter requires.
  assert.ok(plan(['-t', '42', '-C', 'true'], shared).includes('setns cgroup'))
})

test('a leading PID without -t is the target, and naming no namespace means all of them', () => {
  assert.deepEqual(plan(['42', 'true'], facts({}, true)), plan(['-t', '42', '-a', 'true'], facts({}, true)))
})

test('--preserve-credentials keeps ids in a new user namespace; -S/-G set them without one', () => {
  const p = plan(['-t', '42', '-U', '--preserve-credentials', 'id'])
  assert.ok(!p.some((s) => /^set(uid|gid|groups)/.test(s)), p.join(', '))
  assert.deepEqual(plan(['-t', '42', '-n', '-S', '1000', '-G', '100', 'id']).slice(-5), ['release-target', 'setgroups', 'setgid 100', 'setuid 1000', 'exec id'])
})

test('-S follow and -G follow take the owner of /proc/PID', () => {
  const p = plan(['-t', '42', '-n', '-S', 'follow', '-G', 'follow', 'id'], facts({uid: 1001, gid: 1002}))
  assert.deepEqual(p.slice(-4), ['setgroups', 'setgid 1002', 'setuid 1001', 'exec id'])
})

test('a namespace file needs no target and is opened before anything is entered', () => {
  assert.deepEqual(plan(['--net=/run/netns/blue', 'ip', 'link'], {self}), [
    'nsfd net /run/netns/blue', 'setns-try net', 'setns net', 'release-target', 'exec ip link',
  ])
  assert.deepEqual(plan(['-n=/run/netns/blue', '-u/x', 'true'], {self}).slice(0, 2), ['nsfd uts /x', 'nsfd net /run/netns/blue'])
})

test('-r and -w open the target\'s root and cwd before entering; -r alone returns to the current directory', () => {
  const p = plan(['-t', '42', '-m', '-r', '-w', 'pwd'])
  assert.deepEqual(p.slice(0, 4), ['pin 42 777', 'open-root /proc/42/root', 'open-wd /proc/42/cwd', 'pin-check'])
  assert.deepEqual(p.slice(-4), ['release-target', 'chroot', 'chdir-fd', 'exec pwd'])
  const r = plan(['-t', '42', '-m', '-r', 'pwd'])
  assert.ok(r.includes('open-wd .'), r.join(', '))
  const w = plan(['-t', '42', '-m', '-W/srv', 'pwd'])
  assert.deepEqual(w.slice(-3), ['release-target', 'chdir /srv', 'exec pwd'])
  // -W alone (nsenter's optional argument): the target's working directory, as -w.
  const own = plan(['-t', '42', '-m', '-W', 'pwd'])
  assert.ok(own.includes('open-wd /proc/42/cwd'), own.join(', '))
  assert.deepEqual(own.slice(-3), ['release-target', 'chdir-fd', 'exec pwd'])
  assert.deepEqual(plan(['-t', '42', '-m', '-w=/tmp', 'pwd']).slice(1, 2), ['open-wd /tmp'])
})

test('-e reads the target\'s environment before entering; --user-parent enters the parent user namespace', () => {
  assert.ok(plan(['-t', '42', '-n', '-e', 'env']).indexOf('env-from /proc/42/environ') < plan(['-t', '42', '-n', '-e', 'env']).indexOf('pin-check'))
  const p = plan(['-t', '42', '--user-parent', 'id'])
  assert.deepEqual(p.slice(0, 3), ['pin 42 777', 'user-parent', 'pin-check'])
  assert.ok(p.includes('setns user'))
})

test('-N takes the network namespace from the target\'s socket, opened before entering', () => {
  const p = plan(['-t', '42', '-N', '5', 'ip', 'link'])
  assert.deepEqual(p, ['pin 42 777', 'net-socket 5', 'pin-check', 'setns-try net', 'setns net', 'release-target', 'exec ip link'])
  rejects(['-t', '42', '-N', 'x'], /failed to parse file descriptor: 'x'/)
  rejects(['-t', '42', '-N', '3', '--net=/x'], /--net-socket and --net=FILE/)
  rejects(['-N', '3', 'true'], /needs a target process/, {self})
})

test('a thread as the target is pinned by a thread pidfd; the rest of the plan is the same', () => {
  const p = plan(['-t', '42', '-n', 'true'], {self, target: {pid: 42, startTime: 777, ns: other, thread: true}})
  assert.deepEqual(p, ['pin-thread 42 777', 'pin-check', 'setns-try net', 'setns net', 'release-target', 'exec true'])
})

test('-F skips the fork for a pid namespace; --keep-caps raises ambient caps only with a user namespace', () => {
  assert.ok(!plan(['-t', '42', '-p', '-F', 'true']).includes('fork'))
  assert.ok(plan(['-t', '42', '-U', '--keep-caps', 'true']).includes('keep-caps'))
  assert.ok(!plan(['-t', '42', '-n', '--keep-caps', 'true']).includes('keep-caps'))
})

test('--mount-proc mounts proc after the fork, in a mount namespace of its own', () => {
  const p = plan(['-t', '42', '-a', '--mount-proc', 'ps'], facts({}, true))
  assert.deepEqual(p.slice(-6), ['release-target', 'fork', 'unshare mnt', 'propagation private /', 'mount-proc /proc', 'exec ps'])
})

test('-c opens every cgroup.procs before entering and joins after', () => {
  const f = {...facts({}, true), cgroupProcs: ['/sys/fs/cgroup/unified/a/cgroup.procs', '/sys/fs/cgroup/memory/a/cgroup.procs']}
  const p = plan(['-t', '42', '-n', '-c', 'true'], f)
  assert.deepEqual(p.filter((s) => s.startsWith('cgroup')), ['cgroup-open /sys/fs/cgroup/unified/a/cgroup.procs', 'cgroup-open /sys/fs/cgroup/memory/a/cgroup.procs', 'cgroup-join'])
  assert.ok(p.indexOf('cgroup-join') > p.indexOf('release-target'))
})

function rejects(argv: string[], pattern: RegExp, f: EnterFacts = facts()) {
  assert.throws(() => plan(argv, f), (e: unknown) => e instanceof NsxError && e.exitCode === 125 && pattern.test(e.message))
}

test('bad combinations are refused with one message and exit code 125', () => {
  rejects(['-n', 'true'], /needs a target process/, {self})
  rejects(['true'], /no target process specified/, {self})
  rejects(['-t', '42', '-n', '--mount-proc'], /--mount-proc needs the target's pid namespace/)
  rejects(['-t', '42', '-p', '-F', '--mount-proc'], /drop --no-fork/)
  rejects(['-t', '42', '-w', '-W', '/x'], /mutually exclusive/)
  rejects(['-t', '42', '-S', 'bob'], /failed to parse uid: 'bob'/)
  rejects(['-t', '42', '-t', '43'], /only once/)
  rejects(['-t', '42', '--bogus'], /unrecognized option '--bogus'/)
  rejects(['-t', '42', '-a'], /cannot read the user namespace of process 42/, {self, target: {pid: 42, startTime: 1}})
})
