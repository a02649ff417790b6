import {createReadStream, createWriteStream, mkdirSync, mkdtempSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import type {IncomingMessage} from 'node:http'
import {ApiError, badRequest, messageOf, queryBool, queryFilters, statusOf} from '../http.js'
import {JsonStream, progressText} from '../json-stream.js'
import type {ApiContext, Route} from '../router.js'
import {withStoreLock} from '../store-lock.js'
import {removeTree, shortId, Store} from '../../store/store.js'
import type {TransferEvent} from '../../registry/progress.js'
import type {Credentials} from '../../registry/credentials.js'
import {PullError} from '../../registry/pull-error.js'

/**
 * Images: create (pull, and import with fromSrc), push, tag, json (list), {name}/json, history,
 * DELETE, prune, get (save), load, build (a tar context, the classic builder's JSON lines) and
 * commit. Each maps HTTP onto the same domain function the CLI verb calls.
 */

/** The largest upload (a build context, an image to load, a root filesystem to import). */
const MAX_UPLOAD = 8 * 1024 * 1024 * 1024

/** A request body spooled into a file of the store's tmp/ (the domain functions read files), removed by the caller. */
async function spool(req: IncomingMessage, store: Store, name: string): Promise<{dir: string; file: string}> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_UPLOAD) throw new ApiError(413, `request body too large: ${declared} bytes (the limit is ${MAX_UPLOAD})`)
  store.ensureLayout()
  const dir = mkdtempSync(join(store.tmpDir, 'api-'))
  const file = join(dir, name)
  try {
    let n = 0
    await pipeline(
      req,
      async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          n += c.length
          if (n > MAX_UPLOAD) throw new ApiError(413, `request body too large (the limit is ${MAX_UPLOAD} bytes)`)
          yield c
        }
      },
      createWriteStream(file, {mode: 0o600}),
    )
  } catch (err) {
    removeTree(dir)
    throw err instanceof ApiError ? err : new ApiError(400, `the request body was cut short: ${(err as Error).message}`)
  }
  return {dir, file}
}

/** X-Registry-Auth: base64url JSON {username, password, serveraddress, identitytoken}. */
export function registryAuth(ctx: ApiContext): Credentials | undefined {
  const h = ctx.req.headers['x-registry-auth']
  if (typeof h !== 'string' || h === '') return undefined
  try {
    const v = JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as {username?: string; password?: string; identitytoken?: string}
    if (v.username && v.password) return {username: v.username, password: v.password} as Credentials
  } catch {
    throw badRequest('invalid X-Registry-Auth header: not base64 JSON')
  }
  return undefined
}

/** Registry errors that mean "there is no such image there": docker answers them 404 (a registry not reached: 500). */
function registryStatus(err: unknown): unknown {
  if (err instanceof PullError) return new ApiError(err.status, err.message)
  const m = err instanceof Error ? err.message : ''
  if (/manifest unknown|name unknown|no such image|repository does not exist|access to the resource is denied/i.test(m) && !(err instanceof ApiError)) return new ApiError(404, m)
  return err
}

/** Per-layer progress to docker's progress messages, at most ~10 a second per layer while transferring. */
function progressWriter(out: JsonStream, verb: 'pull' | 'push'): (e: TransferEvent) => void {
  const last = new Map<string, number>()
  return (e) => {
    const base = {progressDetail: {}, id: e.id}
    switch (e.state) {
      case 'waiting':
        return out.write({status: verb === 'pull' ? 'Pulling fs layer' : 'Preparing', ...base})
      case 'transferring': {
        const now = Date.now()
        if (now - (last.get(e.id) ?? 0) < 100) return
        last.set(e.id, now)
        return out.write({status: verb === 'pull' ? 'Downloading' : 'Pushing', progressDetail: {current: e.bytes, total: e.total}, progress: progressText(e.bytes, e.total), id: e.id})
      }
      case 'exists':
        return out.write({status: verb === 'pull' ? 'Already exists' : 'Layer already exists', ...base})
      case 'done':
        return out.write({status: verb === 'pull' ? 'Pull complete' : 'Pushed', ...base})
      default:
        return undefined
    }
  }
}

