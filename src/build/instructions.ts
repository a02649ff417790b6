import {mkdtempSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {ensureImage} from '../registry/ensure.js'
import {readImage} from '../store/images.js'
import {removeTree, Store} from '../store/store.js'
import {ContextSource, digestSources, LayerSource, resolveSources, SourceRoot} from './context.js'
import {copyIntoLayer, makeWorkdir} from './copy.js'
import {applyConfigInstruction, DEFAULT_SHELL} from './config-instructions.js'
import type {Instruction, Stage} from './dockerfile.js'
import {expandVars, unquote} from './expand.js'
import {configStep, layerStep, LayerStepContext, storeRoots} from './layer-cache.js'
import {envMap, StageState} from './stage.js'

/** The instruction handlers: each step of a stage, after FROM (stage.ts), applied to its state. */

export interface Ctx extends LayerStepContext {
  stages: StageState[]
  dfStages: Stage[]
  context: ContextSource
  buildArgs: Record<string, string>
  globalArgs: Map<string, string>
  escape: string
  where: string
  runOutput?: 'stdout' | 'stderr' | ((chunk: Buffer, stream: 'stdout' | 'stderr') => void)
  /** --add-host NAME:IP: lines of each RUN's /etc/hosts. */
  addHosts?: string[]
  /** The network of each RUN: host (default), none, or a network's name. */
  network?: string
}

/** One instruction: a config change (an empty history entry), or a layer step through the cache. */
export async function runInstruction(store: Store, st: StageState, ins: Instruction, c: Ctx): Promise<{cached: boolean; layer?: string}> {
  const vars = new Map([...st.args, ...envMap(st.config.Env)])
  const x = (s: string) => expandVars(s, vars, c.escape, c.where)
  const words = () => ins.words.map((w) => unquote(x(w)))
  const meta = (createdBy: string) => configStep(store, st, c, createdBy)
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
      const args = [...st.args].filter(([k]) => !envNames.has(k))
      for (const [k, v] of args) env.push(`${k}=${v}`)
      // As docker's classic builder: the build arguments a RUN sees are in its history (|N K=V ...).
      const createdBy = `RUN ${args.length > 0 ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(' ')} ` : ''}${argv.join(' ')}`
      return layerStep(store, st, c, createdBy, {env, workdir: cfg.WorkingDir ?? '', user: cfg.User ?? ''}, async (layer, work) => {
        const dir = mkdtempSync(join(c.scratch, 'ctr-'))
        const {runStep} = await import('./run-step.js') // the container machinery, only when a RUN runs
        const r = await runStep({stdout: c.runOutput, addHosts: c.addHosts, store, network: c.network, lowerDirs: storeRoots(store, st), upper: layer, work, dir, argv, env, workdir: cfg.WorkingDir || '/', user: cfg.User ?? ''})
        removeTree(dir)
        if (r.exitCode !== 0) throw NsxError.internal(`${c.where}: the command ${r.signal ? `was killed by ${r.signal}` : `exited with status ${r.exitCode}`}`)
      })
    }
    case 'COPY':
    case 'ADD': {
      const args = (ins.json ?? words()).map((a) => (ins.json ? x(a) : a))
      if (args.length < 2) throw NsxError.invalid(`${c.where}: ${ins.keyword} needs a source and a destination`)
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
            throw NsxError.from(err, `${c.where}: --from=${from}: ${(err as Error).message}`, 1)
          }
          const rec = readImage(store, id)!
          root = new LayerSource(rec.layers.map((l) => store.layerRoot(l)), `image ${from}`)
          fromKey = `image:${id}`
        }
      }
      const chown = ins.flags.has('chown') ? x(ins.flags.get('chown')!) : undefined
      // The cache key: the copied files' contents, not their times (as docker).
      let digest: string
      let kind: string
      try {
        const nodes = sources.flatMap((s) => resolveSources(root, s))
        digest = digestSources(root, nodes)
        kind = nodes.length !== 1 ? 'multi' : nodes[0].st.isDirectory() ? 'dir' : 'file'
      } catch (err) {
        throw NsxError.from(err, `${c.where}: ${(err as Error).message}`, 1)
      }
      // As docker's classic builder names it (COPY file:<digest> in /dest), so that the history
      // says what the step copied and --cache-from tells changed files apart.
      const createdBy = `${ins.keyword} ${chown ? `--chown=${chown} ` : ''}${from ? `--from=${from} ` : ''}${kind}:${digest} in ${dest}`
      return layerStep(store, st, c, createdBy, {files: `${fromKey}:${digest}`, workdir: cfg.WorkingDir ?? ''}, async (layer) => {
        try {
          copyIntoLayer({keyword: ins.keyword as 'COPY' | 'ADD', sources, dest, workdir: cfg.WorkingDir ?? '/', chown, root, lowerDirs: storeRoots(store, st), layer})
        } catch (err) {
          throw NsxError.from(err, `${c.where}: ${(err as Error).message}`, 1)
        }
      })
    }
    default:
      throw NsxError.invalid(`${c.where}: ${ins.keyword} is not supported`)
  }
}
