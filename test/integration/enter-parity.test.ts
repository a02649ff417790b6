import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readlinkSync} from 'node:fs'
import {assertOneLineError, needCommand, needRoot, nsx, run, RunResult} from '../helpers/env.js'
import {TestProcesses, childrenOf} from '../helpers/processes.js'

/**
 * The same command under util-linux nsenter and under `nsx enter`, side by side:
 * namespace links, ids, hostname, root, cwd and exit status must agree, and agree
 * with the kernel's view from outside (what the target holds, what we hold).
 */

const TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const
// Prints one line per fact; '?' where the entered /proc cannot show our own process.
const PROBE = [
  'sh',
  '-c',
  `for n in ${TYPES.join(' ')}; do printf '%s=%s\\n' $n "$(readlink /proc/self/ns/$n 2>/dev/null || echo '?')"; done
   echo uid=$(id -u) gid=$(id -g) groups="$(id -G)"
   echo host=$(hostname)
   echo root=$(readlink /proc/self/root 2>/dev/null || echo '?')
   echo cwd=$(pwd)`,
]

const procs = new TestProcesses()
let target = 0 // root-owned namespaces, our user namespace
let userTarget = 0 // in a user namespace of its own (unshare -r)
let ready = false

function links(pid: number | 'self'): Record<string, string> {
  return Object.fromEntries(TYPES.map((t) => [t, readlinkSync(`/proc/${pid}/ns/${t}`)]))
}

async function startTarget(args: string[], script: string): Promise<number> {
  const {child} = await procs.spawnUntilLine('unshare', ['--fork', '--kill-child', ...args, 'sh', '-c', `${script}; echo ready; exec sleep 600`])
  const kids = childrenOf(child.pid!)
  assert.equal(kids.length, 1, 'unshare --fork has one child')
  return kids[0]
}

before(async () => {
  if (process.getuid?.() !== 0) return
  target = await startTarget(['--pid', '--mount-proc', '--mount', '--uts', '--ipc', '--net', '--cgroup', '--time'], 'hostname nsx-target; cd /tmp')
  userTarget = await startTarget(['--user', '--map-root-user', '--pid', '--mount-proc', '--mount', '--uts', '--net'], 'hostname nsx-user; cd /etc')
  ready = true
})
after(() => procs.killAll())

function both(args: string[], cmd: string[] = PROBE): {nsenter: RunResult; nsx: RunResult} {
  return {nsenter: run('nsenter', [...args, ...cmd]), nsx: nsx(['enter', ...args, ...cmd])}
}

function facts(r: RunResult): Record<string, string> {
  return Object.fromEntries(r.stdout.trim().split('\n').flatMap((l) => l.split(' ').map((kv) => kv.split('=') as [string, string])))
}

/** Same status, signal and output under both; returns the facts for further checks. */
function parity(t: import('node:test').TestContext, args: string[], cmd?: string[]): Record<string, string> {
  const r = both(args, cmd)
  assert.equal(r.nsx.stderr, r.nsenter.stderr.replace(/^nsenter: /, 'nsx enter: '), 'stderr')
  assert.deepEqual(
    {status: r.nsx.status, signal: r.nsx.signal, stdout: r.nsx.stdout},
    {status: r.nsenter.status, signal: r.nsenter.signal, stdout: r.nsenter.stdout},
    `nsx enter ${args.join(' ')} differs from nsenter`,
  )
  t.diagnostic(`${args.join(' ')}: ${r.nsx.stdout.trim().replace(/\n/g, ' ')}`)
  return facts(r.nsx)
}

/** The namespaces seen inside are the target's for `entered`, ours for the rest. */
function assertEntered(f: Record<string, string>, pid: number, entered: readonly string[], skip: readonly string[] = []) {
  const theirs = links(pid)
  const ours = links('self')
  for (const t of TYPES) {
    if (skip.includes(t)) continue
    assert.equal(f[t], entered.includes(t) ? theirs[t] : ours[t], `${t} namespace`)
  }
}

function guard(t: import('node:test').TestContext): boolean {
  return needRoot(t) && needCommand(t, 'nsenter', 'util-linux') && needCommand(t, 'unshare', 'util-linux') && ready
}

const ALL_BUT_USER = TYPES.filter((t) => t !== 'user')

test('-a: every namespace of the target, hostname, root and uid as nsenter gives them', (t) => {
  if (!guard(t)) return
  const f = parity(t, ['-t', String(target), '-a'])
  assertEntered(f, target, ALL_BUT_USER)
  assert.equal(f.host, 'nsx-target')
  assert.equal(f.uid, '0')
})

for (const flags of [['-m', '-u', '-p'], ['-n', '-i'], ['-p'], ['-C', '-T', '-u'], ['-u', '-p', '-n', '-i', '-C', '-T']]) {
  test(`${flags.join(' ')}: only those namespaces, as nsenter enters them`, (t) => {
    if (!guard(t)) return
    const f = parity(t, ['-t', String(target), ...flags])
    // -m without -p shows the target's /proc, where our own process does not exist.
    const skip = flags.includes('-m') && !flags.includes('-p') ? TYPES : []
    const entered = flags.map((fl) => ({'-m': 'mnt', '-u': 'uts', '-p': 'pid', '-n': 'net', '-i': 'ipc', '-C': 'cgroup', '-T': 'time'})[fl]!)
    assertEntered(f, target, entered, skip)
  })
}