/** POST /images/create: fromImage (pull, streaming progress) or fromSrc (import a root filesystem tar). */
async function create(ctx: ApiContext): Promise<undefined> {
  const q = ctx.query
  const out = new JsonStream(ctx.res)
  try {
    const fromSrc = q.get('fromSrc')
    if (fromSrc !== null) {
      if (fromSrc !== '-') throw badRequest('fromSrc: only "-" (the request body) is supported; nsx fetches no URLs')
      await withStoreLock(ctx, 'shared', async (store) => {
        const {dir, file} = await spool(ctx.req, store, 'rootfs.tar')
        try {
          const {importRootfs} = await import('../../store/import-rootfs.js')
          const repo = q.get('repo') ?? ''
          const tag = q.get('tag') ?? ''
          const r = await importRootfs(store, {source: file, reference: repo ? `${repo}${tag ? `:${tag}` : ''}` : undefined, changes: q.getAll('changes').flatMap((c) => c.split('\n')).filter(Boolean), message: q.get('message') ?? undefined})
          out.write({status: r.id})
        } finally {
          removeTree(dir)
        }
      })
      out.end()
      return undefined
    }
    const image = q.get('fromImage')
    if (!image) throw badRequest('fromImage or fromSrc is required')
    const tag = q.get('tag') ?? ''
    // tag may be a tag or a digest; fromImage may carry either already.
    const reference = tag === '' ? image : tag.startsWith('sha256:') ? `${image}@${tag}` : `${image}:${tag}`
    const {pullImage, pullAllTags} = await import('../../registry/pull.js')
    const {parseReference} = await import('../../image/reference.js')
    const ref = parseReference(reference)
    // No tag in fromImage nor in tag: every tag of the repository, as dockerd pulls then.
    const allTags = tag === '' && !image.includes('@') && !/:[^/]*$/.test(image)
    await withStoreLock(ctx, 'shared', async (store) => {
      let announced = ''
      let current: string | undefined
      const onProgress = progressWriter(out, 'pull')
      const opts = {
        reference,
        platform: q.get('platform') || undefined,
        credentials: registryAuth(ctx),
        quiet: true,
        signal: ctx.signal,
        onProgress: (e: TransferEvent) => {
          const id = allTags ? current : (ref.digest ?? ref.tag)
          if (announced !== id) {
            announced = id ?? ''
            out.write({status: `Pulling from ${ref.repository.replace(/^library\//, '')}`, id})
          }
          onProgress(e)
        },
      }
      const results = allTags ? await pullAllTags(store, {...opts, onTag: (t) => void (current = t)}) : [await pullImage(store, opts)]
      for (const r of results) out.write({status: `Digest: ${r.digest}`})
      const fresh = results.some((r) => r.layers.some((l) => !l.reused))
      const shown = allTags ? image : (results[0].name ?? reference)
      out.write({status: fresh ? `Status: Downloaded newer image for ${shown}` : `Status: Image is up to date for ${shown}`})
    })
    out.end()
  } catch (err) {
    out.end(registryStatus(err))
  }
  return undefined
}

