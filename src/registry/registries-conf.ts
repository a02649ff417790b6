import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {parse as parseToml} from 'smol-toml'
import {NsxError} from '../cli/errors.js'
import {canonical, parseReference, Reference} from '../image/reference.js'

/**
 * containers-registries.conf(5), the file podman, skopeo and buildah read (containers/image's
 * sysregistriesv2), so one file gives every tool of the host the same mirrors:
 *
 *   [[registry]]
 *   prefix = "docker.io"            # default: location
 *   location = "docker.io"          # where the prefix really is (a rewrite when they differ)
 *   insecure = false                # plain HTTP or an unverified certificate allowed
 *   blocked = false                 # pulls refused
 *   mirror-by-digest-only = false   # mirrors only for @sha256: references
 *   [[registry.mirror]]
 *   location = "127.0.0.1:5000"     # host[:port][/namespace]
 *   insecure = true
 *   pull-from-mirror = "all"        # or "digest-only", "tag-only"
 *
 * Read from $CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf (when it
 * exists, as containers/image does for every user), else /etc/containers/registries.conf; then
 * the drop-ins of /etc/containers/registries.conf.d/*.conf (and the user's) in name order, a
 * drop-in's [[registry]] replacing the entry of the same prefix. The v1 tables
 * ([registries.insecure] and [registries.block]) are read too. Short-name settings
 * (unqualified-search-registries, [aliases], short-name-mode) do not apply: nsx resolves a
 * short name as docker does, to docker.io.
 */

export interface MirrorEntry {
  location: string
  insecure: boolean
  pullFromMirror: 'all' | 'digest-only' | 'tag-only'
}

export interface RegistryEntry {
  prefix: string
  location: string
  insecure: boolean
  blocked: boolean
  mirrorByDigestOnly: boolean
  mirrors: MirrorEntry[]
  /** The file that said it (for messages). */
  file: string
}

export interface RegistriesConf {
  registries: RegistryEntry[]
  /** The files read, in order. */
  files: string[]
}

/** One place to pull from: a mirror or the registry itself, with the repository as named there. */
export interface PullSource {
  /** host[:port] to contact (docker.io for Docker Hub). */
  registry: string
  repository: string
  insecure: boolean
  mirror: boolean
}

/** Docker Hub's names, which the reference grammar folds into docker.io. */
const DOCKER_HUB_NAMES = ['docker.io', 'index.docker.io', 'registry-1.docker.io']

const SYSTEM_CONF = '/etc/containers/registries.conf'
const SYSTEM_DIR = '/etc/containers/registries.conf.d'

type Table = Record<string, unknown>

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A location or prefix: host[:port][/path], no scheme; a prefix may start with *. (a wildcard host). */
function checkLocation(v: string, key: string, file: string, wildcard: boolean): string {
  const s = v.replace(/\/+$/, '')
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) throw NsxError.invalid(`${file}: ${key} '${v}' must be host[:port][/path], without a scheme`)
  if (wildcard && s.startsWith('*.')) {
    if (!/^\*\.[a-z0-9.-]+$/i.test(s)) throw NsxError.invalid(`${file}: ${key} '${v}': a wildcard prefix is *.DOMAIN alone`)
    return s
  }
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9._/-]+)?$/i.test(s) && !/^\[[0-9a-f:]+\](:[0-9]+)?(\/[a-z0-9._/-]+)?$/i.test(s))
    throw NsxError.invalid(`${file}: ${key} '${v}' is not host[:port][/path]`)
  return s
}

function bool(t: Table, key: string, file: string): boolean {
  const v = t[key]
  if (v === undefined) return false
  if (typeof v !== 'boolean') throw NsxError.invalid(`${file}: ${key} must be true or false`)
  return v
}

function str(t: Table, key: string, file: string): string | undefined {
  const v = t[key]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw NsxError.invalid(`${file}: ${key} must be a string`)
  return v
}

