import {ApiError, badRequest, queryFilters, readJson} from '../http.js'
import type {ApiContext, Route} from '../router.js'

/**
 * Networks: list, inspect, create, rm, connect (with aliases), disconnect, prune, onto
 * src/network/manage.ts and src/lifecycle/network-connect.ts (the functions nsx network calls).
 */

const manage = () => import('../../network/manage.js')

interface CreateBody {
  Name?: string
  CheckDuplicate?: boolean
  Driver?: string
  Internal?: boolean
  Attachable?: boolean
  Ingress?: boolean
  EnableIPv6?: boolean
  IPAM?: {Driver?: string; Config?: Array<{Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string>}> | null; Options?: Record<string, string> | null} | null
  Options?: Record<string, string> | null
  Labels?: Record<string, string> | null
}

interface ConnectBody {
  Container?: string
  EndpointConfig?: {IPAMConfig?: {IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null} | null; Aliases?: string[] | null; Links?: string[] | null; DriverOpts?: Record<string, string> | null} | null
  Force?: boolean
}

function filterWords(ctx: ApiContext): string[] {
  const words: string[] = []
  for (const [k, values] of queryFilters(ctx.query)) for (const v of values) words.push(`${k}=${v}`)
  return words
}

/** Network events are recorded by the domain functions (src/network/manage.ts, src/lifecycle/network-connect.ts), for nsx network too. */
function event(_action: string, _id: string, _attributes: Record<string, string>): void {}

async function list(ctx: ApiContext): Promise<object> {
  const {filterNetworkViews, listNetworkViews} = await manage()
  return filterNetworkViews(listNetworkViews(ctx.store()), filterWords(ctx))
}

async function inspect(ctx: ApiContext): Promise<object> {
  const {inspectNetwork} = await manage()
  const n = inspectNetwork(ctx.store(), ctx.params.id)
  // Every network of nsx is local: asked in another scope (swarm, global), it is not there, as docker answers.
  const scope = ctx.query.get('scope')
  if (scope && scope !== n.Scope) throw new ApiError(404, `network ${ctx.params.id} not found`)
  return n
}

async function create(ctx: ApiContext): Promise<object> {
  const body = await readJson<CreateBody>(ctx.req)
  if (typeof body.Name !== 'string' || body.Name === '') throw badRequest('no network name given (Name)')
  if (body.Ingress) throw badRequest('ingress networks need a swarm: nsx makes bridge networks')
  const ipam = body.IPAM ?? {}
  const pools = ipam.Config ?? []
  if (pools.some((p) => !p.Subnet)) throw badRequest('each IPAM config needs its Subnet (nsx picks a subnet only when no config is given)')
  const {poolsByFamily} = await import('../../network/networks.js')
  const byFamily = poolsByFamily({
    subnets: pools.map((p) => p.Subnet ?? ''),
    gateways: pools.flatMap((p) => (p.Gateway ? [p.Gateway] : [])),
    ipRanges: pools.flatMap((p) => (p.IPRange ? [p.IPRange] : [])),
    auxAddresses: Object.assign({}, ...pools.map((p) => p.AuxiliaryAddresses ?? {})),
  })
  const {createNetworkVerb} = await manage()
  const n = createNetworkVerb(ctx.store(), {
    name: body.Name!,
    driver: body.Driver || 'bridge',
    ipamDriver: ipam.Driver || undefined,
    ...byFamily,
    enableIPv6: body.EnableIPv6 === true,
    internal: body.Internal ?? false,
    labels: Object.entries(body.Labels ?? {}).map(([k, v]) => `${k}=${v}`),
    options: body.Options ?? {},
    attachable: body.Attachable === true,
    // dockerd 20.10 refuses a name in use only when asked (the docker CLI always asks); otherwise it makes a second network of that name and warns.
    allowDuplicate: body.CheckDuplicate !== true,
  })
  event('create', n.Id, {name: n.Name, type: n.Driver})
  return {Id: n.Id, Warning: n.warning}
}

async function remove(ctx: ApiContext): Promise<undefined> {
  const {inspectNetwork, removeNetwork} = await manage()
  const n = inspectNetwork(ctx.store(), ctx.params.id)
  removeNetwork(ctx.store(), ctx.params.id)
  event('destroy', n.Id, {name: n.Name, type: n.Driver})
  ctx.res.writeHead(204).end()
  return undefined
}

async function connect(ctx: ApiContext): Promise<undefined> {
  const body = await readJson<ConnectBody>(ctx.req)
  if (typeof body.Container !== 'string' || body.Container === '') throw badRequest('no container given (Container)')
  const ec = body.EndpointConfig ?? {}
  const {connectContainer} = await import('../../lifecycle/network-connect.js')
  const r = await connectContainer(ctx.store(), body.Container!, ctx.params.id, {aliases: ec.Aliases ?? [], ip: ec.IPAMConfig?.IPv4Address || undefined, ip6: ec.IPAMConfig?.IPv6Address || undefined, linkLocalIps: ec.IPAMConfig?.LinkLocalIPs ?? [], driverOpts: ec.DriverOpts ?? undefined, links: ec.Links ?? []})
  event('connect', r.networkId, {name: r.network, type: 'bridge', container: r.id})
  ctx.res.writeHead(200).end()
  return undefined
}

async function disconnect(ctx: ApiContext): Promise<undefined> {
  const body = await readJson<ConnectBody>(ctx.req)
  if (typeof body.Container !== 'string' || body.Container === '') throw badRequest('no container given (Container)')
  const {disconnectContainer} = await import('../../lifecycle/network-connect.js')
  const r = await disconnectContainer(ctx.store(), body.Container!, ctx.params.id, {force: body.Force === true})
  event('disconnect', r.networkId, {name: r.network, type: 'bridge', container: r.id})
  ctx.res.writeHead(200).end()
  return undefined
}

async function prune(ctx: ApiContext): Promise<object> {
  const {networksPrune} = await import('../../lifecycle/prune.js')
  return networksPrune(ctx.store(), queryFilters(ctx.query))
}

export const NETWORK_ROUTES: Route[] = [
  {method: 'GET', path: '/networks', handler: list},
  {method: 'POST', path: '/networks/create', handler: create, status: 201, mutates: true},
  {method: 'POST', path: '/networks/prune', handler: prune, mutates: true},
  {method: 'GET', path: '/networks/{id}', handler: inspect},
  {method: 'DELETE', path: '/networks/{id}', handler: remove, mutates: true},
  {method: 'POST', path: '/networks/{id}/connect', handler: connect, mutates: true},
  {method: 'POST', path: '/networks/{id}/disconnect', handler: disconnect, mutates: true},
]