/** POST /images/{name}/push?tag=: the stored image to its registry, docker's progress messages. */
async function push(ctx: ApiContext): Promise<undefined> {
  const out = new JsonStream(ctx.res)
  try {
    const tag = ctx.query.get('tag') || ''
    const image = tag ? `${ctx.params.name}:${tag}` : ctx.params.name
    const {pushImage} = await import('../../registry/push.js')
    const {findImage} = await import('../../store/images.js')
    const {parseReference} = await import('../../image/reference.js')
    const ref = parseReference(image)
    await withStoreLock(ctx, 'shared', async (store) => {
      findImage(store, image) // 404 before the stream starts
      out.write({status: `The push refers to repository [${ref.registry === 'docker.io' ? 'docker.io/' : `${ref.registry}/`}${ref.repository}]`})
      const r = await pushImage(store, {image, credentials: registryAuth(ctx), quiet: true, onProgress: progressWriter(out, 'push')})
      const t = ref.tag ?? 'latest'
      out.write({status: `${t}: digest: ${r.digest} size: ${r.manifestSize}`})
      out.write({progressDetail: {}, aux: {Tag: t, Digest: r.digest, Size: r.manifestSize}})
    })
    out.end()
  } catch (err) {
    out.end(dockerWords(registryStatus(err)))
  }
  return undefined
}

/** POST /images/{name}/tag?repo=&tag= → 201. */
async function tag(ctx: ApiContext): Promise<undefined> {
  const repo = ctx.query.get('repo')
  if (!repo) throw badRequest('repo is required')
  const t = ctx.query.get('tag') || 'latest'
  const {tagImage} = await import('../../registry/tag.js')
  await withStoreLock(ctx, 'shared', (store) => tagImage(store, {source: ctx.params.name, target: `${repo}:${t}`}))
  ctx.res.writeHead(201).end()
  return undefined
}

