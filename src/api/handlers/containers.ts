import {existsSync} from 'node:fs'
import type {Socket} from 'node:net'
import type {Container} from '../../container/state.js'
import {createArgs, endpointDriverOpts, type CreateBody} from '../create-body.js'
import {ApiError, badRequest, queryBool, queryFilters, queryInt, readJson} from '../http.js'
import {hijack, RAW_STREAM} from '../hijack.js'
import type {ApiContext, Route} from '../router.js'
import {withStoreLock} from '../store-lock.js'
import {muxFrame, writeOut} from '../streams.js'

const state = () => import('../../container/state.js')

async function resolve(ctx: ApiContext, ref = ctx.params.id): Promise<Container> {
  const {resolveContainer} = await state()
  return resolveContainer(ctx.store(), ref)
}

/** The create body's Healthcheck, docker's checks: a bad one is 400 with docker's message. */
async function checkedHealth(h: NonNullable<CreateBody['Healthcheck']>) {
  const {checkHealth} = await import('../../container/health.js')
  try {
    return checkHealth(h)
  } catch (err) {
    throw badRequest((err as Error).message)
  }
}

/** POST /containers/create?name=: the body as nsx run's arguments, the image looked up (404 so the client pulls), created, not started. */
async function create(ctx: ApiContext): Promise<object> {
  const body = await readJson<CreateBody>(ctx.req, ctx.upgrade)
  const name = ctx.query.get('name') ?? undefined
  const [{parseRunArgs, RUN_OPTIONS}, {findImage}, {createContainer}, {NsxError}] = await Promise.all([
    import('../../container/options.js'), import('../../store/images.js'), import('../../lifecycle/create.js'), import('../../cli/errors.js'),
  ])
  const opts = parseRunArgs(createArgs(body, name, new Set(RUN_OPTIONS.map((o) => o.key))))
  if (body.Healthcheck) opts.healthcheck = await checkedHealth(body.Healthcheck)
  const driverOpts = endpointDriverOpts(body)
  if (driverOpts) opts.endpointDriverOpts = driverOpts
  try {
    findImage(ctx.store(), opts.image!)
  } catch (err) {
    if (err instanceof NsxError && err.kind === 'not-found') throw new ApiError(404, `No such image: ${opts.image}`)
    throw err
  }
  opts.detach = true
  const undo: Array<() => void> = []
  try {
    // The store lock is waited for without blocking the service (a long build or load may hold it).
    const created = await withStoreLock(ctx, 'shared', (store) => createContainer(opts, {undo, store}))
    return {Id: created.config.id, Warnings: []}
  } catch (err) {
    // Nothing half-made stays: what create made before failing is taken back.
    for (const u of undo.reverse()) {
      try {
        u()
      } catch {
        // best effort
      }
    }
    throw err
  }
}

/** 304: nothing to do (start of a running container, stop of a stopped one), as docker answers. */
function notModified(ctx: ApiContext): void {
  ctx.res.writeHead(304)
  ctx.res.end()
}

async function start(ctx: ApiContext): Promise<undefined> {
  const {startContainer} = await import('../../lifecycle/start.js')
  const r = await startContainer(ctx.store(), ctx.params.id, {})
  if (!r.started) notModified(ctx)
  return undefined
}

async function stop(ctx: ApiContext): Promise<undefined> {
  const {stopContainer} = await import('../../lifecycle/stop.js')
  const {parseSignal} = await import('../../lifecycle/kill.js')
  const sig = ctx.query.get('signal')
  const r = await stopContainer(ctx.store(), ctx.params.id, {time: queryInt(ctx.query, 't'), ...(sig ? {signal: parseSignal(sig)} : {})})
  if (r.result === 'not-running') notModified(ctx)
  return undefined
}

async function restart(ctx: ApiContext): Promise<undefined> {
  const {restartContainer} = await import('../../lifecycle/stop.js')
  await restartContainer(ctx.store(), ctx.params.id, {time: queryInt(ctx.query, 't')})
  return undefined
}

async function kill(ctx: ApiContext): Promise<undefined> {
  const {killContainer} = await import('../../lifecycle/kill.js')
  await killContainer(ctx.store(), ctx.params.id, {signal: ctx.query.get('signal') || 'KILL'})
  return undefined
}

/** pause and unpause: the cgroup freezer, through the functions nsx pause and nsx unpause call. */
const freezer = (frozen: boolean) => async (ctx: ApiContext): Promise<undefined> => {
  const f = await import('../../container/pause.js')
  await (frozen ? f.pauseContainer : f.unpauseContainer)(ctx.store(), ctx.params.id)
  return undefined
}

