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
 * its output framed to the client (raw with Tty), the client's bytes to its stdin; a client that
 * closes its side closes the process's stdin, and still gets the output.
 */
async function start(ctx: ApiContext): Promise<undefined> {
  const e = instance(ctx)
  const body = await readJson<{Detach?: boolean; Tty?: boolean}>(ctx.req, ctx.upgrade)
  if (e.running || e.exitCode !== null) throw new ApiError(409, `exec ${e.id} has already been started`)
  const [{prepareExec}, {encodePlan}, {validatePlan}, {executorPath, sealedExecutor}, {spawn}, {closeSync}] = await Promise.all([
    import('../../container/exec.js'), import('../../plan/encode.js'), import('../../plan/validate.js'), import('../../plan/executor.js'), import('node:child_process'), import('node:fs'),
  ])
  const cfg = e.config
  const tty = body.Tty ?? cfg.Tty ?? false
  const detach = body.Detach ?? false
  const prepared = await prepareExec(ctx.store(), {
    container: e.containerId, command: cfg.Cmd ?? [], interactive: !detach && (cfg.AttachStdin ?? false), tty, detach,
    user: cfg.User || undefined, env: (cfg.Env ?? []).filter((x) => x.includes('=')), envFiles: [], workdir: cfg.WorkingDir || undefined,
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
    child = spawn(`/proc/self/fd/${fd}`, argv.slice(1), {argv0: argv[0], stdio: detach ? 'ignore' : ['pipe', 'pipe', 'pipe'], detached: detach})
  } finally {
    closeSync(fd)
  }
  e.running = true
  e.child = child
  e.pid = child.pid ?? 0
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? ((osConstants.signals as Record<string, number>)[signal] ?? 0) : 0)))
    child.once('error', () => resolve(126))
  })
  void exited.then((code) => {
    e.running = false
    e.exitCode = code
    e.child = undefined
    void import('../events.js').then((ev) => ev.publish({Type: 'container', Action: 'exec_die', id: e.containerId, attributes: {execID: e.id, exitCode: String(code)}}))
  })
  if (!h) {
    child.unref()
    return undefined
  }
  const out = (stream: 1 | 2) => (d: Buffer) => {
    child.stdout?.pause()
    child.stderr?.pause()
    void writeOut(h.output, tty ? d : muxFrame(stream, d)).then(() => {
      child.stdout?.resume()
      child.stderr?.resume()
    })
  }
  child.stdout!.on('data', out(1))
  child.stderr!.on('data', out(2))
  const outputDone = Promise.all([new Promise((r) => child.stdout!.once('close', r)), new Promise((r) => child.stderr!.once('close', r))])
  child.stdin!.on('error', () => undefined)
  if (cfg.AttachStdin) {
    h.input.on('data', (d: Buffer) => child.stdin!.write(d))
    h.input.once('end', () => child.stdin!.end())
  } else {
    child.stdin!.end()
    h.input.resume()
  }
  // A client that goes away leaves the process running (docker's rule); its stdin ends.
  ctx.signal.addEventListener('abort', () => child.stdin!.end(), {once: true})
  await Promise.race([Promise.all([exited, outputDone]), new Promise((r) => ctx.signal.addEventListener('abort', r, {once: true}))])
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
    DetachKeys: c.DetachKeys ?? '',
    Pid: e.pid,
  }
}

/** POST /exec/{id}/resize: accepted; an exec's process has no terminal of its own to size (it runs on pipes). */
function resize(ctx: ApiContext): undefined {
  instance(ctx)
  const h = queryInt(ctx.query, 'h')
  const w = queryInt(ctx.query, 'w')
  if (h === undefined || w === undefined || h < 0 || w < 0) throw badRequest('invalid size: h and w must be given')
  return undefined
}

export const EXEC_ROUTES: Route[] = [
  {method: 'POST', path: '/containers/{id}/exec', handler: create, status: 201, mutates: true},
  {method: 'POST', path: '/exec/{id}/start', handler: start, mutates: true},
  {method: 'GET', path: '/exec/{id}/json', handler: inspect},
  {method: 'POST', path: '/exec/{id}/resize', handler: resize},
]
