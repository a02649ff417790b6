import {NsxError} from '../cli/errors.js'
import type {Instruction} from './dockerfile.js'
import {unquote} from './expand.js'

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
      if (ins.pairs.length === 0) throw new NsxError(`${where}: ENV needs KEY=VALUE`)
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
        if (!m) throw new NsxError(`${where}: invalid port '${w}' (PORT[/tcp|udp|sctp])`)
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
      if (!ins.json || ins.json.length === 0) throw new NsxError(`${where}: SHELL needs the JSON form, e.g. SHELL ["/bin/bash", "-c"]`)
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
      cfg.Healthcheck = ins.rest.trim().toUpperCase() === 'NONE' ? {Test: ['NONE']} : {Test: ['CMD-SHELL', ins.rest.replace(/^\s*(--\S+\s+)*CMD\s+/i, '')]}
      return (`HEALTHCHECK ${ins.rest.trim()}`)
    }
    case 'ONBUILD': {
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.rest.trim()]
      return (`ONBUILD ${ins.rest.trim()}`)
    }
    default:
      throw new NsxError(`${where}: ${ins.keyword} does not change the config`)
  }
}