/** docker's glob for reference filters: `*` within a path component. */
function refMatches(pattern: string, name: string): boolean {
  const p = pattern.includes(':') || pattern.includes('@') ? pattern : `${pattern}:*`
  const re = new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`)
  return re.test(name) || re.test(name.replace(/^docker\.io\/(library\/)?/, ''))
}

/** GET /images/json: docker's ImageSummary list, with the reference, dangling and label filters. */
async function list(ctx: ApiContext): Promise<object[]> {
  const store = ctx.store()
  const {listImages, readRepositories, namesOf} = await import('../../store/images.js')
  const {inspectImage} = await import('../../store/image-inspect.js')
  const f = queryFilters(ctx.query)
  const legacy = ctx.query.get('filter')
  if (legacy) f.set('reference', [...(f.get('reference') ?? []), legacy])
  for (const k of f.keys()) if (!['reference', 'dangling', 'label', 'before', 'since'].includes(k)) throw badRequest(`invalid filter '${k}'`)
  const {familiarName} = await import('../../store/image-inspect.js')
  const repos = readRepositories(store)
  const out: object[] = []
  const created = (id: string) => Date.parse(inspectImage(store, id).Created) || 0
  for (const rec of listImages(store)) {
    const names = [...new Set(namesOf(repos, rec.id).map(familiarName))]
    const i = inspectImage(store, rec.id)
    const labels = (i.Config.Labels as Record<string, string> | null) ?? {}
    const dangling = f.get('dangling')
    if (dangling && dangling.some((d) => /^(1|true)$/i.test(d)) !== (names.length === 0)) continue
    const refs = f.get('reference')
    if (refs && !names.some((n) => refs.some((r) => refMatches(r, n)))) continue
    const lf = f.get('label')
    if (lf && !lf.every((l) => (l.includes('=') ? labels[l.split('=')[0]] === l.slice(l.indexOf('=') + 1) : l in labels))) continue
    const before = f.get('before')?.[0]
    if (before && !(created(rec.id) < created(inspectImage(store, before).Id))) continue
    const since = f.get('since')?.[0]
    if (since && !(created(rec.id) > created(inspectImage(store, since).Id))) continue
    out.push({
      Id: rec.id,
      ParentId: '',
      RepoTags: names.length > 0 ? names : ['<none>:<none>'],
      RepoDigests: i.RepoDigests.length > 0 ? i.RepoDigests : names.length === 0 ? ['<none>@<none>'] : [],
      Created: Math.floor((Date.parse(i.Created) || 0) / 1000),
      Size: i.Size,
      VirtualSize: i.Size,
      SharedSize: -1,
      Labels: i.Config.Labels ?? null,
      Containers: -1,
    })
  }
  return out
}

async function inspect(ctx: ApiContext): Promise<object> {
  const {inspectImage} = await import('../../store/image-inspect.js')
  return inspectImage(ctx.store(), ctx.params.name)
}

/** GET /images/{name}/history: newest first, docker's HistoryResponseItem. */
async function history(ctx: ApiContext): Promise<object[]> {
  const store = ctx.store()
  const {imageHistory} = await import('../../store/history.js')
  const {namesOf, readRepositories} = await import('../../store/images.js')
  const {familiarName} = await import('../../store/image-inspect.js')
  const h = imageHistory(store, ctx.params.name)
  const names = [...new Set(namesOf(readRepositories(store), h.id).map(familiarName))]
  return h.history.map((row, i) => ({
    Id: i === 0 ? h.id : '<missing>',
    Created: Math.floor((Date.parse(row.created ?? '') || 0) / 1000),
    CreatedBy: row.createdBy,
    Tags: i === 0 && names.length > 0 ? names : null,
    Size: row.size,
    Comment: row.comment ?? '',
  }))
}


/** DELETE /images/{name}?force=: untag, or remove with the layers only it used. */
async function remove(ctx: ApiContext): Promise<object[]> {
  const force = queryBool(ctx.query, 'force')
  const {imagesDeleted, removeImages} = await import('../../store/gc.js')
  const freed = await withStoreLock(ctx, 'exclusive', (store) => removeImages(store, [ctx.params.name], {force}))
  return imagesDeleted(freed)
}

/** POST /images/prune?filters={"dangling":["false"],"label":[...]}. */
async function prune(ctx: ApiContext): Promise<object> {
  const filters = queryFilters(ctx.query)
  const {imagesPrune} = await import('../../lifecycle/prune.js')
  return withStoreLock(ctx, 'exclusive', (store) => imagesPrune(store, filters))
}

/** GET /images/{name}/get and /images/get?names=: a docker-archive tar of the images. */
async function get(ctx: ApiContext): Promise<undefined> {
  const names = ctx.params.name !== undefined ? [ctx.params.name] : ctx.query.getAll('names')
  if (names.length === 0) throw badRequest('names is required')
  const {saveImages} = await import('../../store/save.js')
  await withStoreLock(ctx, 'shared', async (store) => {
    store.ensureLayout()
    const dir = mkdtempSync(join(store.tmpDir, 'api-save-'))
    try {
      const file = join(dir, 'images.tar')
      await saveImages(store, {images: names, output: file, format: 'docker-archive', idsUntagged: true})
      ctx.res.writeHead(200, {'Content-Type': 'application/x-tar', 'Content-Length': String(statSync(file).size)})
      await pipeline(createReadStream(file), ctx.res).catch(() => {})
    } finally {
      removeTree(dir)
    }
  })
  return undefined
}

/** POST /images/load: a docker-archive (or OCI archive) in the body; `{"stream": "Loaded image: NAME\n"}` lines. */
async function load(ctx: ApiContext): Promise<undefined> {
  const out = new JsonStream(ctx.res)
  try {
    const {loadImage} = await import('../../store/import.js')
    await withStoreLock(ctx, 'shared', async (store) => {
      const {dir, file} = await spool(ctx.req, store, 'image.tar')
      out.begin()
      try {
        const r = await loadImage(store, file).catch((err: unknown) => {
          throw new Error(messageOf(err).replaceAll(file, 'the uploaded archive'))
        })
        if (r.names.length === 0) out.write({stream: `Loaded image ID: ${r.id}\n`})
        for (const n of r.names) out.write({stream: `Loaded image: ${n}\n`})
      } finally {
        removeTree(dir)
      }
    })
    out.end()
  } catch (err) {
    out.end(err)
  }
  return undefined
}

/** A query parameter holding a JSON array of strings (build's cachefrom), undefined when absent. */
function jsonList(raw: string | null, name: string): string[] | undefined {
  if (!raw) return undefined
  try {
    const v = JSON.parse(raw) as unknown
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error('not a list of strings')
    return v
  } catch {
    throw badRequest(`invalid ${name}: expected a JSON array of strings`)
  }
}

function jsonParam(ctx: ApiContext, name: string): Record<string, string> {
  const raw = ctx.query.get(name)
  if (!raw) return {}
  try {
    const v = JSON.parse(raw) as unknown
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== null).map(([k, x]) => [k, String(x)]))
  } catch {
    throw badRequest(`invalid ${name}: expected a JSON object`)
  }
}

/**
 * POST /build: the context is the body (a tar, maybe compressed), built by the classic builder's
 * rules (Builder-Version 1) with nsx build; its step lines become docker's `{"stream"}` lines, the
 * image id an `{"aux": {"ID"}}`. A client gone mid-build stops it at the next step: no image.
 */
async function build(ctx: ApiContext): Promise<undefined> {
  const q = ctx.query
  const out = new JsonStream(ctx.res)
  try {
    if (q.get('remote')) throw badRequest('remote build contexts are not supported: send the context as the request body')
    if (q.get('version') === '2') throw new ApiError(501, 'BuildKit (version=2) is not supported by nsx: use the classic builder (DOCKER_BUILDKIT=0)')
    const quiet = queryBool(q, 'q')
    const tags = q.getAll('t').filter(Boolean)
    const buildArgs = jsonParam(ctx, 'buildargs')
    const labels = jsonParam(ctx, 'labels')
    const dockerfile = q.get('dockerfile') || 'Dockerfile'
    const cacheFrom = jsonList(q.get('cachefrom'), 'cachefrom')
    const addHosts = q.getAll('extrahosts').flatMap((h) => h.split(',')).filter(Boolean)
    const {buildImage} = await import('../../build/build.js')
    await withStoreLock(ctx, 'shared', async (store) => {
      const {dir, file} = await spool(ctx.req, store, 'context.tar')
      try {
        const context = join(dir, 'context')
        mkdirSync(context)
        const {spawnSync} = await import('node:child_process')
        // GNU tar reads plain, gzip, bzip2 and xz contexts; it keeps names inside the directory.
        const x = spawnSync('tar', ['-x', '-f', file, '-C', context, '--no-same-owner'], {encoding: 'utf8'})
        if (x.status !== 0) throw badRequest(`the build context is not a readable tar archive: ${(x.stderr || '').trim().split('\n')[0]}`)
        const dockerfilePath = join(context, dockerfile)
        if (!dockerfilePath.startsWith(`${context}/`)) throw badRequest(`dockerfile ${dockerfile} is outside the build context`)
        const say = (line: string) => {
          if (!quiet) out.write({stream: `${line}\n`})
        }
        const r = await buildImage(store, {
          context,
          file: dockerfilePath,
          tags,
          buildArgs,
          labels,
          target: q.get('target') || undefined,
          noCache: queryBool(q, 'nocache'),
          cacheFrom,
          addHosts,
          network: q.get('networkmode') || undefined,
          signal: ctx.signal,
          log: (line) => {
            // nsx's step lines in the classic builder's words.
            const step = /^STEP (\d+\/\d+): (.*)$/s.exec(line)
            if (step) return say(`Step ${step[1]} : ${step[2]}`)
            if (line.startsWith('--> ')) return say(` ---> ${line.slice(4).replace(/^Using cache/, 'Using cache')}`)
            if (line.startsWith('COMMIT') || line.startsWith('Successfully tagged')) return undefined
            say(line)
          },
          runOutput: (chunk, stream) => {
            // The classic builder shows a RUN's stderr in red (docker-py's tests look for it).
            if (!quiet) out.write({stream: stream === 'stderr' ? `\u001b[91m${chunk.toString('utf8')}\u001b[0m` : chunk.toString('utf8')})
          },
        })
        out.write({aux: {ID: r.id}})
        if (quiet) out.write({stream: `${r.id}\n`})
        else {
          out.write({stream: `Successfully built ${shortId(r.id)}\n`})
          for (const n of r.names) out.write({stream: `Successfully tagged ${n}\n`})
        }
      } finally {
        removeTree(dir)
      }
    })
    out.end()
  } catch (err) {
    out.end(buildWords(err))
  }
  return undefined
}

/**
 * A failed RUN in the classic builder's words, which clients match ("The command '/bin/sh -c
 * exit 1' returned a non-zero code: 1"); other build errors without the spool directory's path.
 */
function buildWords(err: unknown): unknown {
  const m = err instanceof Error ? err.message : ''
  const run = /\bline \d+: RUN (.*)\): the command exited with status (\d+)$/s.exec(m)
  if (run) {
    let cmd = `/bin/sh -c ${run[1]}`
    try {
      const argv = JSON.parse(run[1]) as unknown
      if (Array.isArray(argv)) cmd = argv.join(' ')
    } catch {
      // the shell form
    }
    return Object.assign(new Error(`The command '${cmd}' returned a non-zero code: ${run[2]}`), {detailCode: Number(run[2])})
  }
  return err instanceof Error ? new ApiError(statusOf(err), m.replace(/\/\S*\/api-[^/]+\/context\//g, '')) : err
}

/** POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes= → 201 {"Id"}. */
async function commit(ctx: ApiContext): Promise<object> {
  const q = ctx.query
  const container = q.get('container')
  if (!container) throw badRequest('container is required')
  const repo = q.get('repo') || ''
  const t = q.get('tag') || ''
  const {commitContainer} = await import('../../build/commit.js')
  const r = await withStoreLock(ctx, 'shared', (store) =>
    commitContainer(store, {
      container,
      name: repo ? `${repo}${t ? `:${t}` : ''}` : undefined,
      message: q.get('comment') || undefined,
      author: q.get('author') || undefined,
      changes: q.getAll('changes').flatMap((c) => c.split('\n')).filter(Boolean),
      pause: queryBool(q, 'pause', true),
    }),
  )
  return {Id: r.id}
}

/**
 * docker's words for a missing image, "No such image: NAME" (404): clients match them
 * (docker-py raises ImageNotFound only for that wording), so nsx's own longer line
 * ("no such image: x (stored: ...)", for a terminal) is reworded at this door.
 */
function dockerWords(err: unknown): unknown {
  const m = /^no such image: (\S+)/.exec(err instanceof Error ? err.message : '')
  return m ? new ApiError(404, `No such image: ${m[1]}`) : err
}

const imageErrors =
  (h: (ctx: ApiContext) => Promise<unknown>) =>
  async (ctx: ApiContext): Promise<unknown> => {
    try {
      return await h(ctx)
    } catch (err) {
      throw dockerWords(err)
    }
  }

export const IMAGE_ROUTES: Route[] = [
  {method: 'POST', path: '/images/create', handler: create, mutates: true},
  {method: 'GET', path: '/images/json', handler: list},
  {method: 'GET', path: '/images/get', handler: imageErrors(get)},
  {method: 'POST', path: '/images/load', handler: load, mutates: true},
  {method: 'POST', path: '/images/prune', handler: prune, mutates: true},
  {method: 'POST', path: '/images/{name*}/push', handler: push, mutates: true},
  {method: 'POST', path: '/images/{name*}/tag', handler: imageErrors(tag), mutates: true},
  {method: 'GET', path: '/images/{name*}/json', handler: imageErrors(inspect)},
  {method: 'GET', path: '/images/{name*}/history', handler: imageErrors(history)},
  {method: 'GET', path: '/images/{name*}/get', handler: imageErrors(get)},
  {method: 'DELETE', path: '/images/{name*}', handler: imageErrors(remove), mutates: true},
  {method: 'POST', path: '/build', handler: build, mutates: true},
  {method: 'POST', path: '/commit', handler: commit, status: 201, mutates: true},
]
