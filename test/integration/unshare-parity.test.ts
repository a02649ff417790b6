import {test} from 'node:test'
import assert from 'node:assert/strict'
import {closeSync, constants, mkdtempSync, openSync, readlinkSync, rmSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {needCommand, needRoot, nsx, NSX_BIN, run, RunResult, runLsns} from '../helpers/env.js'
import {TestProcesses, waitFor} from '../helpers/processes.js'

/**
 * The same command under util-linux unshare (2.38 here) and `nsx unshare`, side by side:
 * which namespaces are new, ids and maps, setgroups, capabilities, mount propagation,
 * time offsets, root, cwd, hostname and the exit status must agree. Where nsx does
 * better than 2.38 (ranges as root, -S/-G under setgroups deny) the kernel's view is
 * checked instead.
 */

const TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const
const HOST_ENV = Object.fromEntries(TYPES.map((t) => [`HOST_${t}`, readlinkSync(`/proc/self/ns/${t}`)]))

// One fact per line. pid_for_children / time_for_children: what the command's children get.
const PROBE = `for n in ${TYPES.join(' ')}; do
  link=$(readlink /proc/self/ns/$n); eval host=\\$HOST_$n
  [ "$link" = "$host" ] && echo "$n=same" || echo "$n=new"; done
  for n in pid time; do link=$(readlink /proc/self/ns/\${n}_for_children); eval host=\\$HOST_$n
  [ "$link" = "$host" ] && echo "\${n}_children=same" || echo "\${n}_children=new"; done
  echo "uid_map=$(awk '{ printf "%s %s %s;", $1, $2, $3 }' /proc/self/uid_map)"
  echo "gid_map=$(awk '{ printf "%s %s %s;", $1, $2, $3 }' /proc/self/gid_map)"
  echo "setgroups=$(cat /proc/self/setgroups)"
  echo "ids=$(id -u) $(id -g) $(id -G)"
  grep -E '^Cap(Eff|Amb)' /proc/self/status | tr -d '\\t'
  echo "propagation=$(awk '$5 == "/" { for (i = 7; $i != "-"; i++) printf "%s ", $i }' /proc/self/mountinfo | sed 's/:[0-9]*//g')"
  echo "offsets=$(tr -s ' ' < /proc/self/timens_offsets | tr '\\n' ';')"
  echo "pid1=$( [ $$ = 1 ] && echo yes || echo no) ppid_is_zero=$( [ "$PPID" = 0 ] && echo yes || echo no)"
  echo "root=$(readlink /proc/self/root) cwd=$(pwd) host=$(hostname)"`

function both(args: string[], script = PROBE): {ul: RunResult; nsx: RunResult} {
  const opts = {env: {...process.env, ...HOST_ENV}, cwd: '/tmp'}
  return {ul: run('unshare', [...args, 'sh', '-c', script], opts), nsx: nsx(['unshare', ...args, 'sh', '-c', script], opts)}
}

function facts(r: RunResult): Record<string, string> {
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]).filter(([k]) => k !== ''))
}

/** Same status, signal, stdout and stderr (with the program name swapped) under both tools. */
function parity(t: import('node:test').TestContext, args: string[], script?: string): Record<string, string> {
  const r = both(args, script)
  assert.equal(r.nsx.stderr, r.ul.stderr.replace(/^unshare: /gm, 'nsx unshare: '), `stderr of ${args.join(' ')}`)
  assert.deepEqual(
    {status: r.nsx.status, signal: r.nsx.signal, stdout: r.nsx.stdout},
    {status: r.ul.status, signal: r.ul.signal, stdout: r.ul.stdout},
    `nsx unshare ${args.join(' ')} differs from unshare`,
  )
  t.diagnostic(`${args.join(' ')}: ${r.nsx.stdout.trim().split('\n').filter((l) => /=new|map|ids/.test(l)).join(' ')}`)
  return facts(r.nsx)
}

