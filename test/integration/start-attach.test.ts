import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {assertOneLineError, NSX_BIN, needCommand} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {waitFor} from '../helpers/processes.js'

/**
 * nsx start -a [-i], as docker start -a: attached before the start (the supervisor's first
 * attach client from its fork on), the container started in the background and kept running
 * after a detach, its output here (stdout and stderr apart), its exit code nsx's.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-start-a-') : undefined

interface Entry {
  name: string
  state: string
  exitCode: number | null
  supervisorPid: number
}

function entry(f: Fixture, name: string): Entry {
  const e = (JSON.parse(f.nsx(['ps', '-a', '--json']).stdout) as Entry[]).find((x) => x.name === name)
  assert.ok(e, `no container ${name} in nsx ps -a`)
  return e
}

/** tmux on a private socket in the fixture's directory (removed with it), not in /tmp/tmux-0. */
function tmux(sock: string, args: string[]) {
  return spawnSync('tmux', ['-L', sock, ...args], {encoding: 'utf8', env: {...process.env, TMUX_TMPDIR: fx!.dir}})
}

test('start -a: the output of a command that ends at once is all here, stdout and stderr apart, its exit code nsx start\'s; every start again', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'quick']))
  assert.equal(f.nsx(['create', '--name', 'quick', '--layer', f.base, '--', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2; exit 3']).status, 0)
  for (let i = 0; i < 3; i++) {
    const r = f.nsx(['start', '-a', 'quick'])
    assert.equal(r.status, 3, r.stderr)
    assert.equal(r.stdout, 'out1\nout2\n', 'no line lost, none twice, no name printed')
    assert.equal(r.stderr, 'err1\n')
    assert.deepEqual([entry(f, 'quick').state, entry(f, 'quick').exitCode], ['exited', 3])
  }
  // Started in the background: its supervisor logged it, as any detached start.
  assert.equal(f.nsx(['logs', 'quick']).stdout, 'out1\nout2\n'.repeat(3))
  // An --rm container is gone when it ends: its exit code still comes back (its supervisor's status).
  assert.equal(f.nsx(['create', '--rm', '--name', 'gone', '--layer', f.base, '--', 'sh', '-c', 'echo last words; exit 6']).status, 0)
  const gone = f.nsx(['start', '-a', 'gone'])
  assert.deepEqual([gone.status, gone.stdout, gone.stderr], [6, 'last words\n', ''])
  assert.ok(!f.nsx(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n').includes('gone'), 'removed with its end')
  assertOneLineError(f.nsx(['start', '-a', 'quick', 'quick']), 1, /^nsx start: you cannot start and attach multiple containers at once$/)
  assertOneLineError(f.nsx(['start', '-a', 'ghost']), 1, /^nsx start: No such container: ghost$/)
  assertOneLineError(f.nsx(['start', '-a', '--detach-keys', 'ctrl-', 'quick']), 1, /invalid --detach-keys/)
})

test('start -ai without a terminal: this stdin to a container created with -i, its end closing the container\'s (docker\'s StdinOnce)', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'reader']))
  assert.equal(f.nsx(['create', '-i', '--name', 'reader', '--layer', f.base, '--', 'sh', '-c', 'while read l; do echo "got $l"; echo "err $l" >&2; done; exit 4']).status, 0)
  const r = f.nsx(['start', '-ai', 'reader'], {input: 'a\nb\n'})
  assert.equal(r.status, 4, r.stderr)
  assert.equal(r.stdout, 'got a\ngot b\n')
  assert.equal(r.stderr, 'err a\nerr b\n')
  // -i alone attaches too (docker's rule).
  const again = f.nsx(['start', '-i', 'reader'], {input: 'c\n'})
  assert.deepEqual([again.status, again.stdout], [4, 'got c\n'])
})

