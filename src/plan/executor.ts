import {accessSync, closeSync, constants, readFileSync, readdirSync, readlinkSync, writeSync} from 'node:fs'
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
  throw NsxError.internal('the native executor is not built: run `npm run build:native` (needs a C compiler: apt-get install gcc make)', 125)
}

/**
 * A sealed, close-on-exec memfd copy of the executor. `enter` execs a command from the
 * target's filesystem: had a container replaced it by a `#!/proc/self/exe` script, the
 * kernel would start our executor again in there, and its /proc/PID/exe would hand the
 * container the host's binary to overwrite (CVE-2019-5736, the runc bug; nsenter has it
 * too). A sealed copy cannot be written by anyone, root included.
 */
export async function sealedExecutor(): Promise<number> {
  const bytes = readFileSync(executorPath())
  const libc = await import('../ffi/libc.js')
  const MFD_CLOEXEC = 0x1
  const fd = libc.memfdCreate('nsx-exec', libc.MFD_ALLOW_SEALING | MFD_CLOEXEC)
  try {
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    libc.addSeals(fd, libc.F_SEAL_SEAL | libc.F_SEAL_SHRINK | libc.F_SEAL_GROW | libc.F_SEAL_WRITE)
  } catch (err) {
    closeSync(fd)
    throw err
  }
  return fd
}

/**
 * Validate, encode and execve into (a sealed copy of) the executor. Never returns; throws
 * if execve fails. `inherit`: the fds the command gets, best taken by inheritedFds() when
 * nsx starts, before its own code opens anything.
 */
export async function execPlan(plan: Plan, inherit: readonly number[] = inheritedFds()): Promise<never> {
  validatePlan(plan)
  const fd = await sealedExecutor()
  const {execve} = await import('../ffi/libc.js')
  try {
    // An ELF binary runs from a close-on-exec fd: the kernel opens it before closing the fds.
    return execve(`/proc/self/fd/${fd}`, encodePlan(plan), process.env, inherit.filter((f) => f !== fd))
  } catch (err) {
    throw NsxError.internal(`cannot start the executor ${executorPath()}: ${(err as Error).message}`, 125)
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
