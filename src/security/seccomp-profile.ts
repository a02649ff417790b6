import {NsxError} from '../cli/errors.js'

/**
 * docker's seccomp profile format (what `--security-opt seccomp=FILE.json` takes, and
 * what moby's profiles/seccomp/default.json is written in): checked field by field here,
 * so a bad profile is one clear line before any container exists.
 */
export interface SeccompProfile {
  defaultAction: string
  defaultErrnoRet?: number
  /** The older form: the architectures to filter. */
  architectures?: string[]
  /** The newer form: for the native architecture, which others to filter with it. */
  archMap?: Array<{architecture: string; subArchitectures?: string[] | null}>
  syscalls?: ProfileSyscall[]
}

export interface ProfileSyscall {
  names?: string[]
  /** Old single-name form. */
  name?: string
  action: string
  errnoRet?: number
  args?: ProfileArg[] | null
  includes?: ProfileFilter
  excludes?: ProfileFilter
  comment?: string
}

export interface ProfileArg {
  index: number
  value: number
  valueTwo?: number
  op: string
}

export interface ProfileFilter {
  caps?: string[] | null
  arches?: string[] | null
  minKernel?: string
}

export const ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG'] as const
export const COMPARISONS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const
/** libseccomp's architecture names (SCMP_ARCH_ + upper case in profiles). */
export const ARCHES = ['x86', 'x86_64', 'x32', 'arm', 'aarch64', 'mips', 'mips64', 'mips64n32', 'mipsel', 'mipsel64', 'mipsel64n32', 'ppc', 'ppc64', 'ppc64le', 's390', 's390x', 'parisc', 'parisc64', 'riscv64']

/** Parse and check a profile's text; `source` names it in messages. */
export function parseSeccompProfile(text: string, source: string): SeccompProfile {
  const fail = (why: string): never => {
    throw NsxError.invalid(`seccomp profile ${source}: ${why}`, 125)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    return fail(`not valid JSON (${(err as Error).message})`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('expected a JSON object')
  const p = raw as Record<string, unknown>
  const action = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !(ACTIONS as readonly string[]).includes(v))
      return fail(`${where}: unknown action ${JSON.stringify(v)} (valid: ${ACTIONS.join(', ')})`)
    return v
  }
  const errno = (v: unknown, where: string): number | undefined => {
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 4095) return fail(`${where}: errnoRet must be an integer 0..4095`)
    return v
  }
  const arch = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !v.startsWith('SCMP_ARCH_') || !ARCHES.includes(v.slice(10).toLowerCase())) return fail(`${where}: unknown architecture ${JSON.stringify(v)}`)
    return v
  }
  const strings = (v: unknown, where: string): string[] | undefined => {
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return fail(`${where} must be a list of strings`)
    return v as string[]
  }
  const filter = (v: unknown, where: string): ProfileFilter | undefined => {
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'object' || Array.isArray(v)) return fail(`${where} must be an object`)
    const f = v as Record<string, unknown>
    if (f.minKernel !== undefined && (typeof f.minKernel !== 'string' || !/^\d+\.\d+(\.\d+)?$/.test(f.minKernel))) return fail(`${where}.minKernel must be a version like "4.8"`)
    return {caps: strings(f.caps, `${where}.caps`), arches: strings(f.arches, `${where}.arches`), minKernel: f.minKernel as string | undefined}
  }
  const out: SeccompProfile = {defaultAction: action(p.defaultAction, 'defaultAction'), defaultErrnoRet: errno(p.defaultErrnoRet, 'defaultErrnoRet')}
  if (p.architectures !== undefined && p.architectures !== null) out.architectures = (strings(p.architectures, 'architectures') ?? []).map((a) => arch(a, 'architectures'))
  if (p.archMap !== undefined && p.archMap !== null) {
    if (!Array.isArray(p.archMap)) return fail('archMap must be a list')
    out.archMap = p.archMap.map((m: unknown, i) => {
      const e = (m ?? {}) as Record<string, unknown>
      return {architecture: arch(e.architecture, `archMap[${i}]`), subArchitectures: (strings(e.subArchitectures, `archMap[${i}].subArchitectures`) ?? []).map((a) => arch(a, `archMap[${i}]`))}
    })
  }
  if (p.syscalls !== undefined && p.syscalls !== null) {
    if (!Array.isArray(p.syscalls)) return fail('syscalls must be a list')
    out.syscalls = p.syscalls.map((s: unknown, i): ProfileSyscall => {
      const where = `syscalls[${i}]`
      if (typeof s !== 'object' || s === null) return fail(`${where} must be an object`)
      const e = s as Record<string, unknown>
      const names = strings(e.names, `${where}.names`) ?? (typeof e.name === 'string' ? [e.name] : undefined)
      if (!names || names.length === 0) return fail(`${where}: no syscall names`)
      for (const n of names) if (!/^[a-z_][a-z0-9_]*$/.test(n)) fail(`${where}: invalid syscall name ${JSON.stringify(n)}`)
      let args: ProfileArg[] | undefined
      if (e.args !== undefined && e.args !== null) {
        if (!Array.isArray(e.args) || e.args.length > 6) return fail(`${where}.args must be a list of at most 6 conditions`)
        args = e.args.map((a: unknown, j) => {
          const c = (a ?? {}) as Record<string, unknown>
          const w = `${where}.args[${j}]`
          if (typeof c.index !== 'number' || !Number.isInteger(c.index) || c.index < 0 || c.index > 5) fail(`${w}.index must be 0..5`)
          const num = (v: unknown, name: string) => {
            if (v === undefined) return 0
            if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) return fail(`${w}.${name} must be a non-negative integer`)
            return v
          }
          if (typeof c.op !== 'string' || !(COMPARISONS as readonly string[]).includes(c.op)) fail(`${w}: unknown comparison ${JSON.stringify(c.op)} (valid: ${COMPARISONS.join(', ')})`)
          return {index: c.index as number, value: num(c.value, 'value'), valueTwo: num(c.valueTwo, 'valueTwo'), op: c.op as string}
        })
      }
      return {names, action: action(e.action, where), errnoRet: errno(e.errnoRet, where), args, includes: filter(e.includes, `${where}.includes`), excludes: filter(e.excludes, `${where}.excludes`)}
    })
  }
  return out
}
