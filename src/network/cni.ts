import {spawn, spawnSync} from 'node:child_process'
import {accessSync, constants} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'

/**
 * Executing CNI plugins as the CNI spec (1.0.0) says and libcni does: the plugin's binary
 * from CNI_PATH, the command and the container in the environment, the network
 * configuration on stdin (name, cniVersion, runtimeConfig and prevResult added per
 * plugin), the result or an error object on stdout.
 */

/** Where Debian's containernetworking-plugins puts them; NSX_CNI_PATH overrides (':'-separated). */
export const CNI_PATH = process.env.NSX_CNI_PATH ?? '/usr/lib/cni'

/** The plugins find iptables, ip and friends on this PATH, whatever nsx's own environment holds. */
export const PLUGIN_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION'

export interface CniCall {
  command: CniCommand
  containerId: string
  netns: string
  ifname: string
  /** CNI_ARGS, e.g. IgnoreUnknown=1;IP=10.88.0.9 (host-local's requested address). */
  args?: string
}

export function pluginPath(type: string): string {
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(type)) throw NsxError.invalid(`invalid CNI plugin type '${type}'`, 125)
  for (const dir of CNI_PATH.split(':')) {
    const p = join(dir, type)
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch {
      // the next directory
    }
  }
  throw NsxError.notFound(`CNI plugin '${type}' not found in ${CNI_PATH} (install Debian's containernetworking-plugins)`, 125)
}

/** The environment a plugin runs with (the CNI_* variables and a PATH for the tools it runs). */
export function pluginEnv(call: CniCall): Record<string, string> {
  return {
    PATH: PLUGIN_PATH_ENV,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifname,
    CNI_PATH,
    ...(call.args ? {CNI_ARGS: call.args} : {}),
  }
}

/** The stdin of one plugin of a list: its configuration with the list's name and version, and the previous result. */
export function pluginInput(conf: Record<string, unknown>, list: {name: string; cniVersion: string}, prevResult?: Record<string, unknown>, runtimeConfig?: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {...conf, name: list.name, cniVersion: list.cniVersion}
  if (prevResult) input.prevResult = prevResult
  if (runtimeConfig && Object.keys(runtimeConfig).length > 0) input.runtimeConfig = runtimeConfig
  return input
}

/** Run one plugin; its result (ADD), or nothing; a CNI error becomes one line. */
export function execPlugin(type: string, call: CniCall, input: Record<string, unknown>): Record<string, unknown> | undefined {
  const r = spawnSync(pluginPath(type), [], {input: JSON.stringify(input), env: pluginEnv(call), encoding: 'utf8', maxBuffer: 16 << 20})
  return pluginOutcome(type, call, r)
}

/** The same without blocking: the start goes on planning while the plugin runs. */
export function execPluginAsync(type: string, call: CniCall, input: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(pluginPath(type), [], {env: pluginEnv(call), stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    let error: Error | undefined
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.stdin.on('error', () => {}) // a plugin that exits without reading: its status tells
    child.on('error', (e) => (error = e))
    child.on('close', (status) => {
      try {
        resolve(pluginOutcome(type, call, {error, status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8')}))
      } catch (e) {
        reject(e)
      }
    })
    child.stdin.end(JSON.stringify(input))
  })
}

export function pluginOutcome(type: string, call: CniCall, r: {error?: Error; status: number | null; stdout?: string | null; stderr?: string | null}): Record<string, unknown> | undefined {
  if (r.error) throw NsxError.internal(`CNI plugin ${type} ${call.command}: ${r.error.message}`, 125)
  const out = (r.stdout ?? '').trim()
  if (r.status !== 0) {
    let msg = out || (r.stderr ?? '').trim() || `exit status ${r.status}`
    try {
      const e = JSON.parse(out) as {msg?: string; details?: string}
      msg = [e.msg, e.details].filter(Boolean).join(': ') || msg
    } catch {
      // not JSON: the raw text
    }
    throw NsxError.internal(`CNI plugin ${type} ${call.command} failed: ${msg.split('\n')[0]}`, 125)
  }
  if (out === '') return undefined
  try {
    return JSON.parse(out) as Record<string, unknown>
  } catch {
    throw NsxError.internal(`CNI plugin ${type} ${call.command}: its output is not JSON`, 125)
  }
}
