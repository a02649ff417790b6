import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileErrorReason, NsxError} from '../cli/errors.js'
import {parseImageConfig} from '../image/config.js'
import {goArch} from '../image/source.js'
import {ensureImage} from '../registry/ensure.js'
import {familiarRef, parseReference} from '../image/reference.js'
import {ImageRecord, readImage, updateRepositories, writeImage} from '../store/images.js'
import {armInterruptCleanup, removeOnInterrupt} from '../store/interrupt.js'
import {readLayerMeta} from '../store/layers.js'
import {removeTree, shortId, Store} from '../store/store.js'
import {mountPointFilter, storeDirAsLayer} from '../store/commit-layer.js'
import {ContextSource, digestSources, LayerSource, resolveSources, SourceRoot} from './context.js'
import {copyIntoLayer, makeWorkdir} from './copy.js'
import {applyConfigInstruction, ContainerConfig, DEFAULT_SHELL} from './config-instructions.js'
import {Instruction, parseDockerfile, Stage} from './dockerfile.js'
import {expandVars, unquote} from './expand.js'

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

interface History {
  created?: string
  created_by?: string
  author?: string
  comment?: string
  empty_layer?: boolean
}

interface StageState {
  layers: string[]
  base: Record<string, unknown>
  config: ContainerConfig
  history: History[]
  args: Map<string, string>
  created: string
  author?: string
  /** CMD set in this stage (see ConfigTarget). */
  cmdSet: boolean
  architecture: string
  os: string
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>()
  for (const e of env ?? []) {
    const i = e.indexOf('=')
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1))
  }
  return m
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

export async function buildImage(store: Store, opts: BuildOptions): Promise<BuildResult> {
  const log = opts.log === null ? () => {} : (opts.log ?? ((l: string) => process.stdout.write(`${l}\n`)))
  const context = resolve(opts.context)
  try {
    if (!statSync(context).isDirectory()) throw new NsxError(`build context ${opts.context} is not a directory`)
  } catch (err) {
    if (err instanceof NsxError) throw err
    throw new NsxError(`build context ${opts.context}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`)
  }
  const file = opts.file !== undefined ? resolve(opts.file) : existsSync(join(context, 'Dockerfile')) || !existsSync(join(context, 'Containerfile')) ? join(context, 'Dockerfile') : join(context, 'Containerfile')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new NsxError(`cannot read the Dockerfile ${file}: ${fileErrorReason(err)}`)
  }
  const fileLabel = opts.file ?? 'Dockerfile'
  const df = parseDockerfile(text, fileLabel)
  const names = opts.tags.map((t) => {
    const r = parseReference(t)
    if (r.digest) throw new NsxError(`-t ${t}: a tag cannot contain a digest`)
    return familiarRef(r)
  })
  // The last stage, or --target's.
  let last = df.stages.length - 1
  if (opts.target !== undefined) {
    last = df.stages.findIndex((s) => s.name === opts.target!.toLowerCase())
    if (last < 0) throw new NsxError(`--target ${opts.target}: no such stage in ${fileLabel} (stages: ${df.stages.map((s) => s.name ?? String(s.index)).join(', ')})`)
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
        if (opts.signal?.aborted) throw new NsxError('build cancelled')
        stepNo++
        const where = `step ${stepNo}/${total} (${fileLabel} line ${ins.line}: ${ins.text.length > 60 ? `${ins.text.slice(0, 57)}...` : ins.text})`
        log(`STEP ${stepNo}/${total}: ${ins.text}`)
        const r = await runInstruction(store, st, ins, {stages, dfStages: df.stages, context: context0, buildArgs: opts.buildArgs, globalArgs, escape: df.escape, scratch, cacheDir, noCache: !!opts.noCache, where, log, runOutput: opts.runOutput})
        steps.push({stage: si, line: ins.line, instruction: ins.text, cached: r.cached, layer: r.layer})
      }
    }
    if (opts.signal?.aborted) throw new NsxError('build cancelled')
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