/** DELETE /containers/{id}: docker rm; with link=1, {id} is PARENT/ALIAS and only that legacy link goes. */
async function remove(ctx: ApiContext): Promise<undefined> {
  if (queryBool(ctx.query, 'link')) {
    const {removeLink} = await import('../../lifecycle/links.js')
    await removeLink(ctx.store(), ctx.params.id)
    return undefined
  }
  const {removeContainerVerb} = await import('../../lifecycle/remove.js')
  await removeContainerVerb(ctx.store(), ctx.params.id, {force: queryBool(ctx.query, 'force')})
  return undefined
}

async function rename(ctx: ApiContext): Promise<undefined> {
  const name = ctx.query.get('name')
  if (!name) throw badRequest('no new name given (name=)')
  const {renameContainer} = await import('../../lifecycle/rename.js')
  await renameContainer(ctx.store(), ctx.params.id, name.replace(/^\//, ''))
  return undefined
}

async function prune(ctx: ApiContext): Promise<object> {
  const {containersPrune} = await import('../../lifecycle/prune.js')
  return containersPrune(ctx.store(), queryFilters(ctx.query))
}

/**
 * POST /containers/{id}/wait?condition=: the status line goes out at once (the docker CLI's run
 * waits for it before starting), the body when the condition holds. next-exit waits for an exit
 * after this request (so never before a start); removed for the container to be gone; not-running
 * (the default) returns at once for a container that is not running, and for a running one at its
 * next exit, even when its restart policy starts it again at once. Woken by inotify and, for the
 * supervisor's end after the exit record, by its pidfd: never a poll.
 */
async function wait(ctx: ApiContext): Promise<undefined> {
  const condition = ctx.query.get('condition') || 'not-running'
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: ${condition} (not-running, next-exit or removed)`)
  const c0 = await resolve(ctx)
  const {readContainer, readTombstone} = await state()
  const [{DirWatch}, {processGone}] = await Promise.all([import('../../container/watch.js'), import('../../container/process-end.js')])
  const {res} = ctx
  res.writeHead(200, {'Content-Type': 'application/json'})
  res.flushHeaders()
  const baseline = c0.exit?.finishedAt
  const changes = new DirWatch(c0.dir)
  let last: Container = c0
  try {
    for (;;) {
      const now = readContainer(c0.dir)
      if (!now) {
        // An AutoRemove container's supervisor leaves its code beside the removed directory.
        const tomb = readTombstone(c0.dir)
        if (tomb) last = {...last, status: 'exited', exitCode: tomb.code}
        if (tomb || condition === 'removed' || last.status === 'exited' || last.exit?.finishedAt !== baseline) break
        res.end(`${JSON.stringify({StatusCode: last.exitCode ?? 0, Error: {Message: 'the container was removed before its exit code could be read'}})}\n`)
        return undefined
      }
      last = now
      const exitedSince = now.status === 'exited' && now.exit?.finishedAt !== baseline
      if (condition === 'not-running' && now.status !== 'running' && now.status !== 'starting') break
      // A restart policy may have started it again already: an exit since the request counts (docker's wait returns on it).
      // Without one, the end is the supervisor's (its cleanup done): a prune or rm right after the wait must find it exited.
      const restarts = (now.config.restart?.policy ?? 'no') !== 'no'
      if (condition === 'not-running' && restarts && (c0.status === 'running' || c0.status === 'starting') && now.exit !== undefined && now.exit.finishedAt !== baseline) {
        last = {...now, exitCode: now.exit.code}
        break
      }
      if (condition === 'next-exit' && exitedSince) break
      if (ctx.signal.aborted) return undefined
      // Exit recorded, supervisor still cleaning up: its end changes no file, so its pidfd tells it.
      if (!restarts && now.status === 'running' && now.exit !== undefined && now.exit.finishedAt !== baseline && now.pids) await processGone(now.pids.supervisor, ctx.signal)
      else await changes.next({timeoutMs: 2000, signal: ctx.signal})
    }
  } finally {
    changes.close()
  }
  res.end(`${JSON.stringify({StatusCode: last.exitCode ?? 0, Error: null})}\n`)
  return undefined
}

const ZERO = '0001-01-01T00:00:00Z'

/** GET /containers/json: docker's ContainerSummary of each, filtered as docker filters. */
async function list(ctx: ApiContext): Promise<object[]> {
  const {listEntries, FILTER_KEYS} = await import('../../container/listing.js')
  const {listContainers} = await state()
  const filters = queryFilters(ctx.query)
  const flat: string[] = []
  for (const [k, vs] of filters) {
    if (!FILTER_KEYS.includes(k)) throw badRequest(`invalid filter '${k}'`)
    for (const v of vs) flat.push(`${k}=${v}`)
  }
  const store = ctx.store()
  let entries = listEntries(store, {all: queryBool(ctx.query, 'all'), filters: flat})
  const limit = queryInt(ctx.query, 'limit')
  if (limit !== undefined && limit > 0) entries = entries.slice(0, limit)
  const byId = new Map(listContainers(store).map((c) => [c.config.id, c]))
  const [{isPaused}, {summaryNetworks}] = await Promise.all([import('../../container/pause.js'), import('../../network/connect.js')])
  const out: object[] = []
  for (const e of entries) {
    const c = byId.get(e.id)
    const net = c ? summaryNetworks(c.dir, c.config.spec.network, c.config.spec.net, e.state === 'running') : {Ports: [], Networks: {}}
    const paused = e.state === 'running' && c ? await isPaused(c).catch(() => false) : false
    out.push({
      Id: e.id,
      Names: [`/${e.name}`],
      Image: e.image ?? '',
      ImageID: c?.config.imageIds[0] ?? '',
      Command: e.command.map((w) => (/\s/.test(w) ? JSON.stringify(w) : w)).join(' '),
      Created: Math.floor(Date.parse(e.created) / 1000),
      Ports: net.Ports,
      Labels: e.labels,
      State: paused ? 'paused' : e.state,
      Status: paused ? `${e.status} (Paused)` : e.status,
      HostConfig: {NetworkMode: c?.config.spec.network ?? 'none'},
      NetworkSettings: {Networks: net.Networks},
      Mounts: (c?.config.spec.volumes ?? []).map((v) => ({Type: 'bind', Source: v.source, Destination: v.target, Mode: v.readOnly ? 'ro' : '', RW: !v.readOnly, Propagation: 'rprivate'})),
    })
  }
  return out
}

/** GET /containers/{id}/json: nsx inspect's docker-shaped document, with the fields clients read filled in. */
async function inspect(ctx: ApiContext): Promise<object> {
  const {inspectOne} = await import('../../lifecycle/inspect.js')
  const c = await resolve(ctx)
  const i = await inspectOne(c)
  const {Nsx, ...docker} = i
  return {
    ...docker,
    ResolvConfPath: `${c.dir}/resolv.conf`,
    HostnamePath: `${c.dir}/hostname`,
    HostsPath: `${c.dir}/hosts`,
    LogPath: `${c.dir}/container.log`,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    Platform: 'linux',
    State: {...i.State, StartedAt: i.State.StartedAt || ZERO, FinishedAt: i.State.FinishedAt || ZERO},
    Config: {
      ...i.Config,
      Domainname: '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      StdinOnce: false,
      Entrypoint: [],
      Volumes: {},
      OnBuild: [],
    },
    HostConfig: {...i.HostConfig, CapAdd: [], CapDrop: []},
    NetworkSettings: {...i.NetworkSettings, SandboxID: '', SandboxKey: i.NetworkSettings.SandboxKey || (c.pids ? `/proc/${c.pids.init.pid}/ns/net` : '')},
    Nsx,
  }
}

/** GET /containers/{id}/logs: the json-file log, framed as docker frames it (raw with a tty); follow is woken by inotify. */
async function logs(ctx: ApiContext): Promise<undefined> {
  const q = ctx.query
  const stdout = queryBool(q, 'stdout')
  const stderr = queryBool(q, 'stderr')
  if (!stdout && !stderr) throw badRequest('Bad parameters: you must choose at least one stream')
  const c = await resolve(ctx)
  const {checkLogsReadable, containerLogs, parseTail} = await import('../../lifecycle/logs.js')
  checkLogsReadable(c)
  const since = q.get('since')
  const until = q.get('until')
  const it = containerLogs(ctx.store(), c.config.id, {
    follow: queryBool(q, 'follow'), tail: parseTail(q.get('tail')),
    ...(since && since !== '0' ? {since} : {}), ...(until && until !== '0' ? {until} : {}), signal: ctx.signal,
  })
  const timestamps = queryBool(q, 'timestamps')
  const tty = c.config.spec.tty
  ctx.res.writeHead(200, {'Content-Type': RAW_STREAM})
  ctx.res.flushHeaders()
  for await (const e of it) {
    if (ctx.signal.aborted) break
    if ((e.stream === 'stdout' && !stdout) || (e.stream === 'stderr' && !stderr)) continue
    const data = Buffer.from(timestamps ? `${e.time} ${e.log}` : e.log)
    await writeOut(ctx.res, tty ? data : muxFrame(e.stream === 'stderr' ? 2 : 1, data), ctx.signal)
  }
  ctx.res.end()
  return undefined
}

/**
 * POST /containers/{id}/attach: the container's output (and, with a tty, the client's input)
 * over a hijacked connection. Attached to a running container, through its supervisor's socket;
 * attached before a start (docker run, docker start -a), from its log once it starts, so nothing
 * said before the client could connect is lost. The detach keys, a client closing its side or
 * dropping the connection leave the container running.
 */
async function attach(ctx: ApiContext): Promise<undefined> {
  const q = ctx.query
  const wantStdin = queryBool(q, 'stdin')
  const wantStdout = queryBool(q, 'stdout')
  const wantStderr = queryBool(q, 'stderr')
  const c0 = await resolve(ctx)
  const {DetachMatcher, parseDetachKeys, frame, FrameReader, connectAttach} = await import('../../lifecycle/attach.js')
  // No log (driver none): logs=1 is docker's error; the output comes from the supervisor's socket only.
  const noLog = c0.config.log?.driver === 'none'
  if (noLog && queryBool(q, 'logs')) (await import('../../lifecycle/logs.js')).checkLogsReadable(c0)
  const keys = parseDetachKeys(q.get('detachKeys') || 'ctrl-p,ctrl-q')
  const tty = c0.config.spec.tty
  const store = ctx.store()
  const h = hijack(ctx)
  await h.headRead()
  const abort = new AbortController()
  const stopAll = () => abort.abort()
  ctx.signal.addEventListener('abort', stopAll, {once: true})
  const out = (stream: 1 | 2, data: Buffer) => {
    if ((stream === 1 && !wantStdout) || (stream === 2 && !wantStderr)) return Promise.resolve()
    return writeOut(h.output, tty ? data : muxFrame(stream, data), abort.signal)
  }
  let sock: Socket | undefined
  // Input: the detach keys are the service's business (docker's rule); with a tty, the rest goes to the terminal.
  const matcher = new DetachMatcher(keys)
  const pending: Buffer[] = []
  if (wantStdin) {
    h.input.on('data', (d: Buffer) => {
      const {send, detach} = matcher.feed(d)
      if (send.length > 0 && tty && c0.config.spec.interactive) {
        if (sock) sock.write(frame('i', send))
        else pending.push(send)
      }
      if (detach) stopAll()
    })
    // Reading a body that came after the head paused the socket (readBody): a listener alone does not resume it.
    h.input.resume()
  } else h.input.resume()
  const {DirWatch} = await import('../../container/watch.js')
  const {readContainer} = await state()
  const changes = new DirWatch(c0.dir)
  try {
    if (queryBool(q, 'logs')) {
      const {containerLogs} = await import('../../lifecycle/logs.js')
      for await (const e of containerLogs(store, c0.config.id, {})) await out(e.stream === 'stderr' ? 2 : 1, Buffer.from(e.log))
    }
    // Without stream: what was said (logs=1), and no more.
    if (!queryBool(q, 'stream')) return undefined
    // Relays the supervisor's socket until the container ends or the client detaches.
    const relaySocket = async (s: Socket) => {
      sock = s
      const reader = new FrameReader()
      for (const p of pending.splice(0)) s.write(frame('i', p))
      s.on('data', (d: Buffer) => reader.read(d, (st, bytes) => void out(st === 'e' ? 2 : 1, Buffer.from(bytes))))
      await new Promise<void>((resolveDone) => {
        s.once('close', () => resolveDone())
        // The detach keys may have come while the supervisor's socket was being opened.
        if (abort.signal.aborted) resolveDone()
        else abort.signal.addEventListener('abort', () => resolveDone(), {once: true})
      })
    }
    const liveAtStart = c0.status === 'running' && existsSync(`${c0.dir}/attach.sock`)
    if (liveAtStart) {
      await relaySocket(await connectAttach(c0.dir))
      return undefined
    }
    // Before a start: wait for it, then follow the log from the start on.
    const startedBefore = c0.run?.startedAt
    for (;;) {
      const now = readContainer(c0.dir)
      if (!now) return undefined
      if (now.run?.startedAt !== startedBefore && (now.status === 'running' || now.status === 'exited')) break
      if (abort.signal.aborted) return undefined
      await changes.next({timeoutMs: 5000, signal: abort.signal})
    }
    const now = readContainer(c0.dir)
    if (noLog) {
      // Nothing kept the output: it is relayed from when the socket is reached (docker's daemon attaches before the start).
      const s = now?.status === 'running' && existsSync(`${c0.dir}/attach.sock`) ? await connectAttach(c0.dir).catch(() => undefined) : undefined
      if (s) await relaySocket(s)
      return undefined
    }
    if (now?.status === 'running' && tty && c0.config.spec.interactive && wantStdin && existsSync(`${c0.dir}/attach.sock`)) {
      sock = await connectAttach(c0.dir).catch(() => undefined)
      if (sock) {
        for (const p of pending.splice(0)) sock.write(frame('i', p))
        sock.resume()
        sock.on('data', () => undefined) // output comes from the log
      }
    }
    const {containerLogs} = await import('../../lifecycle/logs.js')
    const since = now?.run?.startedAt
    for await (const e of containerLogs(store, c0.config.id, {follow: true, ...(since ? {since} : {}), signal: abort.signal})) {
      await out(e.stream === 'stderr' ? 2 : 1, Buffer.from(e.log))
    }
    return undefined
  } finally {
    changes.close()
    ctx.signal.removeEventListener('abort', stopAll)
    sock?.destroy()
    h.end()
    if (h.upgraded) {
      // The client reads to our end; then the connection goes (a client that keeps its side open too).
      const s = h.output as unknown as Socket
      s.once('end', () => s.destroy())
      setTimeout(() => s.destroy(), 1000).unref()
    }
  }
}

/** POST /containers/{id}/resize?h=&w=: the terminal's size, through the supervisor. */
async function resize(ctx: ApiContext): Promise<undefined> {
  const rows = queryInt(ctx.query, 'h')
  const cols = queryInt(ctx.query, 'w')
  if (rows === undefined || cols === undefined || rows < 0 || cols < 0 || rows > 65535 || cols > 65535) throw badRequest('invalid size: h and w must be 0 to 65535')
  const c = await resolve(ctx)
  if (c.status !== 'running') throw new ApiError(409, `container ${c.config.name} is not running`)
  if (!c.config.spec.tty || !existsSync(`${c.dir}/attach.sock`)) return undefined
  const {connectAttach, winsizeFrame} = await import('../../lifecycle/attach.js')
  const sock = await connectAttach(c.dir)
  await new Promise<void>((r) => sock.end(winsizeFrame(rows, cols), () => r()))
  sock.destroy()
  return undefined
}

/** GET /containers/{id}/top: ps of the container's processes (those in its pid namespace). */
async function top(ctx: ApiContext): Promise<object> {
  const c = await resolve(ctx)
  if (c.status !== 'running' || !c.pids) throw new ApiError(409, `container ${c.config.name} is not running`)
  const {containerTop} = await import('../../container/top.js')
  return containerTop(c, ctx.query.get('ps_args') || '-ef')
}

/** GET /containers/{id}/stats: docker's stats document, once (stream=0) or every second. */
async function stats(ctx: ApiContext): Promise<undefined> {
  const c = await resolve(ctx)
  const stream = queryBool(ctx.query, 'stream', true) && !queryBool(ctx.query, 'one-shot')
  const {containerStats} = await import('../stats.js')
  await containerStats(ctx, c, stream)
  return undefined
}

export const CONTAINER_ROUTES: Route[] = [
  {method: 'POST', path: '/containers/create', handler: create, status: 201, mutates: true},
  {method: 'GET', path: '/containers/json', handler: list},
  {method: 'POST', path: '/containers/prune', handler: prune, mutates: true},
  {method: 'GET', path: '/containers/{id}/json', handler: inspect},
  {method: 'POST', path: '/containers/{id}/start', handler: start, mutates: true},
  {method: 'POST', path: '/containers/{id}/stop', handler: stop, mutates: true},
  {method: 'POST', path: '/containers/{id}/restart', handler: restart, mutates: true},
  {method: 'POST', path: '/containers/{id}/kill', handler: kill, mutates: true},
  {method: 'POST', path: '/containers/{id}/pause', handler: freezer(true), mutates: true},
  {method: 'POST', path: '/containers/{id}/unpause', handler: freezer(false), mutates: true},
  {method: 'POST', path: '/containers/{id}/wait', handler: wait},
  {method: 'DELETE', path: '/containers/{id*}', handler: remove, mutates: true},
  {method: 'POST', path: '/containers/{id}/rename', handler: rename, mutates: true},
  {method: 'GET', path: '/containers/{id}/logs', handler: logs},
  {method: 'POST', path: '/containers/{id}/attach', handler: attach, mutates: true},
  {method: 'POST', path: '/containers/{id}/resize', handler: resize},
  {method: 'GET', path: '/containers/{id}/top', handler: top},
  {method: 'GET', path: '/containers/{id}/stats', handler: stats},
]
