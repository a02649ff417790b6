import {describeError} from './errors.js'

/**
 * docker's multi-container verbs (stop a b c): each reference in turn; a failure is one
 * line on stderr and the others still go; the exit code is 1 if any failed.
 */
export async function eachRef<T>(verb: string, refs: string[], fn: (ref: string) => Promise<T>, onDone: (ref: string, result: T) => void): Promise<T[]> {
  const out: T[] = []
  let failed = false
  for (const ref of refs) {
    try {
      const r = await fn(ref)
      out.push(r)
      onDone(ref, r)
    } catch (err) {
      failed = true
      process.stderr.write(`${verb}: ${describeError(err).line}\n`)
    }
  }
  if (failed) process.exitCode = 1
  return out
}
