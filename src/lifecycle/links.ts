import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import type {ContainerConfig} from '../container/state.js'
import type {RunSpec, Volume} from '../container/spec.js'

/**
 * docker's legacy --link NAME[:ALIAS] and --volumes-from NAME[:ro|rw], over another
 * container of the store.
 *
 * Links, as docker 20.10 does them: on the default bridge the linked container must exist at
 * create and run at start; this container's /etc/hosts then names its address (on a network
 * both are on) by ALIAS and NAME. On a user-defined network a link is a name by DNS
 * (src/network/dns.ts): the linked container need not exist yet, ALIAS resolves once it runs
 * there, and /etc/hosts names it too when it runs at this container's start. On the default bridge docker also sets the deprecated variables
 * ALIAS_NAME=/SELF/ALIAS and ALIAS_ENV_VAR=... (the linked container's environment but HOME,
 * PATH and the HOSTNAME docker never puts there), so nsx does too, there only; on a user-defined network a link is an alias and
 * nothing more, as docker's embedded DNS makes it. The ALIAS_PORT_* variables are not set.
 */

const other = async (store: Store, name: string, what: string) => {
  const {resolveContainer} = await import('../container/state.js')
  try {
    return resolveContainer(store, name)
  } catch {
    throw NsxError.notFound(`${what}: no such container: ${name}`, 125)
  }
}

/** At create: the links checked, and their variables on the default bridge. Returns the spec with them. */
export async function applyLinks(store: Store, spec: RunSpec, id: string): Promise<RunSpec> {
  const links = spec.links ?? []
  if (links.length === 0) return spec
  if (spec.userns?.rootless) throw NsxError.invalid('--link is not supported for rootless containers (their user-mode network has no peers)', 125)
  if (spec.network === 'host' || spec.network === 'none' || spec.network.startsWith('container:'))
    throw NsxError.invalid(`conflicting options: --network ${spec.network} cannot be used with links (a link needs a bridge network)`, 125)
  const {DEFAULT_NETWORK} = await import('../network/networks.js')
  const env = new Map(spec.env.map((e) => [e.includes('=') ? e.slice(0, e.indexOf('=')) : e, e]))
  const added: string[] = []
  // On a user-defined network a link is a name by DNS, resolved once the linked container runs
  // there: it need not exist yet (docker's daemon checks links on the default bridge only).
  if (spec.network !== DEFAULT_NETWORK) return spec
  for (const l of links) {
    const c = await other(store, l.name, `--link ${l.name}:${l.alias}`)
    if (c.config.id === id) throw NsxError.invalid(`--link ${l.name}: a container cannot link to itself`, 125)
    const prefix = l.alias.toUpperCase().replace(/-/g, '_')
    const put = (k: string, v: string) => {
      if (!env.has(k)) added.push(`${k}=${v}`)
    }
    put(`${prefix}_NAME`, `/${spec.name}/${l.alias}`)
    for (const e of c.config.spec.env) {
      const eq = e.indexOf('=')
      const k = e.slice(0, eq)
      if (eq > 0 && !['HOME', 'PATH', 'HOSTNAME'].includes(k)) put(`${prefix}_ENV_${k}`, e.slice(eq + 1))
    }
  }
  // docker's order: the links' variables before the container's own, which win.
  const [base, rest] = [spec.env.filter((e) => /^(PATH|HOSTNAME|TERM)=/.test(e)), spec.env.filter((e) => !/^(PATH|HOSTNAME|TERM)=/.test(e))]
  return {...spec, env: [...base, ...added, ...rest]}
}

