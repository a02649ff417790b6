import assert from 'node:assert/strict'
import {run} from './env.js'

/**
 * A real terminal for the dashboard tests: tmux (on a private server socket, killed
 * afterwards) runs `nsx top`; send-keys drives it and capture-pane reads the screen.
 */
export class Tmux {
  readonly socket = `nsx-top-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  readonly session = 'top'

  /** The server's socket goes in `tmp` (TMUX_TMPDIR), which the test removes. */
  constructor(private readonly tmp: string) {}

  private get env(): NodeJS.ProcessEnv {
    const env = {...process.env, TMUX_TMPDIR: this.tmp}
    delete env.TMUX
    return env
  }

  tmux(...args: string[]): string {
    const r = run('tmux', ['-L', this.socket, ...args], {env: this.env})
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }

  start(command: string, width: number, height: number): void {
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-s', this.session, '-x', String(width), '-y', String(height), command)
  }

  /** The screen's text; with escapes, its colours too. */
  capture(escapes = false): string {
    try {
      return this.tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.session)
    } catch {
      return ''
    }
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys)
  }

  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', this.session, '-x', String(width), '-y', String(height))
  }

  async waitFor(what: string, cond: (screen: string) => boolean, timeoutMs = 15000): Promise<string> {
    const end = Date.now() + timeoutMs
    let screen = ''
    while (Date.now() < end) {
      screen = this.capture()
      if (cond(screen)) return screen
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.fail(`timed out waiting for ${what}; the screen was:\n${screen}`)
  }

  /**
   * Whether the pane's terminal is raw (no canonical line editing): what attach and exec -it
   * do once connected. Keys typed before that are the line discipline's, and may be flushed.
   */
  raw(): boolean {
    const tty = this.tmux('display-message', '-p', '-t', this.session, '#{pane_tty}').trim()
    return tty !== '' && / -icanon /.test(` ${run('stty', ['-F', tty, '-a']).stdout.replace(/\s+/g, ' ')} `)
  }

  async waitRaw(what: string, timeoutMs = 30000): Promise<void> {
    const end = Date.now() + timeoutMs
    while (!this.raw()) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what} (the terminal never went raw); the screen was:\n${this.capture()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  kill(): void {
    run('tmux', ['-L', this.socket, 'kill-server'], {env: this.env})
  }
}