const guard = (t: import('node:test').TestContext) => needRoot(t) && needCommand(t, 'unshare', 'util-linux')
const newOnes = (f: Record<string, string>) => TYPES.filter((n) => f[n] === 'new')

test('each namespace option makes exactly that namespace new, as util-linux unshare does', (t) => {
  if (!guard(t)) return
  const cases: [string, string[]][] = [['-m', ['mnt']], ['-u', ['uts']], ['-i', ['ipc']], ['-n', ['net']], ['-C', ['cgroup']], ['-U', ['user']]]
  for (const [flag, expect] of cases) assert.deepEqual(newOnes(parity(t, [flag])), expect, flag)
  // pid and time: the command's children are in them (and the command too after exec for time).
  // Without --fork only the command's children join the new pid namespace (the command stays
  // in ours), and pid_for_children has no namespace to show until one is forked.
  const argv = ['-p', 'sh', '-c', 'exec readlink /proc/$$/ns/pid /proc/$$/ns/pid_for_children']
  const [a, b] = [run('unshare', argv), nsx(['unshare', ...argv])]
  assert.deepEqual([b.status, b.stdout], [a.status, a.stdout], '-p')
  assert.equal(b.stdout.trim().split('\n')[0], HOST_ENV.HOST_pid)
  const tm = parity(t, ['-T'])
  assert.deepEqual(newOnes(tm), ['time'])
})

test('all namespaces at once with --fork: the command is pid 1 of the new pid namespace', (t) => {
  if (!guard(t)) return
  const f = parity(t, ['-muinpCTU', '-f'])
  assert.deepEqual(newOnes(f), [...TYPES])
  assert.equal(f.pid1, 'yes ppid_is_zero=yes')
})

test('--mount-proc shows the new pid namespace\'s processes only', (t) => {
  if (!guard(t)) return
  // Counted by the shell itself (a glob), not by `ls | grep -c`: ls read /proc before or after grep
  // was forked, 2 or 3 processes, depending on the scheduler (it differed on a loaded machine).
  const f = parity(t, ['-pf', '--mount-proc'], 'set -- /proc/[0-9]*; echo "count=$#"; echo "exe=$(readlink /proc/1/exe)"')
  assert.equal(f.count, '1', 'only the shell, pid 1')
  const r = nsx(['unshare', '-pf', '--mount-proc', 'ls', '/proc'])
  assert.deepEqual(r.stdout.split('\n').filter((e) => /^\d+$/.test(e)), ['1'], 'only ls itself, as pid 1')
})

test('-r, -c, --map-user/--map-group write the same single-id maps and setgroups as util-linux', (t) => {
  if (!guard(t)) return
  const r = parity(t, ['-r'])
  assert.deepEqual([r.uid_map, r.setgroups, r.ids], ['0 0 1;', 'deny', '0 0 0'])
  parity(t, ['-c'])
  const m = parity(t, ['--map-user=1234', '--map-group=5678'])
  assert.deepEqual([m.uid_map, m.gid_map], ['1234 0 1;', '5678 0 1;'])
  parity(t, ['--map-user=nobody', '--map-group=nogroup'])
})

test('--setgroups allow|deny in a new user namespace', (t) => {
  if (!guard(t)) return
  assert.equal(parity(t, ['-U', '--setgroups=deny']).setgroups, 'deny')
  assert.equal(parity(t, ['-U', '--setgroups', 'allow']).setgroups, 'allow')
})

test('--propagation private (default), slave, shared and unchanged give the root mount the same propagation', (t) => {
  if (!guard(t)) return
  const seen = new Set<string>()
  for (const p of [[], ['--propagation=private'], ['--propagation=slave'], ['--propagation=shared'], ['--propagation=unchanged']]) {
    seen.add(parity(t, ['-m', ...p]).propagation)
  }
  assert.ok(seen.size >= 2, `propagation modes differ: ${[...seen].join(' | ')}`)
})

