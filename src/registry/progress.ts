import {formatBytes} from '../image/size.js'

/**
 * Per-layer progress of a pull or push on stderr. On a terminal: one bar per layer, redrawn
 * in place at most ten times a second. Otherwise (a log, a pipe): one line per layer when it
 * is done, nothing in between.
 */

type State = 'waiting' | 'transferring' | 'done' | 'exists' | 'failed'

/**
 * One layer's progress as data, for a caller other than the terminal (the Engine API turns
 * these into docker's progress JSON lines): `id` is the blob digest's first 12 hex digits.
 */
export interface TransferEvent {
  id: string
  state: State
  bytes: number
  total: number
}

export type TransferListener = (e: TransferEvent) => void

interface Row {
  id: string
  total: number
  bytes: number
  state: State
}

export class TransferProgress {
  private rows: Row[] = []
  private drawnLines = 0
  private lastDraw = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly verb: 'pull' | 'push',
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = !!process.stderr.isTTY && process.env.TERM !== 'dumb',
    private readonly quiet = false,
    private readonly listener?: TransferListener,
  ) {}

  private emit(row: Row): void {
    if (this.listener) this.listener({id: row.id, state: row.state, bytes: row.bytes, total: row.total})
  }

  add(digest: string, total: number): Row {
    const row: Row = {id: digest.slice(7, 19), total, bytes: 0, state: 'waiting'}
    this.rows.push(row)
    this.emit(row)
    return row
  }

  progress(row: Row, bytes: number): void {
    row.bytes = bytes
    row.state = 'transferring'
    this.emit(row)
    this.schedule()
  }

  finish(row: Row, state: 'done' | 'exists' | 'failed'): void {
    row.state = state
    this.emit(row)
    if (this.quiet) return
    if (!this.tty) {
      if (state !== 'failed') this.stream.write(`${row.id}: ${this.text(row)}\n`)
      return
    }
    this.schedule(true)
  }

  private text(r: Row): string {
    switch (r.state) {
      case 'waiting':
        return 'waiting'
      case 'exists':
        return this.verb === 'pull' ? 'already stored' : 'already in the registry'
      case 'failed':
        return 'failed'
      case 'done':
        return `${this.verb === 'pull' ? 'pulled' : 'pushed'} ${formatBytes(r.total || r.bytes)}`
      default: {
        const width = 30
        const frac = r.total > 0 ? Math.min(1, r.bytes / r.total) : 0
        const filled = Math.round(frac * width)
        const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`
        return `${this.verb === 'pull' ? 'pulling' : 'pushing'} ${bar} ${formatBytes(r.bytes)}${r.total > 0 ? ` / ${formatBytes(r.total)}` : ''}`
      }
    }
  }

  private schedule(now = false): void {
    if (!this.tty || this.quiet) return
    const t = Date.now()
    if (now || t - this.lastDraw >= 100) {
      this.draw()
      return
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.draw()
    }, 100 - (t - this.lastDraw))
  }

  private draw(): void {
    this.lastDraw = Date.now()
    const cols = this.stream.columns ?? 80
    let out = this.drawnLines > 0 ? `\u001b[${this.drawnLines}A` : ''
    for (const r of this.rows) out += `\r${`${r.id}: ${this.text(r)}`.slice(0, cols - 1)}\u001b[K\n`
    this.drawnLines = this.rows.length
    this.stream.write(out)
  }

  /** Final state on the screen; stops the timer. */
  end(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.tty && !this.quiet && this.rows.length > 0) this.draw()
  }
}