async function baseState(store: Store, stage: Stage, done: StageState[], all: Stage[], globalArgs: Map<string, string>, file: string): Promise<StageState> {
  const base = expandVars(stage.base, globalArgs, '\\', `${file} line ${stage.line}`)
  const now = new Date().toISOString()
  const fresh = (): StageState => ({layers: [], base: {}, config: {Env: [DEFAULT_PATH]}, history: [], args: new Map(), created: now, cmdSet: false, architecture: goArch(), os: 'linux'})
  if (base === 'scratch') {
    const s = fresh()
    s.created = new Date(0).toISOString()
    return s
  }
  const prior = all.findIndex((s, i) => i < stage.index && s.name === base.toLowerCase())
  if (prior >= 0) {
    const p = done[prior]
    return {...p, layers: [...p.layers], config: structuredClone(p.config), history: [...p.history], args: new Map(), cmdSet: false}
  }
  let id: string
  try {
    id = (await ensureImage(store, base)).id
  } catch (err) {
    throw new NsxError(`${file} line ${stage.line}: FROM ${base}: ${(err as Error).message}`)
  }
  const rec = readImage(store, id)
  if (!rec) throw new NsxError(`${file} line ${stage.line}: image ${base} vanished from the store`)
  const cfg = JSON.parse(readFileSync(join(store.imageDir(id), 'config.json'), 'utf8')) as Record<string, unknown>
  const config = structuredClone((cfg.config ?? {}) as ContainerConfig)
  // As docker and buildah: a base without PATH gets the default one.
  if (!(config.Env ?? []).some((e) => e.startsWith('PATH='))) config.Env = [...(config.Env ?? []), DEFAULT_PATH]
  let history = Array.isArray(cfg.history) ? (cfg.history as History[]) : []
  // History must list one non-empty entry per layer; synthesise it when the base lacks it.
  if (history.filter((h) => !h.empty_layer).length !== rec.layers.length) history = rec.layers.map(() => ({created: rec.created, created_by: `nsx: layer of ${base}`}))
  return {
    layers: [...rec.layers],
    base: cfg,
    config,
    history: [...history],
    args: new Map(),
    created: rec.created ?? now,
    author: typeof cfg.author === 'string' ? cfg.author : undefined,
    cmdSet: false,
    architecture: rec.architecture || goArch(),
    os: rec.os || 'linux',
  }
}

interface Ctx {
  stages: StageState[]
  dfStages: Stage[]
  context: ContextSource
  buildArgs: Record<string, string>
  globalArgs: Map<string, string>
  escape: string
  scratch: string
  cacheDir: string
  noCache: boolean
  where: string
  log: (l: string) => void
  runOutput?: 'stdout' | 'stderr' | ((chunk: Buffer, stream: 'stdout' | 'stderr') => void)
}

interface CacheEntry {
  diffId: string | null
  created: string
}

async function runInstruction(store: Store, st: StageState, ins: Instruction, c: Ctx): Promise<{cached: boolean; layer?: string}> {
  const vars = new Map([...st.args, ...envMap(st.config.Env)])
  const x = (s: string) => expandVars(s, vars, c.escape, c.where)
  const words = () => ins.words.map((w) => unquote(x(w)))
  const meta = (createdBy: string) => {
    st.history.push({created: st.created, created_by: createdBy, empty_layer: true})
    return {cached: false}
  }
  const cfg = st.config
  switch (ins.keyword) {
    case 'ARG': {
      for (const p of ins.pairs) {
        const v = c.buildArgs[p.key] ?? (p.value !== undefined ? x(p.value) : c.globalArgs.get(p.key))
        if (v !== undefined) st.args.set(p.key, v)
        else st.args.delete(p.key)
      }
      return meta(`ARG ${ins.pairs.map((p) => p.key + (p.value !== undefined ? `=${p.value}` : '')).join(' ')}`)
    }
    case 'ENV':
    case 'LABEL':
    case 'MAINTAINER':
    case 'EXPOSE':
    case 'VOLUME':
    case 'USER':
    case 'STOPSIGNAL':
    case 'SHELL':
    case 'CMD':
    case 'ENTRYPOINT':
    case 'HEALTHCHECK':
    case 'ONBUILD':
      return meta(applyConfigInstruction(st, ins, x, c.where))
    case 'WORKDIR': {
      const path = x(unquote(ins.rest.trim()))
      const abs = path.startsWith('/') ? path : `${(cfg.WorkingDir || '/').replace(/\/$/, '')}/${path}`
      cfg.WorkingDir = abs.replace(/\/+/g, '/').replace(/(.)\/$/, '$1')
      return layerStep(store, st, c, `WORKDIR ${cfg.WorkingDir}`, {}, async (layer) => void makeWorkdir(storeRoots(store, st), layer, cfg.WorkingDir!))
    }
    case 'RUN': {
      const argv = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.rest.trim()]
      // Build arguments are in RUN's environment (not in the image), unless ENV set the name.
      const env = [...(cfg.Env ?? [])]
      const envNames = envMap(env)
      for (const [k, v] of st.args) if (!envNames.has(k)) env.push(`${k}=${v}`)
      const createdBy = `RUN ${argv.join(' ')}`
      return layerStep(store, st, c, createdBy, {env, workdir: cfg.WorkingDir ?? '', user: cfg.User ?? ''}, async (layer, work) => {
        const dir = mkdtempSync(join(c.scratch, 'ctr-'))
        const {runStep} = await import('./run-step.js') // the container machinery, only when a RUN runs
        const r = await runStep({stdout: c.runOutput, lowerDirs: storeRoots(store, st), upper: layer, work, dir, argv, env, workdir: cfg.WorkingDir || '/', user: cfg.User ?? ''})
        removeTree(dir)
        if (r.exitCode !== 0) throw new NsxError(`${c.where}: the command ${r.signal ? `was killed by ${r.signal}` : `exited with status ${r.exitCode}`}`)
      })
    }
    case 'COPY':
    case 'ADD': {
      const args = (ins.json ?? words()).map((a) => (ins.json ? x(a) : a))
      if (args.length < 2) throw new NsxError(`${c.where}: ${ins.keyword} needs a source and a destination`)
      const sources = args.slice(0, -1)
      const dest = args[args.length - 1]
      let root: SourceRoot = c.context
      let fromKey = 'context'
      const from = ins.flags.get('from')
      if (from !== undefined) {
        const name = x(from).toLowerCase()
        const idx = c.dfStages.findIndex((s, i) => i < c.stages.length && (s.name === name || String(s.index) === name))
        if (idx >= 0 && idx < c.stages.length - 1) {
          root = new LayerSource(storeRoots(store, c.stages[idx]), `stage ${name}`)
          fromKey = `stage:${c.stages[idx].layers.join(',')}`
        } else {
          let id: string
          try {
            id = (await ensureImage(store, x(from))).id
          } catch (err) {
            throw new NsxError(`${c.where}: --from=${from}: ${(err as Error).message}`)
          }
          const rec = readImage(store, id)!
          root = new LayerSource(rec.layers.map((l) => store.layerRoot(l)), `image ${from}`)
          fromKey = `image:${id}`
        }
      }
      const chown = ins.flags.has('chown') ? x(ins.flags.get('chown')!) : undefined
      // The cache key: the copied files' contents, not their times (as docker).
      let digest: string
      try {
        digest = digestSources(root, sources.flatMap((s) => resolveSources(root, s)))
      } catch (err) {
        throw new NsxError(`${c.where}: ${(err as Error).message}`)
      }
      const createdBy = `${ins.keyword} ${chown ? `--chown=${chown} ` : ''}${from ? `--from=${from} ` : ''}${sources.join(' ')} ${dest}`
      return layerStep(store, st, c, createdBy, {files: `${fromKey}:${digest}`, workdir: cfg.WorkingDir ?? ''}, async (layer) => {
        try {
          copyIntoLayer({keyword: ins.keyword as 'COPY' | 'ADD', sources, dest, workdir: cfg.WorkingDir ?? '/', chown, root, lowerDirs: storeRoots(store, st), layer})
        } catch (err) {
          throw new NsxError(`${c.where}: ${(err as Error).message}`)
        }
      })
    }
    default:
      throw new NsxError(`${c.where}: ${ins.keyword} is not supported`)
  }
}