test('--keep-caps keeps the user namespace\'s capabilities as ambient ones; without it a non-root command has none', (t) => {
  if (!guard(t)) return
  const k = parity(t, ['-r', '--keep-caps'])
  assert.notEqual(k.CapAmb, '0000000000000000')
  parity(t, ['-r'])
})

test('--monotonic and --boottime offsets are in the new time namespace before the command starts', (t) => {
  if (!guard(t)) return
  const f = parity(t, ['-T', '--monotonic', '1000', '--boottime=-5'])
  assert.equal(f.offsets, 'monotonic 1000 0;boottime -5 0;')
  const r = nsx(['unshare', '-T', '--boottime', '86400', 'cat', '/proc/uptime'])
  const host = Number(run('cat', ['/proc/uptime']).stdout.split(' ')[0])
  assert.ok(Number(r.stdout.split(' ')[0]) - host > 86000, `uptime ${r.stdout} vs ${host}`)
})

test('-R and -w: root and working directory, -w resolved inside the new root', (t) => {
  if (!guard(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-unshare-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  parity(t, ['-w', '/etc'])
  parity(t, ['-R', '/', '-w', '/usr'])
  parity(t, ['-R', '/'])
  const missing = both(['-w', join(dir, 'nope')])
  assert.equal(missing.nsx.status, 125)
  assert.equal(missing.nsx.stderr.trim().split('\n').length, 1)
})

test('-S and -G set ids in the new namespaces; under setgroups deny nsx still sets the gid (util-linux fails)', (t) => {
  if (!guard(t)) return
  assert.equal(parity(t, ['-S', '65534', '-G', '65534']).ids, '65534 65534 65534')
  const r = nsx(['unshare', '-r', '-S', '0', '-G', '0', 'id', '-u'])
  assert.deepEqual([r.status, r.stdout.trim()], [0, '0'])
})

test('ranges as root are written directly, without newuidmap (util-linux 2.38 runs newuidmap and fails for root)', (t) => {
  if (!guard(t)) return
  const f = facts(nsx(['unshare', '--map-users=0:100000:65536', '--map-groups=100000,0,65536', 'sh', '-c', PROBE], {env: {...process.env, ...HOST_ENV}}))
  assert.deepEqual([f.uid_map, f.gid_map], ['0 100000 65536;', '0 100000 65536;'])
  const c = facts(nsx(['unshare', '--map-users=0:100000:65536', '-c', 'sh', '-c', PROBE], {env: {...process.env, ...HOST_ENV}}))
  assert.equal(c.uid_map, '0 0 1;1 100000 65535;')
})

test('exit status and death by signal pass through --fork as with util-linux', (t) => {
  if (!guard(t)) return
  for (const script of ['exit 3', 'kill -USR1 $$', 'kill -TERM $$', 'exit 0']) parity(t, ['-f'], script)
  parity(t, [], 'exit 4')
  const notFound = both(['-f'], '')
  assert.equal(notFound.nsx.status, notFound.ul.status)
  const r = nsx(['unshare', '-f', 'no-such-command-nsx'])
  const u = run('unshare', ['-f', 'no-such-command-nsx'])
  assert.deepEqual([r.status, u.status], [127, 127])
})

test('--forward-signals passes SIGTERM to the command; without it the fork parent ignores SIGTERM while the command runs', (t) => {
  if (!guard(t)) return
  // The command signals its parent (nsx's fork parent) and reports what came of it.
  const script = 'trap "echo forwarded; exit 3" TERM; kill -TERM $PPID; sleep 0.3; echo ignored'
  const fwd = nsx(['unshare', '--forward-signals', 'sh', '-c', script])
  assert.deepEqual([fwd.status, fwd.stdout], [3, 'forwarded\n'])
  const plain = both(['-f'], script)
  assert.deepEqual([plain.nsx.status, plain.nsx.stdout], [plain.ul.status, plain.ul.stdout])
  assert.equal(plain.nsx.stdout, 'ignored\n')
})

test('--forward-signals: a SIGTERM that arrives between the fork and the recording of the child\'s pid is passed on, not dropped', async (t) => {
  if (!guard(t) || !needCommand(t, 'mkfifo', 'coreutils')) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-unshare-fwd-'))
  const procs = new TestProcesses()
  t.after(() => {
    procs.killAll()
    rmSync(dir, {recursive: true, force: true})
  })
  // The executor's test hook holds fork-wait's parent right after fork, reading one byte from the FIFO.
  const fifo = join(dir, 'fifo')
  run('mkfifo', [fifo])
  const script = 'trap "echo forwarded; exit 3" TERM; echo started; while :; do sleep 0.1; done'
  const child = procs.spawn(process.execPath, [NSX_BIN, 'unshare', '--forward-signals', '--kill-child', 'sh', '-c', script], {
    env: {...process.env, NSX_TEST_PAUSE_AFTER_FORK: fifo},
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const done = new Promise<[number | null, string | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])))
  // The command has set its trap, and the parent is in the hook: a FIFO opens for writing without blocking only once a reader is there.
  await waitFor(() => out === 'started\n', 10000, 'the command to start')
  let fd = -1
  await waitFor(() => {
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
      return true
    } catch {
      return false
    }
  }, 10000, 'the fork parent to pause in the test hook')
  process.kill(child.pid!, 'SIGTERM')
  writeSync(fd, 'x')
  closeSync(fd)
  assert.deepEqual(await done, [3, null], err)
  assert.equal(out, 'started\nforwarded\n')
})

