import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {NSX_BIN} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {needCommand} from '../helpers/env.js'
import {runsInForeground, waitFor} from '../helpers/processes.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-tty-') : undefined

/** nsx run under script(1), which gives it a terminal; input written step by step. */
async function underTerminal(args: string[], steps: {wait?: string; prompts?: number; foreground?: string[]; send: string}[], pre = ''): Promise<{out: string; code: number | null}> {
  const f = fx!
  const cmd = `${pre}${[process.execPath, NSX_BIN, 'run', ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')}; echo "status=$?"`
  const c = spawn('script', ['-qfec', cmd, '/dev/null'], {env: f.env, stdio: ['pipe', 'pipe', 'pipe']})
  let out = ''
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  c.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const done = new Promise<number | null>((res) => c.on('exit', (code) => res(code)))
  for (const s of steps) {
    if (s.wait) await waitFor(() => out.includes(s.wait!), 15000, `"${s.wait}" in ${JSON.stringify(out)}`)
    // The nth shell prompt: the shell reads its next line only then (busybox asks for the cursor position first).
    if (s.prompts) await waitFor(() => out.split('# ').length - 1 >= s.prompts!, 15000, `prompt ${s.prompts} in ${JSON.stringify(out)}`)
    // A job's start is not visible in the output: wait until it is the terminal's foreground job
    // before signalling it from the keyboard (a fixed delay was too short on a loaded machine).
    if (s.foreground) await waitFor(() => runsInForeground(c.pid!, s.foreground!), 15000, `${s.foreground.join(' ')} in the foreground`)
    c.stdin!.write(s.send)
  }
  const timer = setTimeout(() => c.kill('SIGKILL'), 20000)
  const code = await done
  clearTimeout(timer)
  return {out: out.replace(/\r/g, ''), code}
}

test("-t: the command's terminal is a pty of the container's own devpts, with the caller's window size", async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'script', 'util-linux')) return
  const f = fx!
  const r = await underTerminal(['-t', '--layer', f.base, '--', 'sh', '-c', 'tty; stty size; exit 5'], [], 'stty rows 33 cols 111; ')
  assert.match(r.out, /^\/dev\/pts\/0\n33 111\nstatus=5\n$/)
})

test('-it: an interactive shell with job control: ^C interrupts the foreground job, not the shell; ^Z stops it; background jobs are listed', async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'script', 'util-linux')) return
  const f = fx!
  const r = await underTerminal(['-it', '--layer', f.base, '--', 'sh'], [
    {prompts: 1, send: 'echo $((6*7))\n'},
    {prompts: 2, send: 'sleep 100\n'},
    {wait: 'sleep 100\r\n', foreground: ['sleep', '100'], send: '\x03'},
    {prompts: 3, send: 'echo after-interrupt\n'},
    {prompts: 4, send: 'sleep 200 &\n'},
    {prompts: 5, send: 'jobs\n'},
    {prompts: 6, send: 'kill %1\n'},
    {prompts: 7, send: 'sleep 300\n'},
    {wait: 'sleep 300\r\n', foreground: ['sleep', '300'], send: '\x1a'},
    {prompts: 8, send: 'jobs\n'},
    {prompts: 9, send: 'kill -9 %2\n'},
    {prompts: 10, send: 'wait; exit 4\n'},
  ])
  assert.match(r.out, /\n42\n/)
  assert.match(r.out, /\nafter-interrupt\n/)
  assert.match(r.out, /\[1\]\+? +Running +sleep 200/)
  assert.match(r.out, /\[\d\]\+? +Stopped +sleep 300/, '^Z stopped the foreground job')
  assert.match(r.out, /status=4\n$/)
})
