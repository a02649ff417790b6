import {randomBytes} from 'node:crypto'
import type {ChildProcess} from 'node:child_process'
import {constants as osConstants} from 'node:os'
import {ApiError, badRequest, queryInt, readJson} from '../http.js'
import {hijack} from '../hijack.js'
import type {ApiContext, Route} from '../router.js'
import {muxFrame, writeOut} from '../streams.js'

/** An exec instance: made by create, run once by start, inspected until its container goes (docker keeps them in memory too). */
interface ExecInstance {
  id: string
  containerId: string
  config: ExecConfig
  running: boolean
  exitCode: number | null
  pid: number
  child?: ChildProcess
  /** With Tty: where window sizes go to the executor (exec-pty-size), and the last one asked before it started. */
  sizes?: import('node:stream').Writable
  size?: {rows: number; cols: number}
}

interface ExecConfig {
  AttachStdin?: boolean
  AttachStdout?: boolean
  AttachStderr?: boolean
  Tty?: boolean
  Env?: string[] | null
  Cmd?: string[]
  Privileged?: boolean
  User?: string
  WorkingDir?: string
  DetachKeys?: string
  /** docker-py sends the key in this case (its config file's detachKeys); Go's JSON decoding takes either. */
  detachKeys?: string
}

const instances = new Map<string, ExecInstance>()
/** At most this many finished instances are kept for inspect (memory bounded by use, not uptime). */
const KEEP_FINISHED = 256

function forget(): void {
  const finished = [...instances.values()].filter((e) => !e.running && e.exitCode !== null)
  for (const e of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) instances.delete(e.id)
}

function instance(ctx: ApiContext): ExecInstance {
  const e = instances.get(ctx.params.id)
  if (!e) throw new ApiError(404, `No such exec instance: ${ctx.params.id}`)
  return e
}

/** POST /containers/{id}/exec: checked against the container now (404, 409 when not running), run by start. */
async function create(ctx: ApiContext): Promise<object> {
  const body = await readJson<ExecConfig>(ctx.req, ctx.upgrade)
  if (!Array.isArray(body.Cmd) || body.Cmd.length === 0 || body.Cmd.some((a) => typeof a !== 'string')) throw badRequest('No exec command specified')
  const {requireExecutable} = await import('../../container/exec.js')
  const c = await requireExecutable(ctx.store(), ctx.params.id)
  forget()
  const id = randomBytes(32).toString('hex')
  instances.set(id, {id, containerId: c.config.id, config: body, running: false, exitCode: null, pid: 0})
  void import('../events.js').then((ev) => ev.publish({Type: 'container', Action: `exec_create: ${body.Cmd!.join(' ')}`, id: c.config.id, attributes: {execID: id}}))
  return {Id: id}
}

/**
 * POST /exec/{id}/start: the executor spawned with the plan nsx exec builds (src/container/exec.ts),
 * its output framed to the client (raw when start's Tty is set, as moby frames it: a terminal is
 * the create's Tty), the client's bytes to its stdin; a client that closes its side closes the
 * process's stdin, and still gets the output. With a terminal and stdin, the detach keys end the
 * connection and leave the process running, as docker's daemon does.
 */