/** At start: each link as an /etc/hosts line (its address on a network both containers are on); the linked container must run. */
export async function linkHosts(store: Store, config: ContainerConfig, networks: readonly string[]): Promise<{name: string; ip: string}[]> {
  const out: {name: string; ip: string}[] = []
  const [{readEndpoint}, {DEFAULT_NETWORK}] = await Promise.all([import('../network/records.js'), import('../network/networks.js')])
  const userDefined = !networks.includes(DEFAULT_NETWORK)
  for (const l of config.spec.links ?? []) {
    // On a user-defined network a linked container that is not there (yet) is named by DNS when it runs.
    const c = await other(store, l.name, `--link ${l.name}:${l.alias}`).catch((err: unknown) => {
      if (userDefined) return undefined
      throw err
    })
    if (!c || (userDefined && c.status !== 'running')) continue
    if (c.status !== 'running') throw NsxError.conflict(`Cannot link to a non running container: /${c.config.name} AS /${config.name}/${l.alias}`, 125)
    const at = readEndpoint(store, c.config.id)?.attachments.find((a) => networks.includes(a.network) && a.address)
    if (!at && userDefined) continue
    if (!at) throw NsxError.invalid(`Cannot link to /${c.config.name}: it is on none of this container's networks (${networks.join(', ')})`, 125)
    const names = [...new Set([l.alias, c.config.name, c.config.spec.hostname])].join(' ')
    out.push({name: names, ip: at.address.split('/')[0]})
  }
  return out
}

/**
 * --volumes-from NAME[:ro|rw]: the other container's volumes and binds at the same paths,
 * read-only with :ro, read-write with :rw, else as they are there; the container's own -v and
 * --tmpfs at a path win (docker's rule). Another's anonymous volume is shared, not this one's
 * to remove.
 */
export async function volumesFrom(store: Store, given: readonly string[], own: readonly Volume[], tmpfs: readonly string[], id: string): Promise<Volume[]> {
  const taken = new Set([...own.map((v) => v.target), ...tmpfs])
  const out: Volume[] = []
  for (const g of given) {
    const m = /^([^:]+)(?::(ro|rw))?$/.exec(g)
    if (!m) throw NsxError.invalid(`invalid --volumes-from '${g}': expected NAME[:ro|rw]`, 125)
    const c = await other(store, m[1], `--volumes-from ${g}`)
    if (c.config.id === id) throw NsxError.invalid(`--volumes-from ${g}: a container cannot take its own volumes`, 125)
    for (const v of c.config.spec.volumes) {
      if (taken.has(v.target)) continue
      taken.add(v.target)
      const {anonymous: _anon, noCopy: _nc, ...rest} = v
      out.push({...rest, noCopy: true, readOnly: m[2] === 'ro' ? true : m[2] === 'rw' ? false : v.readOnly})
    }
  }
  return [...out, ...own]
}

/**
 * docker rm --link PARENT/ALIAS (DELETE /containers/PARENT/ALIAS?link=1): the legacy link ALIAS
 * goes from PARENT's configuration (inspect's HostConfig.Links, its next start's /etc/hosts);
 * both containers stay. Errors as moby's rmLink: a name with no parent is a conflict, an unknown
 * parent or alias no such container.
 */
export async function removeLink(store: Store, linkName: string): Promise<{parent: string; alias: string}> {
  const name = linkName.startsWith('/') ? linkName : `/${linkName}`
  const cut = name.lastIndexOf('/')
  const parent = name.slice(1, cut)
  const alias = name.slice(cut + 1)
  if (parent === '') throw NsxError.conflict('Conflict, cannot remove the default link name of the container', 1)
  const {resolveContainer, withContainer, writeConfig} = await import('../container/state.js')
  try {
    resolveContainer(store, parent)
  } catch {
    throw NsxError.notFound(`No such container: ${linkName}`, 1)
  }
  return withContainer(store, parent, (c) => {
    const links = c.config.spec.links ?? []
    if (!links.some((l) => l.alias === alias)) throw NsxError.notFound(`No such container: ${linkName}`, 1)
    const rest = links.filter((l) => l.alias !== alias)
    const {links: _, ...spec} = c.config.spec
    writeConfig(c.dir, {...c.config, spec: rest.length > 0 ? {...spec, links: rest} : spec})
    return {parent: c.config.name, alias}
  })
}
