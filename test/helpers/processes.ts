import {ChildProcess, spawn, spawnSync, SpawnOptions} from 'node:child_process'
import {closeSync, constants as fsConstants, existsSync, openSync, readFileSync, writeSync} from 'node:fs'

/**
 * Processes a test starts, ended by pid when the test finishes, even on failure.
 * Register cleanup with t.after(() => procs.killAll()).
 */
export class TestProcesses {
  private readonly children: ChildProcess[] = []

  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'pipe'], ...opts})
    this.children.push(child)
    return child
  }

  /** Start a process and wait until its first line of stdout (e.g. a pid it prints). */
  async spawnUntilLine(cmd: string, args: string[], opts: SpawnOptions = {}, timeoutMs = 10000): Promise<{child: ChildProcess; line: string}> {
    const child = this.spawn(cmd, args, opts)
    const line = await new Promise<string>((resolve, reject) => {
      let buf = ''
      let err = ''
      const timer = setTimeout(() => reject(new Error(`timed out waiting for output of ${cmd} ${args.join(' ')}: ${err}`)), timeoutMs)
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString()
        const nl = buf.indexOf('\n')
        if (nl >= 0) {
          clearTimeout(timer)
          resolve(buf.slice(0, nl))
        }
      })
      child.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${cmd} exited with ${code} before printing a line: ${err}`))
      })
    })
    return {child, line}
  }

  async killAll(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return resolve()
            c.once('exit', () => resolve())
            try {
              process.kill(c.pid, 'SIGKILL')
            } catch {
              resolve()
            }
          }),
      ),
    )
    this.children.length = 0
  }
}

/** Wait until cond() holds, polling; for "the namespace exists now" style checks. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Wait until pid has exec'd its final program (unshare, nsenter and setpriv exec in place). */
export async function waitForComm(pid: number, comm: string, timeoutMs = 10000): Promise<void> {
  await waitFor(() => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm
    } catch {
      return false
    }
  }, timeoutMs, `process ${pid} to run ${comm}`)
}

/** The children of pid (from /proc/PID/task/PID/children). */
export function childrenOf(pid: number): number[] {
  const p = `/proc/${pid}/task/${pid}/children`
  if (!existsSync(p)) return []
  return readFileSync(p, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
}

/** Every descendant of pid, breadth first (from /proc/PID/task/PID/children). */
export function descendantsOf(pid: number): number[] {
  const out: number[] = []
  for (let queue = childrenOf(pid); queue.length > 0; ) {
    const p = queue.shift()!
    out.push(p)
    queue.push(...childrenOf(p))
  }
  return out
}

/**
 * True when a descendant of pid runs `argv` as its terminal's foreground process group: the
 * event a test waits for before typing ^C or ^Z at it (the job's start shows nothing on screen).
 */
export function runsInForeground(pid: number, argv: readonly string[]): boolean {
  for (const p of descendantsOf(pid)) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8') !== `${argv.join('\0')}\0`) continue
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      // After the command name: state ppid pgrp session tty_nr tpgid.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (f[2] === f[5]) return true
    } catch {
      // exited meanwhile
    }
  }
  return false
}

/**
 * A FIFO at PATH for the executor's NSX_TEST_PAUSE_* hooks, and its release: one byte to the
 * process waiting on it; false while none is (no reader yet), so `waitFor(release)` releases it
 * once it has got there.
 */
export function pauseFifo(path: string): {path: string; release: () => boolean} {
  const made = spawnSync('mkfifo', [path])
  if (made.status !== 0) throw new Error(`mkfifo ${path}: ${made.stderr?.toString().trim()}`)
  const release = () => {
    try {
      const fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK)
      writeSync(fd, 'x')
      closeSync(fd)
      return true
    } catch {
      return false // no process waiting on it
    }
  }
  return {path, release}
}
