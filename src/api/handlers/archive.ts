import {createGunzip} from 'node:zlib'
import {badRequest, queryBool} from '../http.js'
import type {ApiContext, Route} from '../router.js'

/**
 * The container archive endpoints `docker cp` and docker-py's get_archive/put_archive call:
 * HEAD (the path's stat in `X-Docker-Container-Path-Stat`, base64 JSON), GET (that header and a tar
 * of the path) and PUT (a tar extracted into a directory, `noOverwriteDirNonDir`, `copyUIDGID`).
 * The docker CLI does the renaming of docker cp's rules on its side; these map HTTP onto
 * src/copy/, which `nsx cp` calls too. And docker diff's `changes`, the files a container changed.
 */

const copyModules = () => Promise.all([import('../../copy/root.js'), import('../../copy/archive.js'), import('../../copy/resolve.js')])

function pathOf(ctx: ApiContext): string {
  const p = ctx.query.get('path')
  if (p === null || p === '') throw badRequest('path is required: give ?path=')
  return p
}

/** The domain's errors as the daemon answers them: their kinds say it (a missing path 404, a bad one 400, a read-only one 403); an errno of a copy becomes one of those. */
async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  const [{copyFailure}] = await copyModules()
  try {
    return await fn()
  } catch (caught) {
    throw copyFailure(caught)
  }
}

const statHeader = (s: object) => Buffer.from(JSON.stringify(s)).toString('base64')

async function head(ctx: ApiContext): Promise<undefined> {
  const path = pathOf(ctx)
  const [{withContainerRoot}, {statPath}] = await copyModules()
  await mapped(() =>
    withContainerRoot(ctx.store(), ctx.params.id, async (root) => {
      const stat = statPath(root.fd, path, root.container.config.name)
      ctx.res.writeHead(200, {'Content-Type': 'application/json', 'X-Docker-Container-Path-Stat': statHeader(stat)})
      ctx.res.end()
    }),
  )
  return undefined
}

async function get(ctx: ApiContext): Promise<undefined> {
  const path = pathOf(ctx)
  const [{withContainerRoot}, {packPath}] = await copyModules()
  await mapped(() =>
    withContainerRoot(ctx.store(), ctx.params.id, async (root) => {
      const {stat, tar} = packPath(root.fd, path, root.container.config.name, {ids: root.fromHost})
      const res = ctx.res
      res.writeHead(200, {'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(stat)})
      for await (const chunk of tar) {
        if (ctx.signal.aborted) {
          await tar.return(undefined)
          break
        }
        if (!res.write(chunk)) await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done)
            res.off('close', done)
            resolve()
          }
          res.on('drain', done)
          res.on('close', done)
        })
      }
      res.end()
    }),
  )
  return undefined
}

async function put(ctx: ApiContext): Promise<undefined> {
  const path = pathOf(ctx)
  const noOverwriteDirNonDir = queryBool(ctx.query, 'noOverwriteDirNonDir')
  const copyUIDGID = queryBool(ctx.query, 'copyUIDGID')
  const [{withContainerRoot, checkWritable}, {extractTar}] = await copyModules()
  await mapped(() =>
    withContainerRoot(ctx.store(), ctx.params.id, async (root) => {
      checkWritable(root, path)
      const spec = root.container.config.spec
      // copyUIDGID: every file the container user's, when the container has one (docker's tarCopyOptions); else the archive's owners.
      const owner = copyUIDGID && (spec.uid !== 0 || spec.gid !== 0) ? {uid: spec.uid, gid: spec.gid} : undefined
      await extractTar(root.fd, path, maybeGunzip(ctx.req), root.container.config.name, {noOverwriteDirNonDir, owner, ids: root.toHost})
      ctx.res.writeHead(200)
      ctx.res.end()
    }),
  )
  return undefined
}

/** The body as given, or gunzipped when it starts with gzip's magic (docker's Untar takes compressed archives). */
async function* maybeGunzip(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = body[Symbol.asyncIterator]()
  const first = await it.next()
  if (first.done) return
  const rest = async function* () {
    yield first.value
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value
  }
  if (first.value[0] !== 0x1f || first.value[1] !== 0x8b) {
    yield* rest()
    return
  }
  const {Readable} = await import('node:stream')
  yield* Readable.from(rest()).pipe(createGunzip())
}

/** GET /containers/{id}/changes: docker diff, the container's upper directory against its image (src/container/changes.ts, as nsx container diff). */
async function changes(ctx: ApiContext): Promise<object> {
  const {containerChanges} = await import('../../container/changes.js')
  return containerChanges(ctx.store(), ctx.params.id)
}

export const ARCHIVE_ROUTES: Route[] = [
  {method: 'GET', path: '/containers/{id}/changes', handler: changes},
  {method: 'HEAD', path: '/containers/{id}/archive', handler: head},
  {method: 'GET', path: '/containers/{id}/archive', handler: get},
  {method: 'PUT', path: '/containers/{id}/archive', handler: put, mutates: true},
]
