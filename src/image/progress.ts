import {formatBytes} from './size.js'

/**
 * Progress of a long extraction, on stderr, only when stderr is a terminal: one line
 * rewritten in place, shown only once an extraction has taken more than half a second
 * (quick ones stay silent), erased when it is done.
 */
export class Progress {
  /** How long an extraction runs before progress shows; NSX_PROGRESS_DELAY_MS overrides (tests use 0). */
  private readonly delayMs = progressDelay()
  private label = ''
  private started = 0
  private lastDraw = 0
  private shown = false

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  static forTerminal(): Progress | undefined {
    return process.stderr.isTTY ? new Progress(process.stderr) : undefined
  }

  begin(label: string): void {
    this.label = label
    this.started = Date.now()
    this.lastDraw = 0
    this.shown = false
  }

  /** bytes of the tar extracted so far, of total (0: unknown; estimates may be short, so capped at 99%). */
  update(bytes: number, total: number): void {
    const now = Date.now()
    if (now - this.started < this.delayMs || now - this.lastDraw < 100) return
    this.lastDraw = now
    this.shown = true
    const pct = total > 0 ? ` ${Math.min(99, Math.floor((bytes / total) * 100))}%` : ''
    const of = total > 0 ? ` of ${formatBytes(total)}` : ''
    const cols = this.stream.columns ?? 80
    // The numbers first: on a narrow terminal the (long) label is what gets cut.
    const line = `extracting${pct} (${formatBytes(bytes)}${of}) ${this.label}`
    this.stream.write(`\r${line.slice(0, cols - 1)}\u001b[K`)
  }

  done(): void {
    if (this.shown) this.stream.write('\r\u001b[K')
    this.shown = false
  }
}

function progressDelay(): number {
  const v = Number(process.env.NSX_PROGRESS_DELAY_MS)
  return process.env.NSX_PROGRESS_DELAY_MS !== undefined && Number.isFinite(v) && v >= 0 ? v : 500
}
