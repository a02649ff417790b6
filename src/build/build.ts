import {existsSync, mkdirSync, mkdtempSync, readFileSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileErrorReason, NsxError} from '../cli/errors.js'
import {parseImageConfig} from '../image/config.js'
import {familiarRef, parseReference} from '../image/reference.js'
import {findImage, ImageRecord, readImage, updateRepositories, writeImage} from '../store/images.js'
import {armInterruptCleanup, removeOnInterrupt} from '../store/interrupt.js'
import {removeTree, shortId, Store} from '../store/store.js'
import {ContextSource} from './context.js'
import {parseDockerfile} from './dockerfile.js'
import {expandVars} from './expand.js'
import {runInstruction} from './instructions.js'
import {CacheImage, sha256} from './layer-cache.js'
import {baseState, History, StageState} from './stage.js'
import {parseAddHost} from '../container/etc-files.js'

/**
 * nsx build: a Dockerfile's stages, in order, into OCI images in the store. Each step that
 * changes files (RUN, COPY, ADD, a WORKDIR that must be made) becomes one layer; the others
 * change the config. A step's layer is cached under a key of everything it depends on: the
 * layers below it, the config it runs with (Env, WorkingDir, User, Shell), the instruction
 * with its variables expanded, and for COPY/ADD the digest of the files it copies; so an
 * unchanged rebuild runs no RUN. A failing step stops the build (its step number, line and
 * exit status in one line); nothing but complete, cached layers remains of it.
 */

export interface BuildOptions {
  context: string
  /** The Dockerfile (default CONTEXT/Dockerfile, else CONTEXT/Containerfile). */
  file?: string
  tags: string[]
  buildArgs: Record<string, string>
  target?: string
  noCache?: boolean
  /** Where step lines go (default stdout); null: nowhere. */
  log?: ((line: string) => void) | null
  /** Where RUN's output goes: stdout (default) or stderr (when stdout carries JSON or an id), or a function (the Engine API's stream). */
  runOutput?: 'stdout' | 'stderr' | ((chunk: Buffer, stream: 'stdout' | 'stderr') => void)
  /** Aborted (the client gone): the build stops at the next step and records no image. */
  signal?: AbortSignal
  /** Labels added to the final image's config (docker build --label). */
  labels?: Record<string, string>
  /** --cache-from: when any is given, these images are the only cache sources (docker's classic builder); a name not stored is skipped. */
  cacheFrom?: string[]
  /** --add-host NAME:IP: added to each RUN's /etc/hosts. */
  addHosts?: string[]
  /** The network of each RUN (docker build --network): host (default), none, or a network's name. */
  network?: string
}

export interface BuildStep {
  stage: number
  line: number
  instruction: string
  cached: boolean
  layer?: string
}

export interface BuildResult {
  id: string
  names: string[]
  steps: BuildStep[]
}

