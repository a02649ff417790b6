import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {NSX_BIN, needCommand, needRoot, run} from '../helpers/env.js'
import {childrenOf, TestProcesses, waitFor} from '../helpers/processes.js'

/**
 * An interactive shell under `nsx unshare` in a real terminal (tmux on a private server
 * socket, killed afterwards), side by side with util-linux unshare: with and without --fork,
 * ^C and ^Z must reach the shell's foreground job and not nsx, and the exit status come back.
 */

const socket = `nsx-unshare-${process.pid}`
const tmp = mkdtempSync(join(tmpdir(), 'nsx-unshare-tty-'))
const procs = new TestProcesses()
// The tmux server daemonizes: it runs in a pid namespace of its own, whose init (a sleep we
// kill afterwards) inherits it, so nothing is left to the test runner.
let init = 0
after(async () => {
  if (init) {
    tmux('kill-server')
    // The init first: the holder (unshare) then exits on its own and is reaped as our child.
    try {
      process.kill(init, 'SIGKILL')
    } catch {
      // gone already
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  await procs.killAll()
  rmSync(tmp, {recursive: true, force: true})
})

const tmux = (...args: string[]) => run('nsenter', ['-t', String(init), '-p', '--', 'tmux', '-L', socket, ...args])
const pane = (s: string) => tmux('capture-pane', '-p', '-t', s).stdout

async function session(name: string, command: string): Promise<{screen: string; status: string}> {
  const statusFile = join(tmp, `${name}.status`)
  const cmd = `env SHELL=/bin/bash PS1='$ ' ENV= ${command}; echo $? > ${statusFile}; sleep 600`
  assert.equal(tmux('-f', '/dev/null', 'new-session', '-d', '-s', name, '-x', '100', '-y', '30', cmd).status, 0)
  const type = async (keys: string[], expect: RegExp, what: string) => {
    tmux('send-keys', '-t', name, ...keys)
    await waitFor(() => expect.test(pane(name)), 10000, `${name}: ${what}`)
  }
  // A signal key sent before the job owns the terminal would reach the line editor instead.
  const settle = () => new Promise((r) => setTimeout(r, 500))
  await type(['PS1="$ "; echo ready-$((6*7)) $(id -u)', 'Enter'], /ready-42 0/, 'a shell, root inside')
  await type(['sleep 600', 'Enter'], /sleep 600/, 'sleep to start')
  await settle()
  await type(['C-c'], /\^C/, '^C')
  await type(['echo after-int-$((2*3))', 'Enter'], /after-int-6/, 'the shell surviving ^C')
  await type(['sleep 601', 'Enter'], /sleep 601/, 'sleep to start')
  await settle()
  await type(['C-z'], /Stopped/, '^Z to stop the job')
  await type(['jobs; kill %1; echo jobs-done', 'Enter'], /jobs-done/, 'jobs')
  tmux('send-keys', '-t', name, 'exit 5', 'Enter')
  await waitFor(() => existsSync(statusFile) && readFileSync(statusFile, 'utf8').trim() !== '', 10000, `${name}: exit status`)
  const screen = pane(name)
  tmux('kill-session', '-t', name)
  return {screen, status: readFileSync(statusFile, 'utf8').trim()}
}

test('an interactive shell under nsx unshare behaves as under unshare: job control, ^C, ^Z, exit status, with and without --fork', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tmux', 'tmux') || !needCommand(t, 'unshare', 'util-linux') || !needCommand(t, 'bash', 'bash')) return
  const holder = procs.spawn('unshare', ['-p', '-f', '--kill-child', 'sleep', '1000'])
  await waitFor(() => childrenOf(holder.pid!).length === 1, 5000, 'the pid namespace holder')
  init = childrenOf(holder.pid!)[0]
  for (const flags of ['-r -u', '-r -p -f --mount-proc']) {
    const key = flags.replace(/[^a-z]/g, '')
    const peer = await session(`ul-${key}`, `unshare ${flags}`)
    const ours = await session(`nsx-${key}`, `${process.execPath} ${NSX_BIN} unshare ${flags}`)
    for (const r of [peer, ours]) {
      assert.doesNotMatch(r.screen, /no job control/, r.screen)
      assert.match(r.screen, /Stopped\s+sleep 601/, r.screen)
    }
    assert.deepEqual([ours.status, peer.status], ['5', '5'], flags)
  }
})
