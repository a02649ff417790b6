import {execFileSync} from 'node:child_process'
import {readdirSync, readlinkSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import type {Container} from './state.js'

/** The host pids of every process in a running container's pid namespace. */
export function containerPids(c: Container): number[] {
  if (!c.pids) return []
  let ns: string
  try {
    ns = readlinkSync(`/proc/${c.pids.init.pid}/ns/pid`)
  } catch {
    return []
  }
  const out: number[] = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      if (readlinkSync(`/proc/${e}/ns/pid`) === ns) out.push(Number(e))
    } catch {
      // gone, or not ours to read
    }
  }
  return out
}

/**
 * docker top: `ps ARGS` (default -ef) on the host, only the rows of the container's processes, as
 * docker's daemon does it: {Titles, Processes}. nsx's own init (the pid namespace's PID 1, which
 * reaps and forwards signals: docker's container has none unless run with --init) is not listed.
 */
export function containerTop(c: Container, psArgs = '-ef'): {Titles: string[]; Processes: string[][]} {
  const pids = new Set(containerPids(c))
  if (c.pids && pids.size > 1) pids.delete(c.pids.init.pid)
  const args = psArgs.split(/\s+/).filter((a) => a !== '')
  if (args.some((a) => !/^[-\w,=:%]+$/.test(a))) throw NsxError.invalid(`invalid ps arguments: ${psArgs}`, 1)
  let text: string
  try {
    text = execFileSync('ps', args, {encoding: 'utf8', maxBuffer: 16 * 1024 * 1024})
  } catch (err) {
    throw NsxError.internal(`ps ${psArgs} failed: ${(err as Error).message.split('\n')[0]}`, 1)
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  const titles = (lines.shift() ?? '').trim().split(/\s+/)
  const pidCol = titles.indexOf('PID')
  if (pidCol < 0) throw NsxError.internal(`ps ${psArgs}: no PID column in its output`, 1)
  const processes: string[][] = []
  for (const l of lines) {
    const f = l.trim().split(/\s+/)
    if (!pids.has(Number(f[pidCol]))) continue
    // The last column (CMD, COMMAND) keeps its spaces.
    processes.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')])
  }
  return {Titles: titles, Processes: processes}
}