async function start(ctx: ApiContext): Promise<undefined> {
  const e = instance(ctx)
  const body = await readJson<{Detach?: boolean; Tty?: boolean}>(ctx.req, ctx.upgrade)
  if (e.running || e.exitCode !== null) throw new ApiError(409, `exec ${e.id} has already been started`)
  const [{prepareExec}, {encodePlan}, {validatePlan}, {executorPath, sealedExecutor}, {spawn}, {closeSync}] = await Promise.all([
    import('../../container/exec.js'), import('../../plan/encode.js'), import('../../plan/validate.js'), import('../../plan/executor.js'), import('node:child_process'), import('node:fs'),
  ])
  const cfg = e.config
  const tty = cfg.Tty ?? false
  const raw = body.Tty ?? false
  const detach = body.Detach ?? false
  const sizeFd = tty && !detach ? 3 : undefined
  const prepared = await prepareExec(ctx.store(), {
    container: e.containerId, command: cfg.Cmd ?? [], interactive: !detach && (cfg.AttachStdin ?? false), tty, detach, sizeFd,
    user: cfg.User || undefined, env: cfg.Env ?? [], envFiles: [], workdir: cfg.WorkingDir || undefined,
    privileged: cfg.Privileged ?? false, stdinIsTerminal: true, label: 'nsx exec',
  })
  validatePlan(prepared.plan)
  const argv = encodePlan(prepared.plan)
  executorPath()
  const fd = await sealedExecutor()
  // The 101 goes out, and is read, before the process starts (see Hijacked.headRead).
  const h = detach ? undefined : hijack(ctx)
  await h?.headRead()
  let child: ChildProcess
  try {
    child = spawn(`/proc/self/fd/${fd}`, argv.slice(1), {argv0: argv[0], stdio: detach ? 'ignore' : ['pipe', 'pipe', 'pipe', ...(sizeFd !== undefined ? ['pipe' as const] : [])], detached: detach})
  } finally {
    closeSync(fd)
  }
  e.running = true
  e.child = child
  e.pid = child.pid ?? 0
  if (sizeFd !== undefined) {
    e.sizes = child.stdio[sizeFd] as import('node:stream').Writable
    e.sizes.on('error', () => undefined)
    if (e.size) sendSize(e, e.size)
  }
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? ((osConstants.signals as Record<string, number>)[signal] ?? 0) : 0)))
    child.once('error', () => resolve(126))
  })
  void exited.then((code) => {
    e.running = false
    e.exitCode = code
    e.child = undefined
    e.sizes?.destroy()
    e.sizes = undefined
    void import('../events.js').then((ev) => ev.publish({Type: 'container', Action: 'exec_die', id: e.containerId, attributes: {execID: e.id, exitCode: String(code)}}))
  })
  if (!h) {
    child.unref()
    return undefined
  }
  const out = (stream: 1 | 2) => (d: Buffer) => {
    child.stdout?.pause()
    child.stderr?.pause()
    void writeOut(h.output, raw ? d : muxFrame(stream, d)).then(() => {
      child.stdout?.resume()
      child.stderr?.resume()
    })
  }
  child.stdout!.on('data', out(1))
  child.stderr!.on('data', out(2))
  const outputDone = Promise.all([new Promise((r) => child.stdout!.once('close', r)), new Promise((r) => child.stderr!.once('close', r))])
  child.stdin!.on('error', () => undefined)
  let detached = () => {}
  const detachedNow = new Promise<void>((r) => (detached = r))
  if (cfg.AttachStdin) {
    const {DetachMatcher, parseDetachKeys} = await import('../../lifecycle/attach.js')
    const matcher = tty ? new DetachMatcher(parseDetachKeys(cfg.DetachKeys || cfg.detachKeys || 'ctrl-p,ctrl-q')) : undefined
    h.input.on('data', (d: Buffer) => {
      if (!matcher) return void child.stdin!.write(d)
      const {send, detach: off} = matcher.feed(d)
      if (send.length > 0) child.stdin!.write(send)
      if (off) detached()
    })
    h.input.once('end', () => child.stdin!.end())
    // Reading a body that came after the head paused the socket (readBody): a listener alone does not resume it.
    h.input.resume()
  } else {
    child.stdin!.end()
    h.input.resume()
  }
  // A client that goes away leaves the process running (docker's rule); its stdin ends.
  ctx.signal.addEventListener('abort', () => child.stdin!.end(), {once: true})
  await Promise.race([Promise.all([exited, outputDone]), detachedNow, new Promise((r) => ctx.signal.addEventListener('abort', r, {once: true}))])
  if (e.running) {
    // Detached (or the client went): the process goes on; its output is drained, no longer sent.
    child.stdout!.removeAllListeners('data').resume()
    child.stderr!.removeAllListeners('data').resume()
  }
  h.end()
  if (h.upgraded) {
    const s = h.output as unknown as import('node:net').Socket
    s.once('end', () => s.destroy())
    setTimeout(() => s.destroy(), 1000).unref()
  }
  return undefined
}

/** GET /exec/{id}/json. */
function inspect(ctx: ApiContext): object {
  const e = instance(ctx)
  const c = e.config
  return {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: {tty: c.Tty ?? false, entrypoint: c.Cmd?.[0] ?? '', arguments: c.Cmd?.slice(1) ?? [], privileged: c.Privileged ?? false, user: c.User ?? ''},
    OpenStdin: c.AttachStdin ?? false,
    OpenStderr: c.AttachStderr ?? false,
    OpenStdout: c.AttachStdout ?? false,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: c.DetachKeys ?? c.detachKeys ?? '',
    Pid: e.pid,
  }
}

/** A window size to the executor's relay (exec-pty-size: rows, columns, 16 bits each, big-endian). */
function sendSize(e: ExecInstance, size: {rows: number; cols: number}): void {
  const b = Buffer.alloc(4)
  b.writeUInt16BE(size.rows, 0)
  b.writeUInt16BE(size.cols, 2)
  e.sizes?.write(b)
}

/**
 * POST /exec/{id}/resize?h=&w=: with a terminal, its window size (the process gets SIGWINCH); one
 * asked before the process started is applied when it starts. Without a terminal, nothing to size.
 */
function resize(ctx: ApiContext): undefined {
  const e = instance(ctx)
  const rows = queryInt(ctx.query, 'h')
  const cols = queryInt(ctx.query, 'w')
  if (rows === undefined || cols === undefined || rows < 0 || cols < 0 || rows > 65535 || cols > 65535) throw badRequest('invalid size: h and w must be 0 to 65535')
  if (!e.config.Tty) return undefined
  e.size = {rows, cols}
  if (e.sizes) sendSize(e, e.size)
  return undefined
}

export const EXEC_ROUTES: Route[] = [
  {method: 'POST', path: '/containers/{id}/exec', handler: create, status: 201, mutates: true},
  {method: 'POST', path: '/exec/{id}/start', handler: start, mutates: true},
  {method: 'GET', path: '/exec/{id}/json', handler: inspect},
  {method: 'POST', path: '/exec/{id}/resize', handler: resize},
]
