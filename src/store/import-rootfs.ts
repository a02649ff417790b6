import {createHash} from 'node:crypto'
import {closeSync, mkdtempSync, openSync, statSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {fileErrorReason, NsxError} from '../cli/errors.js'
import {applyChange, ContainerConfig} from '../image/config-changes.js'
import {parseImageConfig} from '../image/config.js'
import {Progress} from '../image/progress.js'
import {goArch, splitName} from '../image/source.js'
import {ImageRecord, updateRepositories, writeImage} from './images.js'
import {armInterruptCleanup, removeOnInterrupt} from './interrupt.js'
import {storeLayer} from './layers.js'
import {removeTree, Store} from './store.js'
import {recordImageEvent} from './events.js'

/**
 * `nsx import FILE|- [NAME[:TAG]]`, as docker import: a root filesystem tar (what
 * mmdebstrap, debootstrap, `docker export` and buildroot write; plain, gzip or zstd)
 * becomes a one-layer image with a configuration made here, -c instructions applied.
 */

export interface ImportOptions {
  /** A file, or "-" for stdin. */
  source: string
  /** NAME[:TAG] to give the image. */
  reference?: string
  /** -c: Dockerfile instructions (CMD, ENV, ...). */
  changes: string[]
  /** -m: the history entry's comment. */
  message?: string
  /** Where "-" reads from (stdin by default). */
  stdin?: NodeJS.ReadableStream
}

export interface ImportResult {
  id: string
  names: string[]
  /** Names that pointed to another image before. */
  retagged: string[]
  layer: {diffId: string; reused: boolean; size: number}
}

/** docker's reference grammar, simplified: lower-case path components, an optional tag. */
export function checkReference(ref: string): string {
  const {name, tag} = splitName(ref)
  const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
  const parts = name.split('/')
  // A registry host (with a port) may lead: it has a dot or colon, or is localhost.
  const host = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.shift()! : undefined
  if ((host !== undefined && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(host)) || parts.some((p) => !component.test(p)) || !/^\w[\w.-]{0,127}$/.test(tag))
    throw NsxError.invalid(`invalid reference format '${ref}': a NAME[:TAG] of lower-case letters, digits and separators, e.g. debian:bookworm`)
  return `${name}:${tag}`
}

/** Stdin into a file of the store's tmp/ (a layer is read by path); removed by the caller. */
async function spool(store: Store, input: NodeJS.ReadableStream): Promise<{file: string; dir: string}> {
  const dir = mkdtempSync(join(store.tmpDir, 'import-'))
  const file = join(dir, 'rootfs.tar')
  const fd = openSync(file, 'w', 0o600)
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let off = 0
      while (off < chunk.length) off += writeSync(fd, chunk, off)
    }
  } finally {
    closeSync(fd)
  }
  return {file, dir}
}

/** Import under the store lock (shared): the layer, then the image record, then its name. */
export async function importRootfs(store: Store, o: ImportOptions): Promise<ImportResult> {
  // Everything the user gave is checked before anything is read or stored.
  const name = o.reference !== undefined ? checkReference(o.reference) : undefined
  const config: ContainerConfig = {}
  for (const c of o.changes) applyChange(config, c)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(o.source)) throw NsxError.invalid(`${o.source}: importing from a URL is not supported; download it, then nsx import FILE`)
  let file = o.source
  let label = o.source
  let spooled: string | undefined
  let untrack = () => {}
  if (o.source === '-') {
    armInterruptCleanup()
    const s = await spool(store, o.stdin ?? process.stdin)
    spooled = s.dir
    untrack = removeOnInterrupt(s.dir)
    file = s.file
    label = 'stdin'
  } else {
    let st
    try {
      st = statSync(o.source)
    } catch (err) {
      throw NsxError.invalid(`${o.source}: ${fileErrorReason(err)}`)
    }
    if (!st.isFile()) throw NsxError.invalid(`${o.source}: not a file (nsx import takes a tar of a root filesystem, or - for stdin)`)
  }
  try {
    if (statSync(file).size === 0) throw NsxError.invalid(`${label}: empty input, not a tar archive`)
    // The tar is kept as the layer's blob, so push sends it as imported and the image id holds.
    const stored = await storeLayer(store, {file, label}, {keepBlob: true}, Progress.forTerminal())
    const diffId = stored.meta.diffId
    const created = new Date().toISOString()
    const image = {
      architecture: goArch(),
      os: 'linux',
      created,
      ...(o.message !== undefined ? {comment: o.message} : {}),
      config,
      rootfs: {type: 'layers', diff_ids: [diffId]},
      history: [{created, created_by: `nsx import ${o.source === '-' ? '-' : label}`, ...(o.message !== undefined ? {comment: o.message} : {})}],
    }
    const configBytes = Buffer.from(JSON.stringify(image))
    const id = `sha256:${createHash('sha256').update(configBytes).digest('hex')}`
    const parsed = parseImageConfig(configBytes, label)
    const record: ImageRecord = {
      id,
      layers: [diffId],
      architecture: parsed.architecture,
      os: parsed.os,
      created,
      defaults: parsed.defaults,
      format: 'rootfs-tar',
      source: label,
      loadedAt: created,
    }
    writeImage(store, record, configBytes)
    const retagged =
      name === undefined
        ? []
        : updateRepositories(store, (repos) => {
            const moved = repos[name] !== undefined && repos[name] !== id ? [name] : []
            repos[name] = id
            return moved
          })
    recordImageEvent(store, 'import', id, {imageId: id})
    return {id, names: name ? [name] : [], retagged, layer: {diffId, reused: stored.reused, size: stored.meta.stats.bytes}}
  } finally {
    if (spooled) {
      removeTree(spooled)
      untrack()
    }
  }
}
