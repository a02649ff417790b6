/**
 * Classic BPF as seccomp runs it, for `nsx inspect`: a process's filters read back from the
 * kernel (native seccomp-dump) are run here over a syscall number, so the report says what a
 * container may call whoever compiled its filter (nsx, runc, crun, docker, systemd).
 */
export interface SockFilter {
  code: number
  jt: number
  jf: number
  k: number
}

/** struct sock_filter, 8 bytes each: code (u16), jt, jf (u8), k (u32), little-endian as x86 and arm64 store them. */
export function decodeFilter(hex: string): SockFilter[] {
  const b = Buffer.from(hex, 'hex')
  const out: SockFilter[] = []
  for (let i = 0; i + 8 <= b.length; i += 8) out.push({code: b.readUInt16LE(i), jt: b[i + 2], jf: b[i + 3], k: b.readUInt32LE(i + 4)})
  return out
}

export const AUDIT_ARCH_X86_64 = 0xc000003e

/** x86_64 numbers of the syscalls `nsx inspect` asks every filter about. */
export const X86_64_SYSCALLS: Record<string, number> = {
  read: 0, write: 1, openat: 257, execve: 59, clone: 56, clone3: 435, socket: 41, personality: 135, io_uring_setup: 425,
  mount: 165, umount2: 166, unshare: 272, setns: 308, keyctl: 250, add_key: 248, request_key: 249, ptrace: 101,
  kexec_load: 246, open_by_handle_at: 304, bpf: 321, perf_event_open: 298, userfaultfd: 323, reboot: 169,
  init_module: 175, finit_module: 313, chroot: 161, pivot_root: 155, swapon: 167, syslog: 103, acct: 163,
  settimeofday: 164, fchmodat2: 452, mseal: 462,
}

/** seccomp_data: nr, arch, instruction_pointer, args[6]. */
export interface SeccompData {
  nr: number
  arch: number
  ip?: bigint
  args?: bigint[]
}

function loadWord(d: SeccompData, off: number): number {
  if (off === 0) return d.nr >>> 0
  if (off === 4) return d.arch >>> 0
  const u64 = off < 16 ? (d.ip ?? 0n) : (d.args?.[(off - 16) >> 3] ?? 0n)
  // The low word first (little-endian), then the high one.
  return Number((off % 8 === 0 ? u64 : u64 >> 32n) & 0xffffffffn)
}

/** Run one filter; its return value (action | data). Throws on an instruction seccomp would not have accepted. */
export function runFilter(prog: readonly SockFilter[], d: SeccompData): number {
  let A = 0
  let X = 0
  const M = new Array<number>(16).fill(0)
  for (let pc = 0; pc < prog.length; pc++) {
    const {code, jt, jf, k} = prog[pc]
    const cls = code & 0x07
    const src = code & 0x08 ? X : k
    switch (cls) {
      case 0x00: // LD
        if ((code & 0xe0) === 0x20) A = loadWord(d, k) // ABS
        else if ((code & 0xe0) === 0x00) A = k // IMM
        else if ((code & 0xe0) === 0x60) A = M[k] // MEM
        else if ((code & 0xe0) === 0x80) A = 64 // LEN: sizeof(struct seccomp_data)
        else throw new Error(`bpf: unsupported load ${code.toString(16)}`)
        break
      case 0x01: // LDX
        if ((code & 0xe0) === 0x00) X = k
        else if ((code & 0xe0) === 0x60) X = M[k]
        else if ((code & 0xe0) === 0x80) X = 64
        else throw new Error(`bpf: unsupported load ${code.toString(16)}`)
        break
      case 0x02: // ST
        M[k] = A
        break
      case 0x03: // STX
        M[k] = X
        break
      case 0x04: {
        // ALU (32-bit)
        const op = code & 0xf0
        const v = src >>> 0
        if (op === 0x00) A = (A + v) >>> 0
        else if (op === 0x10) A = (A - v) >>> 0
        else if (op === 0x20) A = Number((BigInt(A) * BigInt(v)) & 0xffffffffn)
        else if (op === 0x30) A = v === 0 ? 0 : Math.floor(A / v) >>> 0
        else if (op === 0x40) A = (A | v) >>> 0
        else if (op === 0x50) A = (A & v) >>> 0
        else if (op === 0x60) A = v >= 32 ? 0 : (A << v) >>> 0
        else if (op === 0x70) A = v >= 32 ? 0 : A >>> v
        else if (op === 0x80) A = -A >>> 0
        else if (op === 0x90) A = v === 0 ? 0 : (A % v) >>> 0
        else if (op === 0xa0) A = (A ^ v) >>> 0
        else throw new Error(`bpf: unsupported alu ${code.toString(16)}`)
        break
      }
      case 0x05: {
        // JMP
        const op = code & 0xf0
        if (op === 0x00) {
          pc += k
          break
        }
        const v = src >>> 0
        const a = A >>> 0
        const taken = op === 0x10 ? a === v : op === 0x20 ? a > v : op === 0x30 ? a >= v : op === 0x40 ? (a & v) !== 0 : undefined
        if (taken === undefined) throw new Error(`bpf: unsupported jump ${code.toString(16)}`)
        pc += taken ? jt : jf
        break
      }
      case 0x06: // RET
        return ((code & 0x18) === 0x10 ? A : k) >>> 0
      case 0x07: // MISC
        if ((code & 0xf8) === 0x00) X = A // TAX
        else A = X // TXA
        break
    }
  }
  throw new Error('bpf: the filter fell off its end')
}

const ERRNO_NAMES: Record<number, string> = {1: 'EPERM', 13: 'EACCES', 22: 'EINVAL', 38: 'ENOSYS'}

/** The kernel's rule over several filters: the action of highest precedence wins (signed comparison of the action bits). */
export function verdictOf(filters: readonly SockFilter[][], d: SeccompData): string {
  let best: number | undefined
  for (const f of filters) {
    const r = runFilter(f, d)
    if (best === undefined || ((r & 0xffff0000) | 0) < ((best & 0xffff0000) | 0)) best = r
  }
  if (best === undefined) return 'allow'
  const action = (best & 0xffff0000) >>> 0
  const data = best & 0xffff
  switch (action) {
    case 0x80000000:
      return 'kill_process'
    case 0x00000000:
      return 'kill'
    case 0x00030000:
      return 'trap'
    case 0x00050000:
      return `errno ${ERRNO_NAMES[data] ?? data}`
    case 0x7fc00000:
      return 'notify'
    case 0x7ff00000:
      return 'trace'
    case 0x7ffc0000:
      return 'log'
    case 0x7fff0000:
      return 'allow'
    default:
      return `action ${action.toString(16)}`
  }
}