test('--clear-env and --whitelist-env leave the command only the variables named', (t) => {
  if (!guard(t)) return
  const env = {...process.env, NSX_A: 'a', NSX_B: 'b'}
  assert.equal(nsx(['unshare', '--clear-env', 'env'], {env}).stdout, '')
  assert.equal(nsx(['unshare', '--whitelist-env=NSX_B,NSX_NONE', 'env'], {env}).stdout, 'NSX_B=b\n')
})

test('--mount-proc=DIR mounts the new procfs on DIR only; the command\'s /proc stays the old one', (t) => {
  if (!guard(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-unshare-proc-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  // The shell counts with a glob and reads the link itself (no child whose timing would change the count).
  const script = `set -- ${dir}/[0-9]*; echo $#; cd ${dir}/self && pwd -P; [ -e /proc/1/comm ] && echo host-proc-kept`
  const f = both(['-pf', `--mount-proc=${dir}`], script)
  assert.deepEqual([f.nsx.status, f.nsx.stdout], [f.ul.status, f.ul.stdout])
  // Only the new namespace's one process, the shell as pid 1, under DIR.
  assert.equal(f.nsx.stdout, `1\n${dir}/1\nhost-proc-kept\n`)
  assert.equal(run('sh', ['-c', `ls ${dir} | wc -l`]).stdout.trim(), '0', 'nothing mounted on the host')
})

test('--owner UID:GID: the new user namespace belongs to UID (lsns shows it); maps are still written from outside', async (t) => {
  if (!guard(t) || !needCommand(t, 'lsns', 'util-linux')) return
  const {spawn} = await import('node:child_process')
  const child = spawn(process.execPath, [NSX_BIN, 'unshare', '--owner', '65534:65534', '--map-users=0:100000:10', 'sh', '-c', 'cat /proc/self/uid_map; exec sleep 5'], {stdio: ['ignore', 'pipe', 'pipe']})
  t.after(() => child.kill('SIGKILL'))
  const map = await new Promise<string>((res) => child.stdout!.once('data', (d: Buffer) => res(d.toString())))
  assert.equal(map.trim().split(/\s+/).join(' '), '0 100000 10')
  assert.equal(runLsns(['-t', 'user', '-p', String(child.pid), '-n', '-o', 'UID']).stdout.trim(), '65534')
})
