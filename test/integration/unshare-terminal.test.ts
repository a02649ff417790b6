import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {NSX_BIN, needCommand, needRoot, run} from '../helpers/env.js'
import {childrenOf, TestProcesses, waitFor} from '../helpers/processes.js'
import {shellScenario} from '../helpers/terminal.js'

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

// The server's socket directory is ours (TMUX_TMPDIR), not /tmp/tmux-UID.
const tmux = (...args: string[]) => run('nsenter', ['-t', String(init), '-p', '--', 'tmux', '-L', socket, ...args], {env: {...process.env, TMUX_TMPDIR: tmp}})
// The shell is root inside its new user namespace.
const session = (name: string, command: string) =>
  shellScenario(tmux, tmp, name, command, {keys: 'echo ready-$((6*7)) $(id -u)', expect: /ready-42 0/})

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
