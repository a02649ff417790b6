import {accessSync, constants, readdirSync, readlinkSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {NsxError} from '../cli/errors.js'
import {encodePlan} from './encode.js'
import type {Plan} from './ops.js'
import {validatePlan} from './validate.js'

/**
 * native/build/nsx-exec, found from this module whether it runs from dist/src/plan
 * (the built CLI), dist/fast (the bundle bin/nsx loads) or src/plan (tests under tsx).
 */
export function executorPath(): string {
  const candidates = ['../../../native/build/nsx-exec', '../../native/build/nsx-exec'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  )
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch {
      // try the next layout
    }
  }
  throw new NsxError('the native executor is not built: run `npm run build:native` (needs a C compiler: apt-get install gcc make)', 125)
}

/** Validate, encode and execve into the executor. Never returns; throws if execve fails. */
export async function execPlan(plan: Plan): Promise<never> {
  validatePlan(plan)
  const path = executorPath()
  const {execve} = await import('../ffi/libc.js')
  try {
    return execve(path, encodePlan(plan), process.env, inheritedFds())
  } catch (err) {
    throw new NsxError(`cannot start the executor ${path}: ${(err as Error).message}`, 125)
  }
}

/**
 * The fds this process inherited from whoever started nsx, which the command must
 * inherit in turn (as under nsenter): libuv marked them close-on-exec at start-up, and
 * every fd Node opened since is close-on-exec too, so the flag cannot tell them apart.
 * Node's own are event fds, epoll fds and pipes with both ends here; anything else
 * is inherited. (An inherited pipe with both ends, or an inherited epoll fd, is lost.)
 */
export function inheritedFds(): number[] {
  const links = new Map<number, string>()
  try {
    for (const name of readdirSync('/proc/self/fd')) {
      try {
        links.set(Number(name), readlinkSync(`/proc/self/fd/${name}`))
      } catch {
        // the fd readdir used itself, closed by now
      }
    }
  } catch {
    return [0, 1, 2]
  }
  const pipes = new Map<string, number>()
  for (const l of links.values()) if (l.startsWith('pipe:')) pipes.set(l, (pipes.get(l) ?? 0) + 1)
  const out: number[] = []
  for (const [fd, l] of links) {
    if (fd <= 2) out.push(fd)
    else if (l.startsWith('anon_inode:')) continue
    else if (l.startsWith('pipe:') && (pipes.get(l) ?? 0) > 1) continue
    else out.push(fd)
  }
  return out.sort((a, b) => a - b)
}
