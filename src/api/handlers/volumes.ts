import {badRequest, queryBool, queryFilters, readJson} from '../http.js'
import type {ApiContext, Route} from '../router.js'
import {withStoreLock} from '../store-lock.js'

/** Named volumes: create, list, inspect, rm, prune, onto src/volume/ (the functions nsx volume calls). */

interface VolumeCreateBody {
  Name?: string
  Driver?: string
  DriverOpts?: Record<string, string> | null
  Labels?: Record<string, string> | null
}

async function create(ctx: ApiContext): Promise<object> {
  const body = await readJson<VolumeCreateBody>(ctx.req)
  if (body.Name !== undefined && typeof body.Name !== 'string') throw badRequest('invalid Name: expected a string')
  const {createVolume} = await import('../../volume/volumes.js')
  return withStoreLock(ctx, 'shared', (store) => createVolume(store, {name: body.Name || undefined, driver: body.Driver || 'local', labels: body.Labels ?? {}, options: body.DriverOpts ?? {}}).volume)
}

/** docker's filters JSON to nsx volume ls's KEY=VALUE words. */
function filterWords(ctx: ApiContext): string[] {
  const words: string[] = []
  for (const [k, values] of queryFilters(ctx.query)) for (const v of values) words.push(`${k}=${v}`)
  return words
}

async function list(ctx: ApiContext): Promise<object> {
  const {listVolumes} = await import('../../volume/volumes.js')
  return {Volumes: listVolumes(ctx.store(), filterWords(ctx)), Warnings: null}
}

async function inspect(ctx: ApiContext): Promise<object> {
  const {inspectVolume} = await import('../../volume/volumes.js')
  return inspectVolume(ctx.store(), ctx.params.name)
}

async function remove(ctx: ApiContext): Promise<undefined> {
  const force = queryBool(ctx.query, 'force')
  const {removeVolume} = await import('../../volume/volumes.js')
  await withStoreLock(ctx, 'exclusive', (store) => removeVolume(store, ctx.params.name, {force}))
  ctx.res.writeHead(204).end()
  return undefined
}

async function prune(ctx: ApiContext): Promise<object> {
  const {volumesPrune} = await import('../../lifecycle/prune.js')
  const filters = queryFilters(ctx.query)
  return withStoreLock(ctx, 'exclusive', (store) => volumesPrune(store, filters))
}

export const VOLUME_ROUTES: Route[] = [
  {method: 'POST', path: '/volumes/create', handler: create, status: 201, mutates: true},
  {method: 'GET', path: '/volumes', handler: list},
  {method: 'POST', path: '/volumes/prune', handler: prune, mutates: true},
  {method: 'GET', path: '/volumes/{name}', handler: inspect},
  {method: 'DELETE', path: '/volumes/{name}', handler: remove, mutates: true},
]
