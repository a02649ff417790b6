import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, NSX_BIN, REPO, needCommand, needRoot, nsx, run} from '../helpers/env.js'
import {TestProcesses, childrenOf, waitFor} from '../helpers/processes.js'

const procs = new TestProcesses()
const tmp = mkdtempSync(join(tmpdir(), 'nsx-enter-'))
after(async () => {
  await procs.killAll()
  rmSync(tmp, {recursive: true, force: true})
})

async function sleeper(): Promise<number> {
  const c = procs.spawn('sleep', ['600'])
  await waitFor(() => c.pid !== undefined)
  return c.pid!
}

test('bad usage and bad targets: one line, exit 125, no stack trace', async () => {
  assertOneLineError(nsx(['enter', '--bogus']), 125, /^nsx enter: unrecognized option '--bogus' \(see nsx enter --help\)$/)
  assertOneLineError(nsx(['enter', '-t']), 125, /option requires an argument -- 't'/)
  assertOneLineError(nsx(['enter', '-t', 'abc', 'true']), 125, /invalid target 'abc': expected a pid/)
  assertOneLineError(nsx(['enter', '-t', '0', 'true']), 125, /invalid pid '0'/)
  assertOneLineError(nsx(['enter', '-S', 'x', '-t', '1']), 125, /failed to parse uid: 'x'/)
  assertOneLineError(nsx(['enter', 'true']), 125, /^nsx enter: no such container: true \(nsx enter takes a PID or a container's name or id, or -t PID\)$/)
  assertOneLineError(nsx(['enter', '-t', '1', '-w', '-W', '/']), 125, /mutually exclusive/)
})

test('a pid that does not exist, or a zombie: one line naming it', async () => {
  // A pid we started and reaped cannot be alive again this soon.
  const c = procs.spawn('true', [])
  await new Promise((r) => c.on('exit', r))
  const pid = String(c.pid)
  assertOneLineError(nsx(['enter', '-t', pid, '-n', 'true']), 125, new RegExp(`no such process: ${pid}$`))
  assertOneLineError(nsx(['enter', pid, 'true']), 125, new RegExp(`no such process: ${pid}$`))
  // sh's child exits at once and stays a zombie: sh does not reap it while it sleeps.
  const z = procs.spawn('sh', ['-c', 'true & exec sleep 600'])
  await waitFor(() => childrenOf(z.pid!).some((k) => readFileSync(`/proc/${k}/stat`, 'utf8').split(') ')[1][0] === 'Z'), 5000, 'a zombie')
  const zombie = childrenOf(z.pid!)[0]
  assertOneLineError(nsx(['enter', '-t', String(zombie), '-n', 'true']), 125, new RegExp(`process ${zombie} has exited \\(a zombie`))
})

test('namespace files that are missing, not namespaces, or of the wrong type are refused before anything is entered', (t) => {
  if (!needRoot(t)) return
  const marker = join(tmp, 'ran')
  assertOneLineError(nsx(['enter', '--net=/nonexistent', 'touch', marker]), 125, /open net namespace file \/nonexistent: No such file or directory/)
  assertOneLineError(nsx(['enter', '--net=/etc/passwd', 'touch', marker]), 125, /\/etc\/passwd is not a namespace file/)
  assertOneLineError(nsx(['enter', '--net=/proc/self/ns/uts', 'touch', marker]), 125, /\/proc\/self\/ns\/uts is a uts namespace, not a net namespace/)
  // A FIFO must not block the open (nsenter hangs there).
  const fifo = join(tmp, 'not-a-ns-fifo')
  run('mkfifo', [fifo])
  assertOneLineError(nsx(['enter', `--net=${fifo}`, 'touch', marker], {timeout: 10000}), 125, /not-a-ns-fifo is not a namespace file/)
  assert.ok(!existsSync(marker), 'the command ran')
})

test('re-entering our own user namespace fails as setns(2) says; -a skips it instead', async (t) => {
  if (!needRoot(t)) return
  const pid = await sleeper()
  assertOneLineError(nsx(['enter', '-t', String(pid), '-U', 'true']), 125, new RegExp(`setns\\(user\\) into pid ${pid}: Invalid argument`))
  assert.equal(nsx(['enter', '-t', String(pid), '-a', 'true']).status, 0)
})

test('--mount-proc without the pid namespace, or with --no-fork, is refused', async () => {
  const pid = await sleeper()
  assertOneLineError(nsx(['enter', '-t', String(pid), '-n', '--mount-proc', 'true']), 125, /--mount-proc needs the target's pid namespace/)
  assertOneLineError(nsx(['enter', '-t', String(pid), '-p', '-F', '--mount-proc', 'true']), 125, /drop --no-fork/)
})

test('without the privilege to enter: one line naming the setns that was refused', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const pid = await sleeper()
  const r = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, NSX_BIN, 'enter', '-t', String(pid), '-n', 'true'])
  assertOneLineError(r, 125, new RegExp(`^nsx enter: setns\\(net\\) into pid ${pid}: Operation not permitted$`))
  const all = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, NSX_BIN, 'enter', '-t', String(pid), '-a', 'true'])
  assertOneLineError(all, 125, /permission denied/)
})

