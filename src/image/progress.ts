import {formatBytes} from './size.js'

/**
 * Progress of a long extraction, on stderr, only when stderr is a terminal: one line
 * rewritten in place, shown only once an extraction has taken more than half a second
 * (quick ones stay silent), erased when it is done.
 */
export class Progress {
  private label = ''
  private total = 0
  private started = 0
  private lastDraw = 0
  private shown = false

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly totals: (label: string) => number = () => 0,
  ) {}

  static forTerminal(totals: (label: string) => number): Progress | undefined {
    return process.stderr.isTTY ? new Progress(process.stderr, totals) : undefined
  }

  begin(label: string): void {
    this.label = label
    this.total = this.totals(label)
    this.started = Date.now()
    this.lastDraw = 0
    this.shown = false
  }

  update(bytes: number): void {
    const now = Date.now()
    if (now - this.started < 500 || now - this.lastDraw < 100) return
    this.lastDraw = now
    this.shown = true
    const pct = this.total > 0 ? ` ${Math.min(100, Math.floor((bytes / this.total) * 100))}%` : ''
    const of = this.total > 0 ? ` of ${formatBytes(this.total)}` : ''
    const cols = this.stream.columns ?? 80
    const line = `extracting ${this.label}${pct} (${formatBytes(bytes)}${of})`
    this.stream.write(`\r${line.slice(0, cols - 1)}\u001b[K`)
  }

  done(): void {
    if (this.shown) this.stream.write('\r\u001b[K')
    this.shown = false
  }
}
