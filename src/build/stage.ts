import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {goArch} from '../image/source.js'
import {ensureImage} from '../registry/ensure.js'
import {readImage} from '../store/images.js'
import type {Store} from '../store/store.js'
import type {ContainerConfig} from './config-instructions.js'
import type {Stage} from './dockerfile.js'
import {expandVars} from './expand.js'

/** A build stage's image as its steps change it, from its FROM on (scratch, an earlier stage, or an image). */

export interface History {
  created?: string
  created_by?: string
  author?: string
  comment?: string
  empty_layer?: boolean
}

export interface StageState {
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

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** NAME=VALUE entries as a map. */
export function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>()
  for (const e of env ?? []) {
    const i = e.indexOf('=')
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1))
  }
  return m
}

/** FROM: the state a stage starts from (scratch, an earlier stage's, or a stored or pulled image's). */
export async function baseState(store: Store, stage: Stage, done: StageState[], all: Stage[], globalArgs: Map<string, string>, file: string): Promise<StageState> {
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
    throw NsxError.from(err, `${file} line ${stage.line}: FROM ${base}: ${(err as Error).message}`, 1)
  }
  const rec = readImage(store, id)
  if (!rec) throw NsxError.internal(`${file} line ${stage.line}: image ${base} vanished from the store`)
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
