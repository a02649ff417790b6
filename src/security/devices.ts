import {ANY, BpfInsn, DeviceRule, ruleText} from '../plan/security-ops.js'


/**
 * The devices cgroup: which device nodes a container may create (m), read (r) and write
 * (w). Docker's allow-list; on cgroup v1 as devices.deny/devices.allow lines, on cgroup v2
 * (and the cgroup2 tree of a hybrid host, where the kernel runs the attached program
 * before the v1 check) as an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, generated
 * here as data and attached by the executor (native/ops-security.c), as crun and runc do.
 */
/**
 * docker's default allow-list (moby/runc's AllowedDevices) without its `c *:* m` and
 * `b *:* m`: nsx refuses mknod of any device not listed, not only its use.
 */
export const DEFAULT_DEVICE_RULES: DeviceRule[] = [
  {type: 'c', major: 1, minor: 3, access: 'rwm'}, // null
  {type: 'c', major: 1, minor: 5, access: 'rwm'}, // zero
  {type: 'c', major: 1, minor: 7, access: 'rwm'}, // full
  {type: 'c', major: 1, minor: 8, access: 'rwm'}, // random
  {type: 'c', major: 1, minor: 9, access: 'rwm'}, // urandom
  {type: 'c', major: 5, minor: 0, access: 'rwm'}, // tty
  {type: 'c', major: 5, minor: 1, access: 'rwm'}, // console
  {type: 'c', major: 5, minor: 2, access: 'rwm'}, // ptmx
  {type: 'c', major: 136, minor: ANY, access: 'rwm'}, // pts
]

/** The cgroup v1 writes: everything denied, then each rule allowed (an empty list: all allowed). */
export function v1DeviceWrites(rules: readonly DeviceRule[]): {file: 'devices.deny' | 'devices.allow'; value: string}[] {
  if (rules.length === 0) return []
  return [{file: 'devices.deny', value: 'a'}, ...rules.map((r) => ({file: 'devices.allow' as const, value: ruleText(r)}))]
}

// eBPF encoding (linux/bpf.h): one instruction is code, dst|src<<4, off (s16), imm (s32), little-endian.
const LDX_MEM_W = 0x61
const ALU64_AND_K = 0x57
const ALU64_RSH_K = 0x77
const MOV64_X = 0xbf
const MOV64_K = 0xb7
const JNE_K = 0x55
const EXIT = 0x95
/** bpf_cgroup_dev_ctx.access_type: type in the low 16 bits, access in the high ones. */
const DEV_TYPE: Record<'b' | 'c', number> = {b: 1, c: 2}
const ACCESS: Record<string, number> = {m: 1, r: 2, w: 4}

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({code, dst, src, off, imm})

/**
 * The device program: r2 = type, r3 = access, r4 = major, r5 = minor; each rule is a block
 * that jumps to the next on a mismatch and returns 1 (allowed) on a match; the end returns 0.
 */
export function deviceProgram(rules: readonly DeviceRule[]): BpfInsn[] {
  const prog: BpfInsn[] = [
    insn(LDX_MEM_W, 2, 1, 0, 0),
    insn(ALU64_AND_K, 2, 0, 0, 0xffff),
    insn(LDX_MEM_W, 3, 1, 0, 0),
    insn(ALU64_RSH_K, 3, 0, 0, 16),
    insn(LDX_MEM_W, 4, 1, 4, 0),
    insn(LDX_MEM_W, 5, 1, 8, 0),
  ]
  for (const r of rules) {
    const block: Array<BpfInsn | 'skip'> = []
    const jumpOut = (reg: number, value: number) => block.push({...insn(JNE_K, reg, 0, 0, value)}, 'skip')
    if (r.type !== 'a') jumpOut(2, DEV_TYPE[r.type])
    const mask = [...r.access].reduce((m, c) => m | ACCESS[c], 0)
    if (mask !== 7) {
      // Allowed only if no requested access is outside the rule's.
      block.push(insn(MOV64_X, 1, 3, 0, 0), insn(ALU64_AND_K, 1, 0, 0, ~mask & 0xffff))
      jumpOut(1, 0)
    }
    if (r.major !== ANY) jumpOut(4, r.major)
    if (r.minor !== ANY) jumpOut(5, r.minor)
    block.push(insn(MOV64_K, 0, 0, 0, 1), insn(EXIT, 0, 0, 0, 0))
    // Resolve each jump to the instruction after the block.
    const real = block.filter((b): b is BpfInsn => b !== 'skip')
    let idx = 0
    const out: BpfInsn[] = []
    for (let i = 0; i < block.length; i++) {
      const b = block[i]
      if (b === 'skip') continue
      idx++
      const isJump = block[i + 1] === 'skip'
      out.push(isJump ? {...b, off: real.length - idx} : b)
    }
    prog.push(...out)
  }
  prog.push(insn(MOV64_K, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0))
  return prog
}

