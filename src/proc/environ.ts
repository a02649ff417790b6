import {AccessLog, PROC_ROOT} from './fs.js'
import {readFileSync} from 'node:fs'

/**
 * The names (never the values) of a process's environment, from /proc/PID/environ, sorted and
 * without repeats: what differs between two workloads without disclosing a secret. undefined
 * when unreadable (gone, or denied: reading it needs ptrace access, as for /proc/PID/mem).
 */
export function readEnvironmentNames(pid: number, log?: AccessLog, root = PROC_ROOT): string[] | undefined {
  let raw: Buffer
  try {
    raw = readFileSync(`${root}/${pid}/environ`)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') log?.record('environments')
    return undefined
  }
  return environmentNames(raw.toString('utf8'))
}

/** "A=1\0B=2\0" -> ["A", "B"]: names only, sorted, once each (an entry without "=" is kept whole). */
export function environmentNames(text: string): string[] {
  const names = new Set<string>()
  for (const entry of text.split('\0')) {
    if (!entry) continue
    const eq = entry.indexOf('=')
    names.add(eq < 0 ? entry : entry.slice(0, eq))
  }
  return [...names].sort()
}
