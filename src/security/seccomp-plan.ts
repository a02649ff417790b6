import {release} from 'node:os'
import {NsxError} from '../cli/errors.js'
import type {Comparison, FilterRule, SeccompFilter} from '../plan/security-ops.js'
import type {ProfileFilter, SeccompProfile} from './seccomp-profile.js'


/** What a profile is resolved against. */
export interface SeccompTarget {
  /** Capability names the container keeps (CAP_SYS_ADMIN ...). */
  caps: string[]
  /** Go's architecture name, as profiles' includes.arches use it (amd64, arm64 ...). */
  goArch: string
  /** [major, minor] of the running kernel. */
  kernel: [number, number]
}

const COMPARISON: Record<string, Comparison> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'me',
}

const EPERM = 1

/** Node's process.arch as Go names it (profiles name architectures the Go way). */
export function goArch(nodeArch: string = process.arch): string {
  return ({x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64le', loong64: 'loong64'} as Record<string, string>)[nodeArch] ?? nodeArch
}

/** libseccomp's name of the native architecture, from Go's. */
export function seccompArch(go: string): string {
  return ({amd64: 'x86_64', '386': 'x86', arm64: 'aarch64', arm: 'arm', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64le: 'mipsel64'} as Record<string, string>)[go] ?? go
}

export function kernelVersion(text: string = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text)
  return m ? [Number(m[1]), Number(m[2])] : [0, 0]
}

export function hostTarget(caps: string[]): SeccompTarget {
  return {caps, goArch: goArch(), kernel: kernelVersion()}
}

function actionWord(action: string, errnoRet: number | undefined): string {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return 'allow'
    case 'SCMP_ACT_LOG':
      return 'log'
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 'kill'
    case 'SCMP_ACT_KILL_PROCESS':
      return 'kill_process'
    case 'SCMP_ACT_TRAP':
      return 'trap'
    case 'SCMP_ACT_TRACE':
      return `trace:${errnoRet ?? EPERM}`
    default:
      return `errno:${errnoRet ?? EPERM}`
  }
}

function kernelAtLeast(have: [number, number], want: string): boolean {
  const [maj, min] = want.split('.').map(Number)
  return have[0] > maj || (have[0] === maj && have[1] >= min)
}

/** moby's rule: every included capability and (one of the) architectures, the kernel new enough; no excluded one. */
function applies(inc: ProfileFilter | undefined, exc: ProfileFilter | undefined, t: SeccompTarget): boolean {
  if (inc?.caps?.length && !inc.caps.every((c) => t.caps.includes(c))) return false
  if (inc?.arches?.length && !inc.arches.includes(t.goArch)) return false
  if (inc?.minKernel && !kernelAtLeast(t.kernel, inc.minKernel)) return false
  if (exc?.caps?.length && exc.caps.some((c) => t.caps.includes(c))) return false
  if (exc?.arches?.length && exc.arches.includes(t.goArch)) return false
  return true
}

/** Resolve a profile for one container; `source` names the profile in messages. */
export function resolveSeccomp(p: SeccompProfile, t: SeccompTarget, source: string): SeccompFilter {
  const defaultAction = actionWord(p.defaultAction, p.defaultErrnoRet ?? EPERM)
  const native = seccompArch(t.goArch)
  const name = (a: string) => a.slice('SCMP_ARCH_'.length).toLowerCase()
  let arches: string[] = []
  const entry = p.archMap?.find((m) => name(m.architecture) === native)
  if (entry) arches = [name(entry.architecture), ...(entry.subArchitectures ?? []).map(name)]
  else if (p.architectures?.length) arches = p.architectures.map(name)
  if (arches.length > 0 && !arches.includes(native)) arches.unshift(native)
  const rules: FilterRule[] = []
  const seen = new Set<string>()
  for (const s of p.syscalls ?? []) {
    if (!applies(s.includes, s.excludes, t)) continue
    const action = actionWord(s.action, s.errnoRet)
    // libseccomp refuses a rule whose action is the default one (runc skips those too).
    if (action === defaultAction) continue
    const args = (s.args ?? []).map((a) => ({index: a.index, op: COMPARISON[a.op], value: a.value, valueTwo: a.valueTwo ?? 0}))
    for (const syscall of s.names ?? []) {
      const key = `${action} ${syscall} ${JSON.stringify(args)}`
      if (seen.has(key)) continue
      seen.add(key)
      rules.push({action, syscall, args})
    }
  }
  const filter = {defaultAction, arches, rules}
  const exec = unconditionalVerdict(filter, 'execve')
  if (!['allow', 'log'].includes(exec) && !exec.startsWith('trace:'))
    throw NsxError.invalid(`seccomp profile ${source}: it blocks execve (${exec}), so no container command could start`, 125)
  return filter
}

/**
 * What the filter answers for a syscall called with arguments no condition mentions
 * specially: its unconditional rule, else "conditional" when only argument rules name
 * it, else the default action.
 */
export function unconditionalVerdict(f: SeccompFilter, syscall: string): string {
  const rules = f.rules.filter((r) => r.syscall === syscall)
  const plain = rules.find((r) => r.args.length === 0)
  if (plain) return plain.action
  if (rules.length > 0) return 'conditional'
  return f.defaultAction
}

/**
 * The filter as an OCI runtime spec's linux.seccomp (what docker hands runc): for running the
 * same filter under runc side by side (tests, bench/seccomp.sh).
 */
export function ociSeccomp(filter: SeccompFilter): object {
  const action = (a: string): {action: string; errnoRet?: number} => {
    const [word, n] = a.split(':')
    const names: Record<string, string> = {allow: 'SCMP_ACT_ALLOW', log: 'SCMP_ACT_LOG', kill: 'SCMP_ACT_KILL', kill_process: 'SCMP_ACT_KILL_PROCESS', trap: 'SCMP_ACT_TRAP', errno: 'SCMP_ACT_ERRNO', trace: 'SCMP_ACT_TRACE'}
    return n === undefined ? {action: names[word]} : {action: names[word], errnoRet: Number(n)}
  }
  const cmp: Record<Comparison, string> = {ne: 'SCMP_CMP_NE', lt: 'SCMP_CMP_LT', le: 'SCMP_CMP_LE', eq: 'SCMP_CMP_EQ', ge: 'SCMP_CMP_GE', gt: 'SCMP_CMP_GT', me: 'SCMP_CMP_MASKED_EQ'}
  const d = action(filter.defaultAction)
  return {
    defaultAction: d.action,
    defaultErrnoRet: d.errnoRet,
    architectures: filter.arches.map((a) => `SCMP_ARCH_${a.toUpperCase()}`),
    syscalls: filter.rules.map((r) => ({names: [r.syscall], ...action(r.action), args: r.args.map((a) => ({index: a.index, value: a.value, valueTwo: a.valueTwo, op: cmp[a.op]}))})),
  }
}