/** Start `nsx enter` paused before pin (test hook) and wait until Node has exec'd into the executor. */
async function pausedEnter(args: string[], fifo: string): Promise<{done: Promise<{code: number | null; stderr: string}>}> {
  run('mkfifo', [fifo])
  const child = procs.spawn(process.execPath, [NSX_BIN, 'enter', ...args], {env: {...process.env, NSX_TEST_PAUSE_BEFORE_PIN: fifo}})
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  // 'close', not 'exit': the exit can be reported before the last of stderr has been read.
  const done = new Promise<{code: number | null; stderr: string}>((resolve) => child.on('close', (code) => resolve({code, stderr})))
  await waitFor(() => {
    try {
      // The executor runs from a sealed memfd copy: /proc/PID/exe reads /memfd:nsx-exec (deleted).
      return /nsx-exec/.test(run('readlink', [`/proc/${child.pid}/exe`]).stdout)
    } catch {
      return false
    }
  }, 10000, 'nsx enter to exec the executor')
  return {done}
}

test('pinning: a target that exits after nsx resolved it is never entered', async (t) => {
  if (!needRoot(t)) return
  const c = procs.spawn('sleep', ['600'])
  await waitFor(() => c.pid !== undefined)
  const marker = join(tmp, 'entered')
  const fifo = join(tmp, 'pause-exit')
  const {done} = await pausedEnter(['-t', String(c.pid), '-n', 'touch', marker], fifo)
  const exited = new Promise((r) => c.once('exit', r))
  process.kill(c.pid!, 'SIGKILL')
  await exited
  run('sh', ['-c', `echo go > ${fifo}`])
  const r = await done
  assert.equal(r.code, 125)
  assert.match(r.stderr.trim(), new RegExp(`^nsx enter: process ${c.pid} has exited$`))
  assert.ok(!existsSync(marker), 'the command ran')
})

test('pinning: when the pid is reused by another process in between, nsx refuses to enter it', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  // In a pid namespace of our own, ns_last_pid makes the reuse deterministic without touching the host's.
  const fifo = join(tmp, 'pause-reuse')
  const marker = join(tmp, 'reused-entered')
  const script = `
    mkfifo ${fifo}
    sleep 600 & T=$!
    NSX_TEST_PAUSE_BEFORE_PIN=${fifo} "${process.execPath}" "${NSX_BIN}" enter -t $T -n touch ${marker} 2>${tmp}/reuse.err &
    N=$!
    i=0
    until readlink /proc/$N/exe | grep -q nsx-exec; do i=$((i + 1)); [ $i -lt 500 ] || { echo "nsx enter never reached the executor"; kill -9 $N $T; exit 98; }; sleep 0.02; done
    kill -9 $T; wait $T 2>/dev/null
    echo $((T - 1)) > /proc/sys/kernel/ns_last_pid
    sleep 600 & R=$!
    [ "$R" = "$T" ] || { echo "pid not reused: $R, $T"; exit 99; }
    echo go > ${fifo}
    wait $N; echo "status=$? pid=$T"
    kill $R`
  // unshare ignores SIGTERM while it waits for its child: a timeout must kill.
  const r = run('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', script], {timeout: 30000, killSignal: 'SIGKILL'})
  const m = /status=(\d+) pid=(\d+)/.exec(r.stdout)
  assert.ok(m, `scenario failed: ${r.stdout} ${r.stderr}`)
  assert.equal(m[1], '125')
  assert.match(readFileSync(join(tmp, 'reuse.err'), 'utf8'), new RegExp(`^nsx enter: process ${m[2]} has exited and its pid was reused by another process: refusing to enter\\n$`))
  assert.ok(!existsSync(marker), 'the command ran in the new process')
})

test('nothing is left behind: no stray process after failures', async () => {
  const before = childrenOf(process.pid).length
  nsx(['enter', '--net=/etc/passwd', 'true'])
  nsx(['enter', '-t', 'abc'])
  assert.equal(childrenOf(process.pid).length, before)
})

test('--help goes to oclif\'s help for enter; -V prints the version; both exit 0', () => {
  const h = nsx(['enter', '--help'])
  assert.equal(h.status, 0, h.stderr)
  assert.match(h.stdout, /USAGE\n\s+\$ nsx enter/)
  assert.match(h.stdout, /--mount-proc/)
  const v = nsx(['enter', '-V'])
  assert.equal(v.status, 0)
  assert.match(v.stdout, /^nsx enter \d+\.\d+\.\d+\n$/)
  // After the target, -h is the command's own flag, not nsx's.
  const c = nsx(['enter', '--dry-run', '1', 'ls', '-h'])
  assert.doesNotMatch(c.stdout, /USAGE/)
})

test('through oclif (no fast path) enter runs the same code: same plan, same errors', async () => {
  const pid = await sleeper()
  const viaOclif = (args: string[]) =>
    run(process.execPath, ['--input-type=module', '-e', `import {run} from '@oclif/core'; await run(${JSON.stringify(['enter', ...args])}, ${JSON.stringify(REPO + '/package.json')})`], {cwd: REPO, env: {...process.env, NO_COLOR: '1'}})
  const fast = nsx(['enter', '--dry-run', String(pid), 'true'])
  const slow = viaOclif(['--dry-run', String(pid), 'true'])
  assert.equal(slow.stdout, fast.stdout)
  assertOneLineError(viaOclif(['--bogus']), 125, /^nsx enter: unrecognized option '--bogus'/)
})