export async function buildImage(store: Store, opts: BuildOptions): Promise<BuildResult> {
  const log = opts.log === null ? () => {} : (opts.log ?? ((l: string) => process.stdout.write(`${l}\n`)))
  const context = resolve(opts.context)
  try {
    if (!statSync(context).isDirectory()) throw NsxError.invalid(`build context ${opts.context} is not a directory`)
  } catch (err) {
    if (err instanceof NsxError) throw err
    throw NsxError.invalid(`build context ${opts.context}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`)
  }
  const file = opts.file !== undefined ? resolve(opts.file) : existsSync(join(context, 'Dockerfile')) || !existsSync(join(context, 'Containerfile')) ? join(context, 'Dockerfile') : join(context, 'Containerfile')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw NsxError.invalid(`cannot read the Dockerfile ${file}: ${fileErrorReason(err)}`)
  }
  for (const h of opts.addHosts ?? []) parseAddHost(h)
  const fileLabel = opts.file ?? 'Dockerfile'
  const df = parseDockerfile(text, fileLabel)
  const names = opts.tags.map((t) => {
    const r = parseReference(t)
    if (r.digest) throw NsxError.invalid(`-t ${t}: a tag cannot contain a digest`)
    return familiarRef(r)
  })
  // The last stage, or --target's.
  let last = df.stages.length - 1
  if (opts.target !== undefined) {
    last = df.stages.findIndex((s) => s.name === opts.target!.toLowerCase())
    if (last < 0) throw NsxError.notFound(`--target ${opts.target}: no such stage in ${fileLabel} (stages: ${df.stages.map((s) => s.name ?? String(s.index)).join(', ')})`)
  }
  const globalArgs = new Map<string, string>()
  for (const a of df.globalArgs) {
    const v = opts.buildArgs[a.key] ?? (a.value !== undefined ? expandVars(a.value, globalArgs, df.escape) : undefined)
    if (v !== undefined) globalArgs.set(a.key, v)
  }
  const total = df.stages.slice(0, last + 1).reduce((n, s) => n + 1 + s.instructions.length, 0)
  let stepNo = 0
  const steps: BuildStep[] = []
  const context0 = new ContextSource(context)
  const stages: StageState[] = []
  const cacheFrom = opts.cacheFrom && opts.cacheFrom.length > 0 ? cacheImages(store, opts.cacheFrom, log) : undefined
  armInterruptCleanup()
  mkdirSync(store.tmpDir, {recursive: true, mode: 0o700})
  const scratch = mkdtempSync(join(store.tmpDir, 'build-'))
  const untrack = removeOnInterrupt(scratch)
  const cacheDir = join(store.root, 'build-cache')
  mkdirSync(cacheDir, {recursive: true, mode: 0o700})
  try {
    for (let si = 0; si <= last; si++) {
      const stage = df.stages[si]
      stepNo++
      const fromText = `FROM ${stage.base}${stage.name ? ` AS ${stage.name}` : ''}`
      log(`STEP ${stepNo}/${total}: ${fromText}`)
      const st = await baseState(store, stage, stages, df.stages, globalArgs, fileLabel)
      stages.push(st)
      for (const ins of stage.instructions) {
        if (opts.signal?.aborted) throw NsxError.internal('build cancelled')
        stepNo++
        const where = `step ${stepNo}/${total} (${fileLabel} line ${ins.line}: ${ins.text.length > 60 ? `${ins.text.slice(0, 57)}...` : ins.text})`
        log(`STEP ${stepNo}/${total}: ${ins.text}`)
        const r = await runInstruction(store, st, ins, {stages, dfStages: df.stages, context: context0, buildArgs: opts.buildArgs, globalArgs, escape: df.escape, scratch, cacheDir, noCache: !!opts.noCache, cacheFrom, addHosts: opts.addHosts, where, log, runOutput: opts.runOutput, network: opts.network})
        steps.push({stage: si, line: ins.line, instruction: ins.text, cached: r.cached, layer: r.layer})
      }
    }
    if (opts.signal?.aborted) throw NsxError.internal('build cancelled')
    const st = stages[last]
    // --label: docker build adds them to the final image's labels.
    if (opts.labels && Object.keys(opts.labels).length > 0) st.config = {...st.config, Labels: {...(st.config.Labels ?? {}), ...opts.labels}}
    const created = st.created
    const config: Record<string, unknown> = {
      ...st.base,
      created,
      architecture: st.architecture,
      os: st.os,
      config: st.config,
      rootfs: {type: 'layers', diff_ids: st.layers},
      history: st.history,
    }
    if (st.author) config.author = st.author
    delete config.container_config
    delete config.container
    delete config.docker_version
    const configBytes = Buffer.from(JSON.stringify(config))
    const id = `sha256:${sha256(configBytes.toString('utf8'))}`
    const parsed = parseImageConfig(configBytes, 'build result')
    if (!readImage(store, id)) {
      const record: ImageRecord = {
        id,
        layers: st.layers,
        architecture: parsed.architecture,
        os: parsed.os,
        created,
        defaults: parsed.defaults,
        format: 'build',
        source: context,
        loadedAt: new Date().toISOString(),
      }
      writeImage(store, record, configBytes)
    }
    if (names.length > 0) updateRepositories(store, (repos) => {
      for (const n of names) repos[n] = id
    })
    log(`COMMIT ${names.join(' ')}`.trimEnd())
    log(`--> ${shortId(id)}`)
    for (const n of names) log(`Successfully tagged ${n}`)
    return {id, names, steps}
  } finally {
    removeTree(scratch)
    untrack()
  }
}

/** --cache-from's images as cache sources; one not in the store is skipped with a line, as docker's daemon logs it. */
function cacheImages(store: Store, refs: string[], log: (l: string) => void): CacheImage[] {
  const out: CacheImage[] = []
  for (const ref of refs) {
    let id: string
    try {
      id = findImage(store, ref).id
    } catch {
      log(`--cache-from ${ref}: no such image, skipped`)
      continue
    }
    const rec = readImage(store, id)
    if (!rec) continue
    const cfg = JSON.parse(readFileSync(join(store.imageDir(id), 'config.json'), 'utf8')) as {history?: History[]}
    if (Array.isArray(cfg.history)) out.push({layers: [...rec.layers], history: cfg.history})
  }
  return out
}
