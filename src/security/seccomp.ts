import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileErrorReason, NsxError, type ErrorKind} from '../cli/errors.js'
import {encodePlan} from '../plan/encode.js'
import {executorPath} from '../plan/executor.js'
import {capabilityName} from '../proc/capabilities.js'
import {DEFAULT_SECCOMP_PROFILE} from './seccomp-default.js'
import {hostTarget, resolveSeccomp} from './seccomp-plan.js'
import {encodeSeccomp, SeccompFilter} from '../plan/security-ops.js'
import {parseSeccompProfile, SeccompProfile} from './seccomp-profile.js'

/**
 * A container's seccomp filter, from docker's flags: the default profile, none
 * (`--security-opt seccomp=unconfined`, or `--privileged`, which docker also runs
 * unfiltered), or a docker-format profile file (`--security-opt seccomp=FILE.json`).
 */

/** What --security-opt said, checked. */
export interface SecurityOpts {
  /** undefined: the default profile. */
  seccomp?: {kind: 'unconfined'} | {kind: 'file'; path: string; profile: SeccompProfile}
}

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

/** Parse every --security-opt (docker accepts KEY=VALUE and the older KEY:VALUE). */
export function parseSecurityOpts(list: readonly string[]): SecurityOpts {
  const out: SecurityOpts = {}
  for (const opt of list) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt)
    const key = m?.[1]
    const value = m?.[2]
    if (key === 'no-new-privileges') {
      // nsx always sets no_new_privs (the seccomp filter is loaded under it, without CAP_SYS_ADMIN).
      if (value === undefined || value === 'true') continue
      if (value === 'false') bad('--security-opt no-new-privileges=false: nsx always sets no_new_privs (setuid binaries and file capabilities grant nothing in a container)')
      bad(`invalid --security-opt ${opt}: no-new-privileges takes true or nothing`)
    }
    if (key === 'seccomp') {
      if (out.seccomp) bad('--security-opt seccomp may be given only once')
      if (value === undefined || value === '') bad('invalid --security-opt seccomp: give unconfined or a profile FILE.json')
      if (value === 'unconfined') out.seccomp = {kind: 'unconfined'}
      else {
        let text: string
        try {
          text = readFileSync(value!, 'utf8')
        } catch (err) {
          return bad(`cannot read seccomp profile ${value}: ${fileErrorReason(err)}`)
        }
        out.seccomp = {kind: 'file', path: value!, profile: parseSeccompProfile(text, value!)}
      }
      continue
    }
    bad(`unsupported --security-opt ${opt}: nsx takes seccomp=unconfined, seccomp=FILE.json and no-new-privileges`)
  }
  return out
}

/** The filter for a container keeping capabilities `caps` (numbers); undefined runs it unfiltered. */
export function containerSeccomp(opts: SecurityOpts, privileged: boolean, caps: readonly number[]): SeccompFilter | undefined {
  if (privileged || opts.seccomp?.kind === 'unconfined') return undefined
  const target = hostTarget(caps.map(capabilityName))
  if (opts.seccomp?.kind === 'file') return resolveSeccomp(opts.seccomp.profile, target, opts.seccomp.path)
  return resolveSeccomp(DEFAULT_SECCOMP_PROFILE, target, 'default')
}

/**
 * Compile a filter with the executor (libseccomp knows the syscall names, TypeScript
 * does not): for a user's profile, before anything of the container exists.
 */
export function checkSeccomp(filter: SeccompFilter, source: string): number {
  const [argv0, ...args] = encodePlan({command: 'nsx run', ops: [{op: 'seccomp-check', filter, cache: '-'}]})
  const r = spawnSync(executorPath(), args, {encoding: 'utf8', argv0})
  const m = /^ok (\d+)/.exec(r.stdout ?? '')
  if (r.status === 0 && m) return Number(m[1])
  const why = (r.stderr ?? '').trim().split('\n').pop()?.replace(/^nsx run: (invalid seccomp filter: )?/, '') || `the executor failed (status ${r.status})`
  return bad(`seccomp profile ${source}: ${why}`)
}

/** Where the compiled program of this filter is cached in the store (one file per distinct filter). */
export function seccompCachePath(storeRoot: string, filter: SeccompFilter): string {
  const dir = join(storeRoot, 'seccomp')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  return join(dir, `${createHash('sha256').update(encodeSeccomp(filter)).digest('hex')}.bpf`)
}
