import {NsxError} from '../cli/errors.js'

/**
 * `nsx import -c INSTRUCTION`: the Dockerfile instructions docker import takes (CMD,
 * ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR) applied to the `config`
 * object of an OCI image configuration. Only single instructions, so no Dockerfile parser:
 * the exec form is a JSON array, the shell form goes through /bin/sh -c (docker's rule).
 */

/** The image configuration's `config` member, as docker writes it. */
export interface ContainerConfig {
  Cmd?: string[]
  Entrypoint?: string[]
  Env?: string[]
  ExposedPorts?: Record<string, object>
  Labels?: Record<string, string>
  OnBuild?: string[]
  User?: string
  Volumes?: Record<string, object>
  WorkingDir?: string
}

const bad = (change: string, why: string): never => {
  throw NsxError.invalid(`invalid --change '${change}': ${why}`, 1)
}

/** ["a","b"] (exec form), else the shell form: /bin/sh -c REST. */
function commandForm(rest: string, change: string): string[] {
  if (rest.startsWith('[')) {
    let v: unknown
    try {
      v = JSON.parse(rest)
    } catch {
      return bad(change, 'the exec form must be a JSON array of strings, e.g. ["/bin/sh", "-c", "echo hi"]')
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return bad(change, 'the exec form must be a JSON array of strings')
    return v as string[]
  }
  return ['/bin/sh', '-c', rest]
}

/** Words of ENV/LABEL: NAME=VALUE pairs (values may be "quoted"), or the old "NAME VALUE" form. */
function pairs(rest: string, change: string): [string, string][] {
  const words: string[] = []
  const re = /(?:[^\s"']+|"(?:[^"\\]|\\.)*"|'[^']*')+/g
  for (const m of rest.matchAll(re)) words.push(m[0])
  const unquote = (s: string) => s.replace(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g, (_, d: string | undefined, q: string | undefined) => (d !== undefined ? d.replace(/\\(.)/g, '$1') : (q ?? '')))
  if (words.length > 0 && !words[0].includes('=')) {
    const space = rest.search(/\s/)
    if (space < 0) return bad(change, 'expected NAME=VALUE')
    return [[words[0], rest.slice(space).trim()]]
  }
  return words.map((w) => {
    const i = w.indexOf('=')
    if (i <= 0) return bad(change, `'${w}' is not NAME=VALUE`)
    return [unquote(w.slice(0, i)), unquote(w.slice(i + 1))]
  })
}

export function applyChange(config: ContainerConfig, change: string): ContainerConfig {
  const m = /^\s*([A-Za-z]+)\s+([\s\S]*\S)\s*$/.exec(change)
  if (!m) return bad(change, 'expected INSTRUCTION ARGUMENTS, e.g. CMD ["/bin/bash"]')
  const op = m[1].toUpperCase()
  const rest = m[2]
  switch (op) {
    case 'CMD':
      config.Cmd = commandForm(rest, change)
      break
    case 'ENTRYPOINT':
      config.Entrypoint = commandForm(rest, change)
      break
    case 'ENV': {
      const env = [...(config.Env ?? [])]
      for (const [k, v] of pairs(rest, change)) {
        const i = env.findIndex((e) => e.slice(0, e.indexOf('=')) === k)
        if (i >= 0) env[i] = `${k}=${v}`
        else env.push(`${k}=${v}`)
      }
      config.Env = env
      break
    }
    case 'LABEL':
      config.Labels = {...(config.Labels ?? {}), ...Object.fromEntries(pairs(rest, change))}
      break
    case 'EXPOSE': {
      const ports = {...(config.ExposedPorts ?? {})}
      for (const p of rest.split(/\s+/)) {
        if (!/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/.test(p)) return bad(change, `'${p}' is not PORT[/PROTOCOL]`)
        ports[p.includes('/') ? p : `${p}/tcp`] = {}
      }
      config.ExposedPorts = ports
      break
    }
    case 'USER':
      config.User = rest
      break
    case 'WORKDIR':
      if (!rest.startsWith('/')) return bad(change, 'WORKDIR must be an absolute path')
      config.WorkingDir = rest
      break
    case 'VOLUME': {
      const list = rest.startsWith('[') ? commandForm(rest, change) : rest.split(/\s+/)
      config.Volumes = {...(config.Volumes ?? {}), ...Object.fromEntries(list.map((v) => [v, {}]))}
      break
    }
    case 'ONBUILD':
      config.OnBuild = [...(config.OnBuild ?? []), rest]
      break
    default:
      return bad(change, `${op} is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR`)
  }
  return config
}