test('start -ai: --detach-keys leaves the container running (exit 0), start -a of a running one attaches to it; a signal to nsx reaches a container without a terminal', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'keeper']))
  assert.equal(f.nsx(['create', '-i', '--name', 'keeper', '--layer', f.base, '--', 'sh', '-c', 'trap "echo caught INT; exit 9" INT; while read l; do echo "got $l"; done; echo eof; sleep 1000']).status, 0)
  const a = spawn(process.execPath, [NSX_BIN, 'start', '-ai', '--detach-keys', 'ctrl-a,d', 'keeper'], {env: f.env, stdio: ['pipe', 'pipe', 'pipe']})
  let out = ''
  a.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const done = new Promise<number | null>((res) => a.on('exit', (c) => res(c)))
  a.stdin!.write('one\n')
  await waitFor(() => out.includes('got one'), 15000, 'the container to answer')
  a.stdin!.write('\x01d')
  assert.equal(await done, 0, 'detached: nsx start exits 0')
  assert.equal(out, 'got one\n')
  assert.equal(entry(f, 'keeper').state, 'running', 'the container goes on after a detach')

  // Attached to the running container: its stdin goes on where it was; SIGINT to nsx is passed on (docker's sig-proxy).
  const b = spawn(process.execPath, [NSX_BIN, 'start', '-ai', 'keeper'], {env: f.env, stdio: ['pipe', 'pipe', 'pipe']})
  let out2 = ''
  b.stdout!.on('data', (d: Buffer) => (out2 += d.toString()))
  const done2 = new Promise<number | null>((res) => b.on('exit', (c) => res(c)))
  b.stdin!.write('two\n')
  await waitFor(() => out2.includes('got two'), 15000, 'the running container to answer the second attach')
  b.kill('SIGINT')
  assert.equal(await done2, 9, "the container's exit code, after its INT trap ran")
  assert.match(out2, /caught INT/)
  assert.deepEqual([entry(f, 'keeper').state, entry(f, 'keeper').exitCode], ['exited', 9])
})

test('start -ai of a container created -it: this terminal raw, its size the container\'s, ctrl-p ctrl-q detaches (exit 0), exit N ends nsx start with N', async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'tmux', 'tmux')) return
  const f = fx!
  const sock = `nsx-start-a-${process.pid}`
  t.after(() => {
    tmux(sock, ['kill-server'])
    f.nsx(['rm', '-f', 'ttybox'])
  })
  assert.equal(f.nsx(['create', '-it', '--name', 'ttybox', '--layer', f.base, '--', 'sh']).status, 0)
  const screen = () => tmux(sock, ['capture-pane', '-p', '-t', 's']).stdout
  const env = Object.entries({...f.env, TERM: 'xterm'}).map(([k, v]) => `${k}='${String(v).replace(/'/g, "'\\''")}'`).join(' ')
  const start = `env ${env} ${process.execPath} ${NSX_BIN} start -ai ttybox; echo "start exited $?"; sleep 60`
  assert.equal(tmux(sock, ['new-session', '-d', '-s', 's', '-x', '100', '-y', '30', start]).status, 0)
  // The shell's first prompt is said before any key: it reaches the terminal (attached before the start).
  await waitFor(() => /^\/ #\s*$/m.test(screen()), 15000, "the shell's first prompt")
  tmux(sock, ['send-keys', '-t', 's', 'stty size; tty; echo in-$((6*7))', 'Enter'])
  await waitFor(() => /30 100\s+\/dev\/pts\/0\s+in-42/.test(screen()), 15000, 'the container shell to answer, with this terminal\'s size')
  tmux(sock, ['resize-window', '-t', 's', '-x', '120', '-y', '40'])
  await waitFor(() => {
    tmux(sock, ['send-keys', '-t', 's', 'stty size', 'Enter'])
    return /40 120/.test(screen())
  }, 15000, 'the size to follow the terminal')
  tmux(sock, ['send-keys', '-t', 's', 'C-p', 'C-q'])
  await waitFor(() => /start exited 0/.test(screen()), 15000, 'ctrl-p ctrl-q to detach')
  assert.equal(entry(f, 'ttybox').state, 'running', 'the container goes on after a detach')
  // Attached again with start -ai (running: attach); exit 3 ends the container and nsx start with 3.
  assert.equal(tmux(sock, ['respawn-pane', '-k', '-t', 's', start]).status, 0)
  await waitFor(() => {
    tmux(sock, ['send-keys', '-t', 's', 'echo again-$((2*3))', 'Enter'])
    return /again-6/.test(screen())
  }, 15000, 'the same shell to answer the second start -ai')
  tmux(sock, ['send-keys', '-t', 's', 'exit 3', 'Enter'])
  await waitFor(() => /start exited 3/.test(screen()), 15000, 'nsx start to end with the exit code')
  assert.deepEqual([entry(f, 'ttybox').state, entry(f, 'ttybox').exitCode], ['exited', 3])
})
