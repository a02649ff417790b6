import {NsxError} from '../cli/errors.js'

/** Passwords for login, read so that they never appear in argv, a log or an error. */

export async function readAllStdin(): Promise<string> {
  const parts: Buffer[] = []
  for await (const c of process.stdin as AsyncIterable<Buffer>) parts.push(c)
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '')
}

/** A line from the terminal; with echo off for a password. */
export async function promptLine(question: string, secret: boolean): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) throw new NsxError('no terminal to ask on: use --username and --password-stdin')
  process.stderr.write(question)
  return new Promise((resolve, reject) => {
    let line = ''
    stdin.setRawMode(true)
    stdin.resume()
    const done = (err?: Error) => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      process.stderr.write('\n')
      if (err) reject(err)
      else resolve(line)
    }
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(new NsxError('login cancelled'))
        if (ch === '\u007f' || ch === '\b') {
          if (line.length > 0) {
            line = line.slice(0, -1)
            if (!secret) process.stderr.write('\b \b')
          }
          continue
        }
        line += ch
        if (!secret) process.stderr.write(ch)
      }
    }
    stdin.on('data', onData)
  })
}
