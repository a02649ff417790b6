import {NsxError} from '../cli/errors.js'
import {RegistryClient} from './client.js'
import {AuthFileOptions, removeAllCredentials, removeCredentials, storeCredentials} from './credentials.js'
import {DEFAULT_REGISTRY, parseReference} from '../image/reference.js'

export interface LoginOptions {
  /** host[:port]; docker.io when absent. */
  registry?: string
  username: string
  password: string
  tlsVerify?: boolean
  authFile?: string
}

/** A registry argument as docker login takes it: host[:port], maybe with a scheme or a path. */
export function registryHost(arg: string | undefined): string {
  if (arg === undefined || arg === '') return DEFAULT_REGISTRY
  let s = arg.replace(/^https?:\/\//, '')
  s = s.split('/')[0]
  if (s === 'index.docker.io' || s === 'registry-1.docker.io') return DEFAULT_REGISTRY
  // Checked with the reference grammar: a host must parse as one.
  parseReference(`${s}/x`)
  return s
}

/** nsx login: check the credentials against the registry, then store them (0600). */
export async function login(opts: LoginOptions): Promise<{registry: string; files: string[]}> {
  const registry = registryHost(opts.registry)
  if (opts.username === '') throw new NsxError('login: a username is required')
  if (opts.password === '') throw new NsxError('login: a password is required')
  const client = new RegistryClient(registry, {tlsVerify: opts.tlsVerify, credentials: {username: opts.username, password: opts.password}})
  try {
    await client.checkLogin()
  } finally {
    client.close()
  }
  const files = storeCredentials(registry, {username: opts.username, password: opts.password}, {authFile: opts.authFile})
  return {registry, files}
}

export interface LogoutOptions extends AuthFileOptions {
  registry?: string
  all?: boolean
}

/** nsx logout: remove stored credentials; an error when there were none for that registry. */
export function logout(opts: LogoutOptions): {registry?: string; files: string[]} {
  if (opts.all) return {files: removeAllCredentials(opts)}
  const registry = registryHost(opts.registry)
  const files = removeCredentials(registry, opts)
  if (files.length === 0) throw new NsxError(`not logged in to ${registry}`)
  return {registry, files}
}