/** The [[registry]] entries of one file's text (v2, or v1's insecure and block lists). */
export function parseRegistriesConf(text: string, file: string): RegistryEntry[] {
  let doc: Table
  try {
    doc = parseToml(text) as Table
  } catch (err) {
    throw NsxError.invalid(`${file}: not valid TOML: ${(err as Error).message.split('\n')[0]}`)
  }
  const out: RegistryEntry[] = []
  const v1 = doc.registries
  if (v1 !== undefined) {
    if (doc.registry !== undefined) throw NsxError.invalid(`${file}: mixes the v1 [registries.*] tables with v2 [[registry]] entries`)
    if (!isTable(v1)) throw NsxError.invalid(`${file}: registries must be a table`)
    const list = (name: string): string[] => {
      const t = v1[name]
      if (t === undefined) return []
      const r = isTable(t) ? t.registries : undefined
      if (!Array.isArray(r) || r.some((x) => typeof x !== 'string')) throw NsxError.invalid(`${file}: [registries.${name}] registries must be a list of strings`)
      return r as string[]
    }
    const entry = (loc: string): RegistryEntry => {
      const location = checkLocation(loc, 'location', file, false)
      let e = out.find((x) => x.prefix === location)
      if (!e) out.push((e = {prefix: location, location, insecure: false, blocked: false, mirrorByDigestOnly: false, mirrors: [], file}))
      return e
    }
    for (const r of list('insecure')) entry(r).insecure = true
    for (const r of list('block')) entry(r).blocked = true
    return out
  }
  const regs = doc.registry
  if (regs === undefined) return out
  if (!Array.isArray(regs)) throw NsxError.invalid(`${file}: registry must be an array of tables ([[registry]])`)
  for (const r of regs) {
    if (!isTable(r)) throw NsxError.invalid(`${file}: each [[registry]] must be a table`)
    const loc = str(r, 'location', file)
    const pre = str(r, 'prefix', file)
    if ((loc === undefined || loc === '') && (pre === undefined || !pre.startsWith('*.'))) throw NsxError.invalid(`${file}: a [[registry]] needs a location`)
    const location = loc ? checkLocation(loc, 'location', file, false) : ''
    const prefix = pre ? checkLocation(pre, 'prefix', file, true) : location
    const mirrors: MirrorEntry[] = []
    const ms = r.mirror
    if (ms !== undefined) {
      if (!Array.isArray(ms)) throw NsxError.invalid(`${file}: the mirrors of ${prefix} must be [[registry.mirror]] tables`)
      for (const m of ms) {
        if (!isTable(m)) throw NsxError.invalid(`${file}: each [[registry.mirror]] must be a table`)
        const ml = str(m, 'location', file)
        if (!ml) throw NsxError.invalid(`${file}: a mirror of ${prefix} needs a location`)
        const pfm = str(m, 'pull-from-mirror', file) ?? 'all'
        if (pfm !== 'all' && pfm !== 'digest-only' && pfm !== 'tag-only') throw NsxError.invalid(`${file}: pull-from-mirror is all, digest-only or tag-only, not '${pfm}'`)
        mirrors.push({location: checkLocation(ml, 'mirror location', file, false), insecure: bool(m, 'insecure', file), pullFromMirror: pfm})
      }
    }
    const e: RegistryEntry = {prefix, location, insecure: bool(r, 'insecure', file), blocked: bool(r, 'blocked', file), mirrorByDigestOnly: bool(r, 'mirror-by-digest-only', file), mirrors, file}
    if (out.some((x) => x.prefix === prefix)) throw NsxError.invalid(`${file}: two [[registry]] entries with the prefix ${prefix}`)
    out.push(e)
  }
  return out
}

function dropIns(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith('.conf'))
      .sort()
      .map((n) => join(dir, n))
  } catch {
    return []
  }
}

/** The files containers/image reads, in order: the main file, then the drop-ins. */
export function registriesConfFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir()
  const userConf = join(home, '.config', 'containers', 'registries.conf')
  const userDir = join(home, '.config', 'containers', 'registries.conf.d')
  let main: string
  let dirs: string[]
  if (env.CONTAINERS_REGISTRIES_CONF) {
    main = env.CONTAINERS_REGISTRIES_CONF
    dirs = [SYSTEM_DIR, userDir]
  } else if (existsSync(userConf)) {
    main = userConf
    dirs = [userDir]
  } else {
    main = SYSTEM_CONF
    dirs = [SYSTEM_DIR, userDir]
  }
  return [main, ...dirs.flatMap(dropIns)]
}

