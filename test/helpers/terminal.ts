import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {RunResult} from './env.js'
import {waitFor} from './processes.js'

/**
 * An interactive bash in a real terminal (a tmux session), driven as a user would: a
 * foreground job interrupted with ^C, another stopped with ^Z, then `exit 5`. Shared by
 * the enter and unshare terminal tests, which compare nsx with nsenter and unshare.
 */

/** Whether a process running exactly `argv` is its terminal's foreground process group. */
export function inForeground(argv: readonly string[]): boolean {
  const want = `${argv.join('\0')}\0`
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8') !== want) continue
      // Fields after the command name: state ppid pgrp session tty_nr tpgid.
      const f = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1].split(' ')
      const [pgrp, tty, tpgid] = [Number(f[2]), Number(f[4]), Number(f[5])]
      if (tty !== 0 && pgrp === tpgid) return true
    } catch {
      // gone: not it
    }
  }
  return false
}

/**
 * Run `command` (nsx or its peer) in a new tmux session and play the scenario. `tmux` runs
 * tmux with the caller's server socket; the command's exit status is written to a file in tmp.
 */
export async function shellScenario(
  tmux: (...args: string[]) => RunResult,
  tmp: string,
  name: string,
  command: string,
  ready: {keys: string; expect: RegExp} = {keys: 'echo ready-$((6*7))', expect: /ready-42/},
): Promise<{screen: string; status: string}> {
  const statusFile = join(tmp, `${name}.status`)
  const pane = () => tmux('capture-pane', '-p', '-t', name).stdout
  // A plain prompt, the same for both tools, and bash as the shell they start.
  const cmd = `env SHELL=/bin/bash PS1='$ ' ENV= ${command}; echo $? > ${statusFile}; sleep 600`
  const started = tmux('-f', '/dev/null', 'new-session', '-d', '-s', name, '-x', '100', '-y', '30', cmd)
  assert.equal(started.status, 0, `tmux new-session: ${started.stderr}`)
  const type = async (keys: string[], expect: RegExp, what: string) => {
    tmux('send-keys', '-t', name, ...keys)
    await waitFor(() => expect.test(pane()), 10000, `${name}: ${what}`)
  }
  // A signal key sent before the job owns the terminal would reach the shell's line editor
  // instead: wait until it is the terminal's foreground process group (no fixed delay).
  const foreground = (argv: string[]) => waitFor(() => inForeground(argv), 10000, `${name}: ${argv.join(' ')} in the foreground`)
  await type([`PS1="$ "; ${ready.keys}`, 'Enter'], ready.expect, 'a shell')
  await type(['sleep 599', 'Enter'], /sleep 599/, 'sleep to start')
  await foreground(['sleep', '599'])
  await type(['C-c'], /\^C/, '^C')
  await type(['echo after-int-$((2*3))', 'Enter'], /after-int-6/, 'the shell surviving ^C')
  await type(['sleep 601', 'Enter'], /sleep 601/, 'sleep to start')
  await foreground(['sleep', '601'])
  await type(['C-z'], /Stopped/, '^Z to stop the job')
  await type(['jobs; kill %1; echo jobs-done', 'Enter'], /jobs-done/, 'jobs')
  tmux('send-keys', '-t', name, 'exit 5', 'Enter')
  await waitFor(() => existsSync(statusFile) && readFileSync(statusFile, 'utf8').trim() !== '', 10000, `${name}: exit status`)
  // The session is left for the caller's kill-server: killing the server's last session makes
  // it exit, and the next scenario's new-session could reach it while it exits ("server exited
  // unexpectedly", seen under load).
  const screen = pane()
  return {screen, status: readFileSync(statusFile, 'utf8').trim()}
}
