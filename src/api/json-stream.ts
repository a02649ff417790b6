import type {ServerResponse} from 'node:http'
import {messageOf, sendError} from './http.js'

/**
 * docker's JSON message stream (pull, push, build, load): one JSON object per line. The status
 * line is sent only with the first message, so an error before any progress is still a plain
 * JSON error with its status (a client sees "404 manifest unknown", not a 200 with an error
 * inside); an error after it is the stream's last line, `{"errorDetail": {"message"}, "error"}`.
 */
export class JsonStream {
  private started = false

  constructor(private readonly res: ServerResponse) {}

  /** Send the 200 now: what follows, an error included, is part of the stream (docker's load answers so). */
  begin(): void {
    if (!this.started && !this.res.headersSent) {
      this.res.writeHead(200, {'Content-Type': 'application/json'})
      this.started = true
    }
  }

  write(msg: object): void {
    if (this.res.writableEnded || this.res.destroyed) return
    if (!this.started) {
      this.res.writeHead(200, {'Content-Type': 'application/json'})
      this.started = true
    }
    this.res.write(`${JSON.stringify(msg)}\r\n`)
  }

  /** The stream's end: success, or the error as docker reports it. */
  end(err?: unknown): void {
    if (this.res.writableEnded || this.res.destroyed) return
    if (err !== undefined) {
      if (!this.started) {
        sendError(this.res, err)
        return
      }
      const message = messageOf(err)
      // A failed build step's status is the detail's code (docker's jsonmessage.JSONError).
      const code = (err as {detailCode?: unknown}).detailCode
      this.write({errorDetail: typeof code === 'number' ? {code, message} : {message}, error: message})
    } else if (!this.started) this.res.writeHead(200, {'Content-Type': 'application/json'})
    this.res.end()
  }
}

/** docker's progress bar text (jsonmessage's): `[=====>     ]  1.2MB/3.4MB`. */
export function progressText(current: number, total: number): string {
  const human = (n: number) => {
    const units = ['B', 'kB', 'MB', 'GB']
    let i = 0
    while (n >= 1000 && i < units.length - 1) {
      n /= 1000
      i++
    }
    return `${i === 0 ? n : n.toFixed(1)}${units[i]}`
  }
  if (total <= 0) return human(current)
  const width = 50
  const filled = Math.min(width, Math.floor((current / total) * width))
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] ${human(current)}/${human(total)}`
}
