import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO, assertOneLineError, needCommand, needRoot, run} from '../helpers/env.js'
import {TestProcesses, waitFor} from '../helpers/processes.js'

/** The executor on its own: plan validation, exit-status rules, and a run under ASan and valgrind. */

const EXEC = join(REPO, 'native', 'build', 'nsx-exec')
const ASAN = join(REPO, 'native', 'build', 'nsx-exec-asan')
const procs = new TestProcesses()
let target = 0
let startTime = ''

before(async () => {
  const c = procs.spawn('sleep', ['600'])
  await waitFor(() => c.pid !== undefined)
  target = c.pid!
  startTime = readFileSync(`/proc/${target}/stat`, 'utf8').split(') ')[1].split(' ')[19]
})
after(() => procs.killAll())

const exec = (args: string[], env: NodeJS.ProcessEnv = {}) => run(EXEC, args, {env: {...process.env, ...env}})

test('a bad plan is refused whole before any op runs: one line, exit 125', () => {
  // setenv would run first if the plan were not validated up front; env shows it did not.
  assertOneLineError(exec(['setenv', 'X', '1', 'bogus', 'exec', 'env']), 125, /^nsx: invalid plan: unknown operation 'bogus'$/)
  assertOneLineError(exec(['setenv', 'X']), 125, /setenv needs 2 argument\(s\)/)
  assertOneLineError(exec(['setns', 'nope', 'exec', 'true']), 125, /unknown namespace type 'nope'/)
  assertOneLineError(exec(['setenv', 'X', '1']), 125, /does not end with exec/)
  assertOneLineError(run(EXEC, ['chroot', 'exec', 'true'], {argv0: 'nsx enter'}), 125, /^nsx enter: invalid plan: chroot without open-root$/)
})

test('exec: 127 when the command is not found, 126 when it cannot be executed, its own status otherwise', () => {
  assertOneLineError(exec(['exec', '/nonexistent/cmd']), 127, /^nsx: failed to execute \/nonexistent\/cmd: No such file or directory$/)
  assertOneLineError(exec(['exec', '/etc/passwd']), 126, /failed to execute \/etc\/passwd: Permission denied/)
  assert.equal(exec(['exec', 'sh', '-c', 'exit 9']).status, 9)
  assert.equal(exec(['fork', 'exec', 'sh', '-c', 'exit 9']).status, 9)
  assert.equal(exec(['fork', 'exec', '/nonexistent/cmd']).status, 127)
})

test('a command killed by a signal kills the executor with the same signal, with and without fork', () => {
  assert.equal(exec(['exec', 'sh', '-c', 'kill -USR1 $$']).signal, 'SIGUSR1')
  assert.equal(exec(['fork', 'exec', 'sh', '-c', 'kill -USR1 $$']).signal, 'SIGUSR1')
})

test('job control: when the forked command stops, the executor stops too, and resumes it when continued', async () => {
  const c = procs.spawn(EXEC, ['fork', 'exec', 'sh', '-c', 'kill -STOP $$; exit 3'])
  const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)))
  const state = () => readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1][0]
  await waitFor(() => state() === 'T', 5000, 'the executor to stop with its child')
  process.kill(c.pid!, 'SIGCONT')
  assert.equal(await exited, 3)
})

test('signals Node ignores (SIGPIPE) are back to default for the command; the test hook variable is not passed on', () => {
  const r = run('sh', ['-c', `trap '' PIPE; exec ${EXEC} exec sh -c 'grep SigIgn /proc/self/status; echo "hook=\${NSX_TEST_PAUSE_BEFORE_PIN-unset}"; echo "fork-hook=\${NSX_TEST_PAUSE_AFTER_FORK-unset}"'`], {
    env: {...process.env, NSX_TEST_PAUSE_BEFORE_PIN: '/nonexistent', NSX_TEST_PAUSE_AFTER_FORK: '/nonexistent'},
  })
  const ign = BigInt(`0x${/SigIgn:\s+([0-9a-f]+)/.exec(r.stdout)![1]}`)
  assert.equal(ign & (1n << 12n), 0n, 'SIGPIPE (13) still ignored')
  assert.match(r.stdout, /^hook=unset$/m)
  assert.match(r.stdout, /^fork-hook=unset$/m)
})

test('pin refuses a start time that does not match, naming the pid', () => {
  assertOneLineError(exec(['pin', String(target), '1', 'exec', 'true']), 125, new RegExp(`process ${target} has exited and its pid was reused`))
})

