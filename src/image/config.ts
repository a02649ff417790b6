import {NsxError} from '../cli/errors.js'
import {checkDigestSyntax} from './blob.js'

/**
 * The image configuration (OCI image-spec config.md, the same JSON docker writes):
 * the runtime defaults a container starts with, and the diff_ids its layers must match.
 */

export interface ImageDefaults {
  entrypoint: string[]
  cmd: string[]
  /** "NAME=value" strings, in order. */
  env: string[]
  /** "" means the root directory. */
  workingDir: string
  /** "" means root; otherwise user, uid, user:group or uid:gid, resolved inside the rootfs. */
  user: string
  /** ExposedPorts' keys ("80/tcp"), for nsx run -P; absent when the image exposes none. */
  exposedPorts?: string[]
  /** HEALTHCHECK: docker's Healthcheck; absent when the image has none. */
  healthcheck?: HealthConfig
}

/**
 * docker's HealthConfig, as image configs, the Engine API and `nsx container inspect` carry it:
 * Test is ["CMD", ARG...], ["CMD-SHELL", COMMAND], ["NONE"], or empty (inherit the image's);
 * durations in nanoseconds, 0 (or absent) for the default; Retries 0 for the default.
 */
export interface HealthConfig {
  Test?: string[]
  Interval?: number
  Timeout?: number
  StartPeriod?: number
  StartInterval?: number
  Retries?: number
}

/** A config's Healthcheck, kept only in docker's shape (a malformed one is dropped: it cannot run). */
export function healthConfigOf(v: unknown): HealthConfig | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  const out: HealthConfig = {}
  if (Array.isArray(o.Test) && o.Test.every((x) => typeof x === 'string')) out.Test = o.Test as string[]
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) > 0) out[k] = o[k] as number
  return Object.keys(out).length > 0 ? out : undefined
}

export interface ImageConfig {
  architecture: string
  os: string
  created?: string
  diffIds: string[]
  defaults: ImageDefaults
}

function strings(v: unknown, what: string, label: string): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw NsxError.invalid(`${label}: config field ${what} is not a list of strings`)
  return v as string[]
}

function str(v: unknown, what: string, label: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw NsxError.invalid(`${label}: config field ${what} is not a string`)
  return v
}

export function parseImageConfig(bytes: Buffer, label: string): ImageConfig {
  let j: Record<string, unknown>
  try {
    j = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw NsxError.invalid(`${label}: image config is not JSON (${(err as Error).message})`)
  }
  if (typeof j !== 'object' || j === null) throw NsxError.invalid(`${label}: image config is not a JSON object`)
  const rootfs = j.rootfs as {type?: string; diff_ids?: unknown} | undefined
  if (!rootfs || rootfs.type !== 'layers') throw NsxError.invalid(`${label}: image config has no rootfs of type "layers"`)
  const diffIds = strings(rootfs.diff_ids, 'rootfs.diff_ids', label).map((d) => checkDigestSyntax(d, `${label}: rootfs.diff_ids`))
  const c = (j.config ?? {}) as Record<string, unknown>
  return {
    architecture: str(j.architecture, 'architecture', label),
    os: str(j.os, 'os', label),
    created: typeof j.created === 'string' ? j.created : undefined,
    diffIds,
    defaults: {
      entrypoint: strings(c.Entrypoint, 'Entrypoint', label),
      cmd: strings(c.Cmd, 'Cmd', label),
      env: strings(c.Env, 'Env', label),
      workingDir: str(c.WorkingDir, 'WorkingDir', label),
      user: str(c.User, 'User', label),
      ...(c.ExposedPorts && typeof c.ExposedPorts === 'object' && Object.keys(c.ExposedPorts).length > 0 ? {exposedPorts: Object.keys(c.ExposedPorts)} : {}),
      ...(healthConfigOf(c.Healthcheck) ? {healthcheck: healthConfigOf(c.Healthcheck)} : {}),
    },
  }
}
