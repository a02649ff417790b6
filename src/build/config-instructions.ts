import {NsxError} from '../cli/errors.js'
import type {Instruction} from './dockerfile.js'
import {unquote} from './expand.js'
import {parseGoDuration} from '../container/health.js'
import type {HealthConfig} from '../image/config.js'

/**
 * The Dockerfile instructions that only change the image config (ENV, LABEL, MAINTAINER,
 * EXPOSE, VOLUME, USER, STOPSIGNAL, SHELL, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD), applied to
 * a config: shared by nsx build and nsx commit -c. Returns the history's created_by.
 */

/** The "config" object of an OCI/docker image config (docker's capitalised names). */
export interface ContainerConfig {
  User?: string
  ExposedPorts?: Record<string, object>
  Env?: string[]
  Entrypoint?: string[] | null
  Cmd?: string[] | null
  Volumes?: Record<string, object>
  WorkingDir?: string
  Labels?: Record<string, string>
  StopSignal?: string
  Shell?: string[]
  Healthcheck?: unknown
  OnBuild?: string[]
  [k: string]: unknown
}

export interface ConfigTarget {
  config: ContainerConfig
  author?: string
  /** CMD was set since the base: a later ENTRYPOINT keeps it (otherwise it drops the base's). */
  cmdSet: boolean
}

export const DEFAULT_SHELL = ['/bin/sh', '-c']

export function setEnv(cfg: ContainerConfig, key: string, value: string): void {
  const env = (cfg.Env ?? []).filter((e) => !e.startsWith(`${key}=`))
  const i = (cfg.Env ?? []).findIndex((e) => e.startsWith(`${key}=`))
  if (i >= 0) env.splice(i, 0, `${key}=${value}`)
  else env.push(`${key}=${value}`)
  cfg.Env = env
}

export const CONFIG_INSTRUCTIONS = new Set(['ENV', 'LABEL', 'MAINTAINER', 'EXPOSE', 'VOLUME', 'USER', 'STOPSIGNAL', 'SHELL', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'ONBUILD'])

export function applyConfigInstruction(t: ConfigTarget, ins: Instruction, x: (s: string) => string, where: string): string {
  const cfg = t.config
  const words = () => ins.words.map((w) => unquote(x(w)))
  switch (ins.keyword) {
    case 'ENV': {
      if (ins.pairs.length === 0) throw NsxError.invalid(`${where}: ENV needs KEY=VALUE`)
      // All values are expanded with the environment as it was before this instruction.
      const expanded = ins.pairs.map((p) => [p.key, x(p.value ?? '')] as const)
      for (const [k, v] of expanded) setEnv(cfg, k, v)
      return (`ENV ${expanded.map(([k, v]) => `${k}=${v}`).join(' ')}`)
    }
    case 'LABEL': {
      cfg.Labels = {...(cfg.Labels ?? {})}
      for (const p of ins.pairs) cfg.Labels[x(p.key)] = x(p.value ?? '')
      return (`LABEL ${ins.pairs.map((p) => `${x(p.key)}=${x(p.value ?? '')}`).join(' ')}`)
    }
    case 'MAINTAINER': {
      t.author = x(ins.rest.trim())
      cfg.Labels = {...(cfg.Labels ?? {}), maintainer: t.author}
      return (`MAINTAINER ${t.author}`)
    }
    case 'EXPOSE': {
      cfg.ExposedPorts = {...(cfg.ExposedPorts ?? {})}
      for (const w of words()) {
        const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(w)
        if (!m) throw NsxError.invalid(`${where}: invalid port '${w}' (PORT[/tcp|udp|sctp])`)
        const proto = (m[3] ?? 'tcp').toLowerCase()
        const from = Number(m[1])
        const to = m[2] ? Number(m[2]) : from
        for (let p = from; p <= to; p++) cfg.ExposedPorts[`${p}/${proto}`] = {}
      }
      return (`EXPOSE ${words().join(' ')}`)
    }
    case 'VOLUME': {
      const vols = ins.json ?? words()
      cfg.Volumes = {...(cfg.Volumes ?? {})}
      for (const v of vols) cfg.Volumes[x(v)] = {}
      return (`VOLUME ${JSON.stringify(vols.map(x))}`)
    }
    case 'USER': {
      cfg.User = x(ins.rest.trim())
      return (`USER ${cfg.User}`)
    }
    case 'STOPSIGNAL': {
      cfg.StopSignal = x(ins.rest.trim())
      return (`STOPSIGNAL ${cfg.StopSignal}`)
    }
    case 'SHELL': {
      if (!ins.json || ins.json.length === 0) throw NsxError.invalid(`${where}: SHELL needs the JSON form, e.g. SHELL ["/bin/bash", "-c"]`)
      cfg.Shell = ins.json
      return (`SHELL ${JSON.stringify(ins.json)}`)
    }
    case 'CMD':
    case 'ENTRYPOINT': {
      const argv = ins.json ?? (ins.rest.trim() === '' ? [] : [...(cfg.Shell ?? DEFAULT_SHELL), ins.rest.trim()])
      if (ins.keyword === 'CMD') {
        cfg.Cmd = argv
        t.cmdSet = true
      }
      else {
        cfg.Entrypoint = argv
        // As docker: a new ENTRYPOINT drops a CMD inherited from the base.
        if (!t.cmdSet) cfg.Cmd = null
      }
      return (`${ins.keyword} ${JSON.stringify(argv)}`)
    }
    case 'HEALTHCHECK': {
      cfg.Healthcheck = parseHealthcheck(ins.rest, where, ins.flags)
      return (`HEALTHCHECK ${ins.rest.trim()}`)
    }
    case 'ONBUILD': {
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.rest.trim()]
      return (`ONBUILD ${ins.rest.trim()}`)
    }
    default:
      throw NsxError.internal(`${where}: ${ins.keyword} does not change the config`)
  }
}

