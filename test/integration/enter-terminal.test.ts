import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {NSX_BIN, needCommand, needRoot, run} from '../helpers/env.js'
import {TestProcesses, waitFor} from '../helpers/processes.js'

/**
 * An interactive shell in a real terminal (tmux, private server socket, killed afterwards):
 * it must own the terminal with job control, ^C and ^Z must reach its foreground job
 * and not nsx, and its exit status must come back, as under nsenter.
 */

const procs = new TestProcesses()
const socket = `nsx-enter-${process.pid}`
const tmp = mkdtempSync(join(tmpdir(), 'nsx-enter-tty-'))
after(async () => {
  run('tmux', ['-L', socket, 'kill-server'])
  await procs.killAll()
  rmSync(tmp, {recursive: true, force: true})
})

const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args])
const pane = (s: string) => tmux('capture-pane', '-p', '-t', s).stdout

async function scenario(name: string, enter: string): Promise<{screen: string; status: string}> {
  const statusFile = join(tmp, `${name}.status`)
  // A plain prompt, the same for both tools, and bash as the shell they start.
  const cmd = `env SHELL=/bin/bash PS1='$ ' ENV= ${enter}; echo $? > ${statusFile}; sleep 600`
  assert.equal(tmux('-f', '/dev/null', 'new-session', '-d', '-s', name, '-x', '100', '-y', '30', cmd).status, 0)
  const type = async (keys: string[], expect: RegExp, what: string) => {
    tmux('send-keys', '-t', name, ...keys)
    await waitFor(() => expect.test(pane(name)), 10000, `${name}: ${what}`)
  }
  await type(['PS1="$ "; echo ready-$((6*7))', 'Enter'], /ready-42/, 'a shell')
  // A signal key before the job is in the foreground would reach the shell's line editor instead.
  const settle = () => new Promise((r) => setTimeout(r, 500))
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