/** Instructions back from their executor/kernel form (8 bytes each, little-endian). */
export function decodeBpfProgram(hex: string): BpfInsn[] {
  const b = Buffer.from(hex, 'hex')
  const out: BpfInsn[] = []
  for (let i = 0; i + 8 <= b.length; i += 8) out.push({code: b[i], dst: b[i + 1] & 0xf, src: b[i + 1] >> 4, off: b.readInt16LE(i + 2), imm: b.readInt32LE(i + 4)})
  return out
}

/**
 * Run a device program over one access, as the kernel would: 1 allowed, 0 denied. Knows the
 * instructions device programs use (ours, and runc's and crun's: 32- and 64-bit moves, and,
 * shifts, conditional jumps); anything else throws, and the caller says it was not evaluated.
 */
export function runDeviceProgram(prog: readonly BpfInsn[], type: 'b' | 'c', major: number, minor: number, access: string): number {
  const reg = new Array<bigint>(11).fill(0n)
  const ctx = [BigInt(DEV_TYPE[type] | ([...access].reduce((m, c) => m | ACCESS[c], 0) << 16)), BigInt(major), BigInt(minor)]
  const u64 = (v: bigint) => BigInt.asUintN(64, v)
  const u32 = (v: bigint) => BigInt.asUintN(32, v)
  for (let pc = 0; pc < prog.length; pc++) {
    const p = prog[pc]
    const imm = u64(BigInt(p.imm))
    const cls = p.code & 0x07
    const src = p.code & 0x08 ? reg[p.src] : imm
    if (p.code === LDX_MEM_W) {
      if (p.src !== 1 || p.off % 4 !== 0 || p.off > 8) throw new Error(`device program: load from ${p.off}`)
      reg[p.dst] = ctx[p.off / 4]
      continue
    }
    if (cls === 0x07 || cls === 0x04) {
      // ALU64 (7) or ALU (4, 32-bit: the result's upper half is zeroed)
      const op = p.code & 0xf0
      let v: bigint
      const a = cls === 0x04 ? u32(reg[p.dst]) : reg[p.dst]
      const b = cls === 0x04 ? u32(src) : src
      if (op === 0xb0) v = b
      else if (op === 0x50) v = a & b
      else if (op === 0x40) v = a | b
      else if (op === 0x70) v = a >> b
      else if (op === 0x60) v = a << b
      else if (op === 0x00) v = a + b
      else if (op === 0x10) v = a - b
      else throw new Error(`device program: instruction ${p.code.toString(16)}`)
      reg[p.dst] = cls === 0x04 ? u32(v) : u64(v)
      continue
    }
    if (cls === 0x05 || cls === 0x06) {
      // JMP (5) or JMP32 (6)
      const op = p.code & 0xf0
      if (op === 0x90) return Number(u32(reg[0])) // EXIT
      if (op === 0x00) {
        pc += p.off
        continue
      }
      const a = cls === 0x06 ? u32(reg[p.dst]) : reg[p.dst]
      const b = cls === 0x06 ? u32(src) : src
      const taken = op === 0x10 ? a === b : op === 0x50 ? a !== b : op === 0x20 ? a > b : op === 0x30 ? a >= b : op === 0xa0 ? a < b : op === 0xb0 ? a <= b : op === 0x40 ? (a & b) !== 0n : undefined
      if (taken === undefined) throw new Error(`device program: jump ${p.code.toString(16)}`)
      if (taken) pc += p.off
      continue
    }
    throw new Error(`device program: instruction ${p.code.toString(16)}`)
  }
  throw new Error('device program: fell off the end')
}