const HEALTH_FLAGS: Record<string, keyof HealthConfig> = {interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval', retries: 'Retries'}

/**
 * HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D] [--retries=N] CMD
 * command (the exec form, a JSON array: Test ["CMD", ...]; else ["CMD-SHELL", text]), or HEALTHCHECK
 * NONE (docker's builder rules and messages).
 */
export function parseHealthcheck(rest: string, where: string, parsed: ReadonlyMap<string, string> = new Map()): HealthConfig {
  let text = rest.trim()
  const out: HealthConfig = {}
  const given = [...parsed].map(([k, v]) => [`--${k}=${v}`, k, v])
  for (let m: string[] | null = given.shift() ?? /^--([a-z-]+)=(\S*)\s*/.exec(text); m; m = given.shift() ?? /^--([a-z-]+)=(\S*)\s*/.exec(text)) {
    const key = HEALTH_FLAGS[m[1]]
    if (!key) throw NsxError.invalid(`${where}: Unknown flag: ${m[1]}`)
    if (key === 'Retries') {
      if (!/^-?\d+$/.test(m[2])) throw NsxError.invalid(`${where}: invalid --retries '${m[2]}': a whole number`)
      if (Number(m[2]) < 0) throw NsxError.invalid(`${where}: --retries cannot be negative`)
      if (Number(m[2]) > 0) out.Retries = Number(m[2])
    } else {
      const ns = parseGoDuration(m[2])
      if (ns === undefined) throw NsxError.invalid(`${where}: invalid --${m[1]} '${m[2]}': time: invalid duration "${m[2]}"`)
      if (ns !== 0 && ns < 1e6) throw NsxError.invalid(`${where}: Interval "${m[1]}" cannot be less than 1ms`)
      if (ns !== 0) (out as Record<string, number>)[key] = ns
    }
    if (text.startsWith(m[0].trim())) text = text.slice(m[0].length).trimStart()
  }
  const [kind = '', ...words] = text.split(/\s+/)
  const command = text.slice(kind.length).trim()
  if (kind.toUpperCase() === 'NONE') {
    if (words.length > 0 || Object.keys(out).length > 0) throw NsxError.invalid(`${where}: HEALTHCHECK NONE takes no arguments`)
    return {Test: ['NONE']}
  }
  if (kind.toUpperCase() !== 'CMD') throw NsxError.invalid(`${where}: Unknown type "${kind}" in HEALTHCHECK (try CMD)`)
  if (command === '') throw NsxError.invalid(`${where}: Missing command after HEALTHCHECK CMD`)
  let exec: unknown
  try {
    exec = command.startsWith('[') ? JSON.parse(command) : undefined
  } catch {
    exec = undefined
  }
  const test = Array.isArray(exec) && exec.length > 0 && exec.every((x) => typeof x === 'string') ? ['CMD', ...(exec as string[])] : ['CMD-SHELL', command]
  return {Test: test, ...out}
}