/** Read and merge the configuration (a missing file is an empty one; a malformed one is an error naming it). */
export function loadRegistriesConf(env: NodeJS.ProcessEnv = process.env): RegistriesConf {
  const files: string[] = []
  const registries: RegistryEntry[] = []
  for (const f of registriesConfFiles(env)) {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') continue
      throw NsxError.invalid(`cannot read ${f}: ${(err as Error).message}`)
    }
    files.push(f)
    for (const e of parseRegistriesConf(text, f)) {
      const i = registries.findIndex((x) => x.prefix === e.prefix)
      if (i >= 0) registries[i] = e
      else registries.push(e)
    }
  }
  return {registries, files}
}

/** Does PREFIX cover NAME (docker.io/library/alpine)? At a path boundary; *.example.com covers its subdomains' hosts. */
function prefixLength(prefix: string, name: string): number {
  if (prefix.startsWith('*.')) {
    const host = name.split('/')[0].replace(/:[0-9]+$/, '')
    return host.endsWith(prefix.slice(1)) ? prefix.length : -1
  }
  if (name === prefix) return prefix.length
  return name.startsWith(prefix) && name[prefix.length] === '/' ? prefix.length : -1
}

/** The entry whose prefix is the longest match for the reference (containers/image's rule). */
export function findRegistry(conf: RegistriesConf, ref: Reference): RegistryEntry | undefined {
  const name = `${ref.registry}/${ref.repository}`
  let best: RegistryEntry | undefined
  let len = -1
  for (const r of conf.registries) {
    const n = prefixLength(r.prefix, name)
    if (n > len) {
      best = r
      len = n
    }
  }
  return best
}

/** LOCATION + what the reference has after PREFIX, as a registry and a repository. */
function rewrite(location: string, prefix: string, ref: Reference, file: string): {registry: string; repository: string} {
  const name = `${ref.registry}/${ref.repository}`
  const rest = prefix.startsWith('*.') ? name.slice(name.indexOf('/')) : name.slice(prefix.length)
  const full = `${location}${rest}`
  let r: Reference
  try {
    // A host with a dot, a port or localhost keeps its place as the registry.
    r = parseReference(`${full}:latest`)
  } catch (err) {
    throw NsxError.invalid(`${file}: ${location} for ${canonical(ref)} gives an invalid name: ${(err as Error).message}`)
  }
  const host = location.split('/')[0]
  if (host !== r.registry && !DOCKER_HUB_NAMES.includes(host)) throw NsxError.invalid(`${file}: '${location}' does not start with a registry host (a host has a dot or a port, or is localhost)`)
  return {registry: r.registry, repository: r.repository}
}

/** The registry itself for REF, at its location (a rewrite), with its TLS setting: where a push goes. A blocked registry is an error. */
export function registrySource(conf: RegistriesConf, ref: Reference): PullSource {
  const entry = findRegistry(conf, ref)
  if (!entry) return {registry: ref.registry, repository: ref.repository, insecure: false, mirror: false}
  if (entry.blocked) throw NsxError.invalid(`registry ${ref.registry} is blocked in ${entry.file}`)
  const at = entry.location ? rewrite(entry.location, entry.prefix, ref, entry.file) : {registry: ref.registry, repository: ref.repository}
  return {...at, insecure: entry.insecure, mirror: false}
}

/**
 * Where to pull REF from, in order: its mirrors (those the reference kind allows), then the
 * registry itself (at its location). A blocked registry is an error.
 */
export function pullSources(conf: RegistriesConf, ref: Reference): PullSource[] {
  const primary = registrySource(conf, ref)
  const entry = findRegistry(conf, ref)
  if (!entry) return [primary]
  const byDigest = ref.digest !== undefined
  const out: PullSource[] = []
  if (!entry.mirrorByDigestOnly || byDigest)
    for (const m of entry.mirrors) {
      if ((m.pullFromMirror === 'digest-only' && !byDigest) || (m.pullFromMirror === 'tag-only' && byDigest)) continue
      out.push({...rewrite(m.location, entry.prefix, ref, entry.file), insecure: m.insecure, mirror: true})
    }
  out.push(primary)
  return out
}
