import {PROC_ROOT, readText} from './fs.js'

/**
 * Linux capabilities by name, as <linux/capability.h> numbers them (bit N of the
 * CapEff/CapPrm/CapBnd masks in /proc/PID/status is capability N).
 */
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const

export type CapabilityName = (typeof CAPABILITIES)[number]

/** Name of capability bit n; bits newer than this table read as "cap_N", as capsh prints them. */
export function capabilityName(bit: number): string {
  return CAPABILITIES[bit] ?? `cap_${bit}`
}

/** Parse "CAP_SYS_ADMIN", "sys_admin" or "21" into a bit number. */
export function parseCapability(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s)
  const upper = s.toUpperCase()
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`
  const i = (CAPABILITIES as readonly string[]).indexOf(name)
  return i < 0 ? undefined : i
}

/**
 * The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap): "all" means
 * all the kernel has, not all this table has, so an older kernel's full set still reads as full.
 */
export function readLastCap(root = PROC_ROOT): number {
  const text = readText(`${root}/sys/kernel/cap_last_cap`)
  const n = text === undefined ? NaN : Number(text.trim())
  return Number.isInteger(n) && n >= 0 && n < 64 ? n : CAPABILITIES.length - 1
}

export interface CapabilitySet {
  /** The mask as /proc shows it: 16 hex digits. */
  hex: string
  /** Names of the capabilities present, in bit order. */
  names: string[]
  /** Names of the capabilities the kernel has (0..lastCap) that are absent. */
  missing: string[]
  /** Number of capabilities the kernel has (lastCap + 1). */
  of: number
  /** Every capability the kernel has is present. */
  full: boolean
  /** One phrase for a human: "all 41", "none", "all but CAP_SYS_RESOURCE", or the list. */
  summary: string
}

/** A set is shown as "all but X, Y" when at most this many are missing; beyond, as its members. */
const MAX_MISSING_LISTED = 8

export function describeCapabilities(mask: bigint, lastCap: number): CapabilitySet {
  const names: string[] = []
  const missing: string[] = []
  for (let bit = 0; bit <= lastCap; bit++) {
    if ((mask >> BigInt(bit)) & 1n) names.push(capabilityName(bit))
    else missing.push(capabilityName(bit))
  }
  // Bits above cap_last_cap cannot be set by the kernel, but a fixture or a future kernel may show them.
  for (let bit = lastCap + 1; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) names.push(capabilityName(bit))
  const of = lastCap + 1
  const full = missing.length === 0
  let summary: string
  if (full) summary = `all ${of}`
  else if (names.length === 0) summary = 'none'
  else if (missing.length <= MAX_MISSING_LISTED && missing.length < names.length) summary = `all but ${missing.join(', ')} (${names.length} of ${of})`
  else summary = names.join(', ')
  return {hex: mask.toString(16).padStart(16, '0'), names, missing, of, full, summary}
}