test('a full enter plan under AddressSanitizer and UBSan: no error, same result', (t) => {
  if (!needRoot(t) || !needCommand(t, 'make', 'make')) return
  const b = run('make', ['-s', '-C', join(REPO, 'native'), 'asan'])
  assert.equal(b.status, 0, b.stderr)
  const plan = [
    'pin', String(target), startTime, 'nsfd', 'uts', `/proc/${target}/ns/uts`, 'open-wd', '/tmp', 'env-from', `/proc/${target}/environ`,
    'cgroup-open', '/dev/null', 'pin-check', 'setgroups-try', 'setns-try', 'net', 'setns', 'net', 'setns', 'uts', 'release-target',
    'chdir-fd', 'cgroup-join', 'fork', 'setgroups', 'setgid', '0', 'setuid', '0', 'keep-caps', 'setenv', 'A', 'b', 'unsetenv', 'PATH',
    'exec', '/bin/sh', '-c', 'echo "$A $(/bin/pwd)"',
  ]
  const env = {...process.env, ASAN_OPTIONS: 'detect_leaks=1:exitcode=86', UBSAN_OPTIONS: 'print_stacktrace=1'}
  const r = run(ASAN, plan, {env})
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'b /tmp\n')
  assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/)
  // Failure paths exit through die(): leaks would show there.
  const bad = run(ASAN, ['nsfd', 'net', '/etc/passwd', 'setns', 'net', 'exec', 'true'], {env})
  assertOneLineError(bad, 125, /is not a namespace file/)
  const refused = run(ASAN, ['fork', 'exec', '/nonexistent'], {env})
  assert.equal(refused.status, 127)
  assert.doesNotMatch(refused.stderr, /Sanitizer/)
})

test('unshare plans under AddressSanitizer and UBSan: the outside helper, persistence, fork-wait, and the rollback of a failed exec', (t) => {
  if (!needRoot(t) || !needCommand(t, 'make', 'make') || !needCommand(t, 'unshare', 'util-linux') || !needCommand(t, 'taskset', 'util-linux')) return
  const b = run('make', ['-s', '-C', join(REPO, 'native'), 'asan'])
  assert.equal(b.status, 0, b.stderr)
  const dir = mkdtempSync(join(tmpdir(), 'nsx-exec-asan-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  // In a mount namespace of our own, so the binds vanish with it. LeakSanitizer cannot stop
  // the world once we unshare (it reports a fatal error): memory errors are what is checked here.
  const script = `
    A=${ASAN}; D=${dir}
    left() { echo "files=$(ls $D | wc -l) mounts=$(grep -c " $D/" /proc/self/mountinfo || true)"; }
    $A helper-start unshare net,uts persist net $D/n persist uts $D/u helper-commit exec /etc/passwd 2>/dev/null; echo "rc=$?"; left
    $A helper-start unshare net,uts persist net $D/n persist uts $D/u helper-commit exec true; echo "rc=$?"; left
    umount $D/n $D/u; rm $D/n $D/u
    $A helper-start unshare user,net,pid helper-map uid write "0 0 4294967295" persist pid $D/p fork-wait 9 exec sh -c 'exit 3'; echo "rc=$?"; left
    umount $D/p; rm $D/p
    $A helper-start unshare net,pid persist net $D/n fork-wait 0 exec /nonexistent 2>/dev/null; echo "rc=$?"; left`
  const r = run('taskset', ['-c', '0', 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script], {
    env: {...process.env, ASAN_OPTIONS: 'detect_leaks=0', UBSAN_OPTIONS: 'print_stacktrace=1'},
  })
  assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, r.stderr)
  assert.equal(r.stdout, 'rc=126\nfiles=0 mounts=0\nrc=0\nfiles=2 mounts=2\nrc=3\nfiles=1 mounts=1\nrc=127\nfiles=0 mounts=0\n', r.stderr)
})

test('a plan from namespace files under valgrind: no memory error (valgrind 3.19 lacks pidfd_open, so no pin here)', (t) => {
  if (!needRoot(t) || !needCommand(t, 'valgrind', 'valgrind')) return
  const r = run('valgrind', ['-q', '--error-exitcode=99', '--leak-check=full', '--errors-for-leak-kinds=definite', EXEC,
    'nsfd', 'net', `/proc/${target}/ns/net`, 'nsfd', 'uts', `/proc/${target}/ns/uts`, 'setns-try', 'net', 'setns', 'net', 'setns', 'uts',
    'release-target', 'setenv', 'A', 'b', 'exec', 'readlink', '/proc/self/ns/net'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), readlinkSync(`/proc/${target}/ns/net`))
})

test('building without a C compiler is one clear error, and leaves the built executor alone', (t) => {
  if (!needCommand(t, 'make', 'make')) return
  const before = readFileSync(EXEC)
  const r = run('make', ['-s', '-C', join(REPO, 'native'), 'CC=nsx-no-such-cc'])
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /^nsx: building native\/ needs a C compiler \(nsx-no-such-cc not found\): install gcc/m)
  assert.ok(readFileSync(EXEC).equals(before))
})
