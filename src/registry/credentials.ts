import {chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {authKey, DEFAULT_REGISTRY} from '../image/reference.js'

/**
 * Registry credentials in the files docker and podman keep them in, same JSON both:
 * {"auths": {"HOST": {"auth": base64("user:password")}}}. Read in podman's order:
 * $REGISTRY_AUTH_FILE (or --authfile), $XDG_RUNTIME_DIR/containers/auth.json, then
 * ~/.docker/config.json. Credential helpers (credsStore) are not run: nsx only reads the
 * files. Written with mode 0600, atomically, keeping every other key of the file.
 */

export interface Credentials {
  username: string
  password: string
}

export interface AuthFileOptions {
  /** --authfile: this file only. */
  authFile?: string
  env?: NodeJS.ProcessEnv
}

export function authFiles(opts: AuthFileOptions = {}): string[] {
  const env = opts.env ?? process.env
  if (opts.authFile) return [opts.authFile]
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE]
  const files: string[] = []
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'))
  files.push(join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json'))
  return files
}

interface AuthFile {
  auths?: Record<string, {auth?: string; username?: string; password?: string}>
  [k: string]: unknown
}

function readAuthFile(file: string): AuthFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw NsxError.internal(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  if (text.trim() === '') return {}
  try {
    const j = JSON.parse(text) as AuthFile
    return typeof j === 'object' && j !== null ? j : {}
  } catch {
    throw NsxError.invalid(`${file} is not valid JSON`)
  }
}

/** Keys a registry may be filed under: docker writes Hub as its v1 URL, others as host, some with a scheme. */
function candidateKeys(registry: string): string[] {
  const keys = [authKey(registry), registry, `https://${registry}`, `http://${registry}`]
  if (registry === DEFAULT_REGISTRY) keys.push('index.docker.io', 'registry-1.docker.io')
  return keys
}

export function lookupCredentials(registry: string, opts: AuthFileOptions = {}): Credentials | undefined {
  for (const file of authFiles(opts)) {
    const auths = readAuthFile(file).auths ?? {}
    for (const key of candidateKeys(registry)) {
      const entry = auths[key] ?? auths[`${key}/`]
      if (!entry) continue
      if (typeof entry.auth === 'string' && entry.auth !== '') {
        const plain = Buffer.from(entry.auth, 'base64').toString('utf8')
        const i = plain.indexOf(':')
        if (i > 0) return {username: plain.slice(0, i), password: plain.slice(i + 1)}
      }
      if (typeof entry.username === 'string' && typeof entry.password === 'string') return {username: entry.username, password: entry.password}
    }
  }
  return undefined
}

function writeAuthFile(file: string, content: AuthFile): void {
  mkdirSync(dirname(file), {recursive: true, mode: 0o700})
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, JSON.stringify(content, null, '\t') + '\n', {mode: 0o600})
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
}

/** Files login writes: every default file (podman's and docker's), or the one named. */
function writableFiles(opts: AuthFileOptions): string[] {
  return authFiles(opts)
}

export function storeCredentials(registry: string, creds: Credentials, opts: AuthFileOptions = {}): string[] {
  const written: string[] = []
  for (const file of writableFiles(opts)) {
    const content = readAuthFile(file)
    content.auths = content.auths ?? {}
    for (const key of candidateKeys(registry)) delete content.auths[key]
    content.auths[authKey(registry)] = {auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}
    try {
      writeAuthFile(file, content)
    } catch (err) {
      throw NsxError.internal(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    written.push(file)
  }
  return written
}

/** Remove a registry's credentials; returns the files they were removed from. */
export function removeCredentials(registry: string, opts: AuthFileOptions = {}): string[] {
  const changed: string[] = []
  for (const file of writableFiles(opts)) {
    const content = readAuthFile(file)
    if (!content.auths) continue
    let found = false
    for (const key of candidateKeys(registry))
      for (const k of [key, `${key}/`])
        if (content.auths[k] !== undefined) {
          delete content.auths[k]
          found = true
        }
    if (!found) continue
    writeAuthFile(file, content)
    changed.push(file)
  }
  return changed
}

/** Every registry with stored credentials (for logout --all). */
export function removeAllCredentials(opts: AuthFileOptions = {}): string[] {
  const changed: string[] = []
  for (const file of writableFiles(opts)) {
    const content = readAuthFile(file)
    if (!content.auths || Object.keys(content.auths).length === 0) continue
    content.auths = {}
    writeAuthFile(file, content)
    changed.push(file)
  }
  return changed
}
