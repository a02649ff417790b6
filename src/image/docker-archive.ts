import {closeSync, openSync, readSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {checkMetadataSize, sniffCompression, verifyBytes} from './blob.js'
import {parseImageConfig} from './config.js'
import {ImageSource, splitName} from './source.js'
import {indexTar, memberName, readMember, resolveMember, TarMember} from './tar-index.js'

/**
 * docker-archive: what `docker save` and `skopeo copy ... docker-archive:` write. A tar
 * holding manifest.json ([{Config, RepoTags, Layers}]), the config JSON and one tar per
 * layer (legacy "<id>/layer.tar", or "blobs/sha256/<hex>" since docker 25). Layers are
 * checked against the config's diff_ids, the only digests the format has for them.
 */

interface ManifestEntry {
  Config?: unknown
  RepoTags?: unknown
  Layers?: unknown
}

export function isDockerArchive(file: string): boolean {
  const fd = openSync(file, 'r')
  try {
    const h = Buffer.alloc(512)
    const n = readSync(fd, h, 0, 512, 0)
    return n === 512 && h.toString('latin1', 257, 262) === 'ustar'
  } finally {
    closeSync(fd)
  }
}

/** display: how to name the archive in messages (the user's path when file is a decompressed copy). */
export function readDockerArchive(file: string, tag: string | undefined, display = file): ImageSource {
  const label = tag ? `${display}:${tag}` : display
  const head = Buffer.alloc(4)
  const fd = openSync(file, 'r')
  try {
    readSync(fd, head, 0, 4, 0)
  } finally {
    closeSync(fd)
  }
  const c = sniffCompression(head)
  if (c !== 'none') throw NsxError.invalid(`${label}: ${c}-compressed docker archive; decompress it first`)
  const members = indexTar(file, label)
  const member = (name: string, what: string): TarMember => {
    const m = resolveMember(members, name)
    if (!m || (m.type !== '0' && m.type !== '7')) throw NsxError.invalid(`${label}: ${what} ${name} is missing from the archive`)
    return m
  }
  const metadata = (name: string, what: string): Buffer => {
    const m = member(name, what)
    checkMetadataSize(m.size, `${label}: ${name}`)
    return readMember(file, m)
  }
  let entries: ManifestEntry[]
  try {
    entries = JSON.parse(metadata('manifest.json', 'file').toString('utf8'))
  } catch (err) {
    if (err instanceof NsxError) throw err.message.includes('missing') ? NsxError.invalid(`${label}: not a docker archive (no manifest.json); a tar of a root filesystem (mmdebstrap, docker export) becomes an image with nsx import ${label} [NAME[:TAG]]`) : err
    throw NsxError.invalid(`${label}: manifest.json is not valid JSON`)
  }
  if (!Array.isArray(entries) || entries.length === 0) throw NsxError.invalid(`${label}: manifest.json lists no image`)
  const tagsOf = (e: ManifestEntry): string[] => (typeof e === 'object' && e !== null && Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [])
  const allTags = entries.flatMap(tagsOf)
  let chosen: ManifestEntry
  if (tag !== undefined) {
    // TAG may be a full "name:tag" or just the tag part.
    const m = entries.filter((e) => tagsOf(e).some((t) => t === tag || splitName(t).tag === tag))
    if (m.length === 0) throw NsxError.invalid(`unknown tag '${tag}' in ${display} (tags: ${allTags.join(', ') || 'none'})`)
    if (m.length > 1) throw NsxError.invalid(`tag '${tag}' is ambiguous in ${display} (tags: ${allTags.join(', ')})`)
    chosen = m[0]
  } else if (entries.length === 1) {
    chosen = entries[0]
  } else {
    throw NsxError.invalid(`${display} holds ${entries.length} images; name one as ${display}:TAG (tags: ${allTags.join(', ') || 'none'})`)
  }
  if (typeof chosen !== 'object' || chosen === null || typeof chosen.Config !== 'string' || !Array.isArray(chosen.Layers) || chosen.Layers.some((l) => typeof l !== 'string'))
    throw NsxError.invalid(`${label}: malformed manifest.json entry`)
  const configBytes = metadata(chosen.Config, 'config')
  const id = verifyBytes(configBytes, undefined, label)
  // Configs named by their digest ("<hex>.json", "blobs/sha256/<hex>") are checked against it.
  const named = /([0-9a-f]{64})(\.json)?$/.exec(chosen.Config)
  if (named) verifyBytes(configBytes, `sha256:${named[1]}`, `${label}: config`)
  const config = parseImageConfig(configBytes, label)
  const layerNames = chosen.Layers as string[]
  if (layerNames.length !== config.diffIds.length)
    throw NsxError.invalid(`${label}: manifest.json lists ${layerNames.length} layers but the config has ${config.diffIds.length} diff_ids`)
  const layers = layerNames.map((name, i) => {
    const m = member(name, 'layer')
    return {blob: {file, start: m.start, length: m.size, label: `${display}:${memberName(name)}`}, diffId: config.diffIds[i]}
  })
  return {label, format: 'docker-archive', names: tagsOf(chosen), configBytes, id, config, layers}
}
