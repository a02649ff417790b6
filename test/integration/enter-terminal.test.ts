import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {NSX_BIN, needCommand, needRoot, run} from '../helpers/env.js'
import {TestProcesses} from '../helpers/processes.js'
import {shellScenario} from '../helpers/terminal.js'

/**
 * An interactive shell in a real terminal (tmux, private server socket, killed afterwards):
 * it must own the terminal with job control, ^C and ^Z must reach its foreground job
 * and not nsx, and its exit status must come back, as under nsenter.
 */

const procs = new TestProcesses()
const socket = `nsx-enter-${process.pid}`
const tmp = mkdtempSync(join(tmpdir(), 'nsx-enter-tty-'))
// The server's socket directory is ours (TMUX_TMPDIR), not /tmp/tmux-UID.
const tmuxEnv = {...process.env, TMUX_TMPDIR: tmp}
after(async () => {
  run('tmux', ['-L', socket, 'kill-server'], {env: tmuxEnv})
  await procs.killAll()
  rmSync(tmp, {recursive: true, force: true})
})

const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args], {env: tmuxEnv})
const scenario = (name: string, command: string) => shellScenario(tmux, tmp, name, command)

test('an interactive shell under nsx enter behaves as under nsenter: job control, ^C, ^Z, exit status', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tmux', 'tmux') || !needCommand(t, 'nsenter', 'util-linux') || !needCommand(t, 'bash', 'bash')) return
  const {child} = await procs.spawnUntilLine('unshare', ['--fork', '--kill-child', '--pid', '--mount-proc', '--mount', '--uts', 'sh', '-c', 'echo ready; exec sleep 600'])
  const target = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim())
  const peer = await scenario('nsenter', `nsenter -t ${target} -a`)
  const ours = await scenario('nsx', `${process.execPath} ${NSX_BIN} enter -t ${target} -a`)
  for (const r of [peer, ours]) {
    assert.doesNotMatch(r.screen, /no job control/, r.screen)
    assert.match(r.screen, /Stopped\s+sleep 601/, r.screen)
  }
  assert.equal(peer.status, '5')
  assert.equal(ours.status, '5')
})