test('-p -F: no fork, the command itself stays outside, its children (the probe\'s subshells) are in the pid namespace', (t) => {
  if (!guard(t)) return
  const f = parity(t, ['-t', String(target), '-p', '-F', '-n'])
  assertEntered(f, target, ['net', 'pid'])
  const self = parity(t, ['-t', String(target), '-p', '-F'], ['sh', '-c', 'exec readlink /proc/self/ns/pid'])
  assert.ok(Object.keys(self).some((k) => k === `pid:[${readlinkSync('/proc/self/ns/pid').replace(/\D/g, '')}]`))
})

test('namespace files: --net=FILE and -uFILE need no target', (t) => {
  if (!guard(t)) return
  const f = parity(t, [`--net=/proc/${target}/ns/net`, `-u/proc/${target}/ns/uts`])
  assertEntered(f, target, ['net', 'uts'])
  assert.equal(f.host, 'nsx-target')
})

test('-u=FILE is -uFILE, as util-linux 2.42 reads it (2.38 here would open "=FILE")', (t) => {
  if (!guard(t)) return
  const r = nsx(['enter', `-u=/proc/${target}/ns/uts`, `-n=/proc/${target}/ns/net`, ...PROBE])
  assert.equal(r.status, 0, r.stderr)
  assertEntered(facts(r), target, ['net', 'uts'])
})

test('-S and -G set the ids in the entered namespaces', (t) => {
  if (!guard(t)) return
  const f = parity(t, ['-t', String(target), '-n', '-S', '65534', '-G', '65534'])
  assert.equal(f.uid, '65534')
  assert.equal(f.gid, '65534')
})

test('-r, -w and -W: root and working directory as nsenter sets them', (t) => {
  if (!guard(t)) return
  assert.equal(parity(t, ['-t', String(target), '-a', '-w']).cwd, '/tmp')
  assert.equal(parity(t, ['-t', String(target), '-a', '-r']).root, '/')
  assert.equal(parity(t, ['-t', String(target), '-a', '-r', '-w']).cwd, '/tmp')
  assert.equal(parity(t, ['-t', String(target), '-a', '-W/etc']).cwd, '/etc')
  assert.equal(parity(t, ['-t', String(target), '-a', '--wdns=/etc']).cwd, '/etc')
  assert.equal(parity(t, ['-t', String(target), '-m', '-p', '-w/usr']).cwd, '/usr')
})

test('-W and --wdns without a directory: the target\'s working directory, the next word the command (nsenter 2.40\'s optional argument)', (t) => {
  if (!guard(t)) return
  // nsenter 2.38 takes -W's argument as required, 2.40 as optional: nsx follows the newer one,
  // and makes the bare option mean the target's directory (as -w), not "unchanged".
  for (const flag of ['-W', '--wdns']) {
    const r = nsx(['enter', '-t', String(target), '-a', flag, ...PROBE])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(facts(r).cwd, '/tmp', `${flag} alone`)
  }
  assertOneLineError(nsx(['enter', '-t', String(target), '-a', '-w', '-W', 'pwd']), 125, /options --wd and --wdns are mutually exclusive/)
})

test('a target in its own user namespace: entered first, ids 0 inside, as nsenter does', (t) => {
  if (!guard(t)) return
  const f = parity(t, ['-t', String(userTarget), '-a'])
  assertEntered(f, userTarget, ['user', 'mnt', 'uts', 'net', 'pid', 'ipc', 'cgroup', 'time'])
  assert.equal(f.host, 'nsx-user')
  assert.equal(parity(t, ['-t', String(userTarget), '-U', '--preserve-credentials', '-n']).uid, '0')
  assertEntered(parity(t, ['-t', String(userTarget), '-U', '-u']), userTarget, ['user', 'uts'])
})

test('exit status: the command\'s own, 127 for a missing command, and death by the same signal', (t) => {
  if (!guard(t)) return
  for (const flags of [['-a'], ['-n']]) {
    parity(t, ['-t', String(target), ...flags], ['sh', '-c', 'exit 7'])
    parity(t, ['-t', String(target), ...flags], ['sh', '-c', 'kill -TERM $$'])
    const r = both(['-t', String(target), ...flags], ['/nonexistent/cmd'])
    assert.equal(r.nsx.status, 127)
    assert.equal(r.nsenter.status, 127)
    assert.equal(r.nsx.stderr.trim().split('\n').length, 1)
  }
  const sig = nsx(['enter', '-t', String(target), '-a', 'sh', '-c', 'kill -TERM $$'])
  assert.equal(sig.signal, 'SIGTERM')
})

test('fds the caller passes reach the command, as under nsenter', (t) => {
  if (!guard(t)) return
  const cmd = ['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "']
  const r = both(['-t', String(target), '-n'], cmd)
  assert.equal(r.nsx.stdout, r.nsenter.stdout)
})