function storeRoots(store: Store, st: StageState): string[] {
  return st.layers.map((l) => store.layerRoot(l))
}

/** A step that may make a layer: from the cache when its key is there, else made by fill(). */
async function layerStep(
  store: Store,
  st: StageState,
  c: Ctx,
  createdBy: string,
  extra: Record<string, unknown>,
  fill: (layer: string, work: string) => Promise<void>,
): Promise<{cached: boolean; layer?: string}> {
  const key = sha256(JSON.stringify({v: 1, layers: st.layers, env: st.config.Env, user: st.config.User, shell: st.config.Shell, createdBy, ...extra}))
  const cacheFile = join(c.cacheDir, `${key}.json`)
  const hit = c.noCache ? undefined : store.readJson<CacheEntry>(cacheFile)
  if (hit && (hit.diffId === null || readLayerMeta(store, hit.diffId))) {
    c.log(`--> Using cache ${key.slice(0, 12)}`)
    apply(st, hit, createdBy)
    return {cached: true, layer: hit.diffId ?? undefined}
  }
  const step = mkdtempSync(join(c.scratch, 'step-'))
  const layer = join(step, 'layer')
  const work = join(step, 'work')
  mkdirSync(layer, {mode: 0o755})
  mkdirSync(work, {mode: 0o700})
  try {
    await fill(layer, work)
    const stored = await storeDirAsLayer(store, layer, step, createdBy.slice(0, 60), mountPointFilter(layer, storeRoots(store, st)), true)
    const entry: CacheEntry = {diffId: stored?.diffId ?? null, created: new Date().toISOString()}
    store.writeJsonAtomic(cacheFile, entry)
    apply(st, entry, createdBy)
    c.log(`--> ${stored ? shortId(stored.diffId) : 'no change'}`)
    return {cached: false, layer: stored?.diffId}
  } finally {
    removeTree(step)
  }
}

function apply(st: StageState, e: CacheEntry, createdBy: string): void {
  if (e.created > st.created) st.created = e.created
  if (e.diffId) st.layers.push(e.diffId)
  st.history.push({created: e.created, created_by: createdBy, ...(e.diffId ? {} : {empty_layer: true}), comment: 'nsx build'})
}
