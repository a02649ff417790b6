import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {recordContainerEvent} from '../container/events.js'
import {resolveContainer} from '../container/state.js'
import {recordImageEvent} from '../store/events.js'
import {parseImageConfig} from '../image/config.js'
import {familiarRef, parseReference} from '../image/reference.js'
import {goArch} from '../image/source.js'
import {mountPointFilter, storeDirAsLayer} from '../store/commit-layer.js'
import {ImageRecord, readImage, updateRepositories, writeImage} from '../store/images.js'
import {armInterruptCleanup, removeOnInterrupt} from '../store/interrupt.js'
import {removeTree, Store} from '../store/store.js'
import {applyConfigInstruction, CONFIG_INSTRUCTIONS, ConfigTarget, ContainerConfig} from './config-instructions.js'
import {parseDockerfile} from './dockerfile.js'
import {expandVars, unquote} from './expand.js'

/**
 * nsx commit: a container's changes (its overlay upper directory, read in place, never
 * modified) as one new layer on top of its image, with the image's config, -c Dockerfile
 * instructions applied to it (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR,
 * STOPSIGNAL, ONBUILD) and a history entry carrying -m and -a (git style). A running container
 * is paused while its upper directory is read, when it has a freezer (docker's default).
 */

export interface CommitOptions {
  container: string
  /** NAME[:TAG]; untagged when absent. */
  name?: string
  message?: string
  author?: string
  changes: string[]
  pause?: boolean
}

export interface CommitResult {
  id: string
  name?: string
  /** diff_id of the new layer; absent when the container changed nothing. */
  layer?: string
}

const COMMIT_INSTRUCTIONS = new Set([...CONFIG_INSTRUCTIONS, 'WORKDIR'])

export async function commitContainer(store: Store, opts: CommitOptions): Promise<CommitResult> {
  const c = resolveContainer(store, opts.container)
  const name = opts.name !== undefined ? familiarRef(parseReference(opts.name)) : undefined
  if (opts.name !== undefined && parseReference(opts.name).digest) throw NsxError.invalid(`${opts.name}: a name cannot contain a digest`)
  // Every lower directory must be a stored layer: an image needs their diff_ids.
  const storedRoots = c.config.layers.map((l) => store.layerRoot(l))
  if (c.config.lowerDirs.some((d) => !storedRoots.includes(d))) throw NsxError.invalid(`container ${c.config.name} uses a --layer directory that is not in the store; only stored layers can be part of an image`)
  const baseId = c.config.imageIds[0]
  const base = baseId ? readImage(store, baseId) : undefined
  if (baseId && !base) throw NsxError.internal(`the image of container ${c.config.name} (${baseId}) is no longer in the store`)
  const baseCfg = base ? (JSON.parse(readFileSync(join(store.imageDir(baseId), 'config.json'), 'utf8')) as Record<string, unknown>) : {architecture: goArch(), os: 'linux', config: {}}
  const target: ConfigTarget = {config: structuredClone((baseCfg.config ?? {}) as ContainerConfig), author: opts.author ?? (typeof baseCfg.author === 'string' ? baseCfg.author : undefined), cmdSet: false}
  // The container's healthcheck (its --health-* over the image's), as docker commits the container's config.
  if (c.config.healthcheck) target.config.Healthcheck = c.config.healthcheck
  // -c: one Dockerfile instruction each, applied in order (variables from the image's Env).
  for (const change of opts.changes) {
    const df = parseDockerfile(`FROM scratch\n${change}\n`, '--change')
    const ins = df.stages[0].instructions
    if (ins.length !== 1) throw NsxError.invalid(`--change '${change}' must be one instruction`)
    if (!COMMIT_INSTRUCTIONS.has(ins[0].keyword)) throw NsxError.invalid(`--change supports ${[...COMMIT_INSTRUCTIONS].join(', ')}, not ${ins[0].keyword}`)
    const vars = new Map((target.config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as [string, string]))
    const x = (s: string) => expandVars(s, vars, '\\', `--change '${change}'`)
    if (ins[0].keyword === 'WORKDIR') {
      const p = x(unquote(ins[0].rest.trim()))
      target.config.WorkingDir = p.startsWith('/') ? p : `${(target.config.WorkingDir || '/').replace(/\/$/, '')}/${p}`
    } else applyConfigInstruction(target, ins[0], x, `--change '${change}'`)
  }
  armInterruptCleanup()
  const scratch = mkdtempSync(join(store.tmpDir, 'commit-'))
  const untrack = removeOnInterrupt(scratch)
  let paused = false
  try {
    if (c.status === 'running' && opts.pause !== false) {
      try {
        const {pauseContainer} = await import('../container/pause.js')
        await pauseContainer(store, c.config.id)
        paused = true
      } catch {
        // no freezer (rootless): committed while it runs, as docker commit --pause=false
      }
    }
    const upper = join(c.dir, 'upper')
    const layer = await storeDirAsLayer(store, upper, scratch, `container ${c.config.name}`, mountPointFilter(upper, c.config.lowerDirs))
    const created = new Date().toISOString()
    const history = Array.isArray(baseCfg.history) ? [...(baseCfg.history as object[])] : c.config.layers.map(() => ({created: base?.created, created_by: 'nsx: base layer'}))
    history.push({
      created,
      created_by: c.config.spec.argv.join(' '),
      ...(target.author ? {author: target.author} : {}),
      ...(opts.message ? {comment: opts.message} : {}),
      ...(layer ? {} : {empty_layer: true}),
    })
    const diffIds = [...c.config.layers, ...(layer ? [layer.diffId] : [])]
    const config: Record<string, unknown> = {...baseCfg, created, config: target.config, rootfs: {type: 'layers', diff_ids: diffIds}, history}
    if (target.author) config.author = target.author
    delete config.container_config
    // docker records the container an image was committed from (image inspect's Container, ContainerConfig).
    config.container = c.config.id
    config.container_config = {Image: c.config.image ?? '', Cmd: c.config.spec.argv, Env: c.config.spec.env, WorkingDir: c.config.spec.workdir}
    const bytes = Buffer.from(JSON.stringify(config))
    const id = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    const parsed = parseImageConfig(bytes, 'commit')
    const record: ImageRecord = {id, layers: diffIds, architecture: parsed.architecture, os: parsed.os, created, defaults: parsed.defaults, format: 'commit', source: `container ${c.config.name}`, loadedAt: created, ...(baseId ? {parent: baseId} : {})}
    writeImage(store, record, bytes)
    if (name) updateRepositories(store, (repos) => void (repos[name] = id))
    if (name) recordImageEvent(store, 'tag', id, {name, imageId: id})
    recordContainerEvent(store, c, 'commit', {comment: opts.message ?? '', imageID: id, ...(name ? {imageRef: name} : {})})
    return {id, name, layer: layer?.diffId}
  } finally {
    if (paused) {
      const {unpauseContainer} = await import('../container/pause.js')
      await unpauseContainer(store, c.config.id).catch(() => {})
    }
    removeTree(scratch)
    untrack()
  }
}
