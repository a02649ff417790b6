import {queryBool, queryFilters, queryInt} from '../http.js'
import type {ApiContext, Route} from '../router.js'
import {withStoreLock} from '../store-lock.js'

/**
 * docker system df's `GET /system/df` and docker builder prune's `POST /build/prune`, onto
 * src/lifecycle/disk-usage.ts and prune.ts (the functions nsx system df and nsx system prune call).
 */

async function df(ctx: ApiContext): Promise<object> {
  const {diskUsageOf} = await import('../../lifecycle/disk-usage.js')
  const u = diskUsageOf(ctx.store())
  return {
    LayersSize: u.layersSize,
    Images: u.images.map((i) => ({
      Id: i.id, ParentId: '', RepoTags: i.names.length > 0 ? i.names : ['<none>:<none>'], RepoDigests: [], Created: i.created,
      Size: i.size, SharedSize: i.sharedSize, VirtualSize: i.size, Labels: i.labels, Containers: i.containers,
    })),
    Containers: u.containers.map((c) => ({
      Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: c.imageId, Command: c.command, Created: c.created,
      Ports: [], SizeRw: c.sizeRw, SizeRootFs: c.sizeRootFs, Labels: c.labels, State: c.state, Status: c.status,
      HostConfig: {NetworkMode: 'default'}, NetworkSettings: {Networks: {}}, Mounts: [],
    })),
    Volumes: u.volumes.map((v) => ({
      Name: v.name, Driver: 'local', Mountpoint: v.mountpoint, CreatedAt: v.createdAt, Labels: v.labels, Scope: 'local', Options: {},
      UsageData: {Size: v.size, RefCount: v.refCount},
    })),
    BuildCache: u.buildCache.map((b) => ({
      ID: b.id, Parent: '', Type: 'regular', Description: b.description, InUse: b.inUse, Shared: b.shared,
      Size: b.size, CreatedAt: b.createdAt, LastUsedAt: b.lastUsedAt, UsageCount: b.usageCount,
    })),
  }
}

/** POST /build/prune?all=&keep-storage=&filters=: nsx build's cache, and the layers only it held (under the store's exclusive lock, as gc). */
async function buildPrune(ctx: ApiContext): Promise<object> {
  const opts = {all: queryBool(ctx.query, 'all'), keepStorage: queryInt(ctx.query, 'keep-storage'), filters: queryFilters(ctx.query)}
  const {buildCachePrune} = await import('../../lifecycle/prune.js')
  return withStoreLock(ctx, 'exclusive', (store) => buildCachePrune(store, opts))
}

export const DISK_ROUTES: Route[] = [
  {method: 'GET', path: '/system/df', handler: df},
  {method: 'POST', path: '/build/prune', handler: buildPrune, mutates: true},
]
