import {humanDuration} from '../container/listing.js'
import {type DiskUsage, humanSize, summarise} from './disk-usage.js'

/**
 * docker system df's text: the columns of Go's tabwriter as the docker CLI sets it up (cells
 * padded by 3 to at least 10 wide, the last one not padded), so both print the same.
 */
export function tabwrite(rows: string[][]): string {
  const widths: number[] = []
  for (const r of rows) r.forEach((cell, i) => {
    if (i < r.length - 1) widths[i] = Math.max(widths[i] ?? 0, Math.max(cell.length + 3, 10))
  })
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(widths[i]) : cell)).join('').replace(/\s+$/, '')).join('\n') + '\n'
}

const ago = (seconds: number) => (seconds <= 0 ? 'N/A' : `${humanDuration(Date.now() / 1000 - seconds)} ago`)
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12)

/** The summary (TYPE TOTAL ACTIVE SIZE RECLAIMABLE), or with `verbose` each image, container, volume and cache entry. */
export function renderDiskUsage(u: DiskUsage, verbose: boolean): string {
  if (!verbose) {
    const rows = [['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']]
    for (const s of summarise(u)) {
      const reclaim = s.percent && s.size > 0 ? `${humanSize(s.reclaimable)} (${Math.floor((s.reclaimable * 100) / s.size)}%)` : humanSize(s.reclaimable)
      rows.push([s.type, String(s.total), String(s.active), humanSize(s.size), reclaim])
    }
    return tabwrite(rows)
  }
  const images = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']]
  for (const i of u.images) {
    for (const n of i.names.length > 0 ? i.names : ['<none>:<none>']) {
      const colon = n.lastIndexOf(':')
      images.push([n.slice(0, colon), n.slice(colon + 1), short(i.id), ago(i.created), humanSize(i.size), humanSize(i.sharedSize), humanSize(i.size - i.sharedSize), String(i.containers)])
    }
  }
  const containers = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES']]
  for (const c of u.containers) {
    const cmd = c.command.length > 20 ? `"${c.command.slice(0, 19)}…"` : `"${c.command}"`
    containers.push([short(c.id), c.image, cmd, String(c.localVolumes), humanSize(c.sizeRw, 3), ago(c.created), c.status, c.name])
  }
  const volumes = [['VOLUME NAME', 'LINKS', 'SIZE']]
  for (const v of u.volumes) volumes.push([v.name, String(v.refCount), humanSize(v.size)])
  const cache = [['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED']]
  // The docker CLI's order: least recently used first, then by id.
  const byUse = [...u.buildCache].sort((a, b) => (a.lastUsedAt === null ? (b.lastUsedAt === null ? a.id.localeCompare(b.id) : -1) : b.lastUsedAt === null ? 1 : Date.parse(a.lastUsedAt) - Date.parse(b.lastUsedAt) || a.id.localeCompare(b.id)))
  for (const b of byUse) cache.push([`${b.id.slice(0, 12)}${b.inUse ? '*' : ''}`, 'regular', humanSize(b.size, 3), ago(Date.parse(b.createdAt) / 1000), b.lastUsedAt ? ago(Date.parse(b.lastUsedAt) / 1000) : '', String(b.usageCount), String(b.shared)])
  const cacheSize = u.buildCache.filter((b) => !b.shared).reduce((n, b) => n + b.size, 0)
  return [
    'Images space usage:\n\n', tabwrite(images),
    '\nContainers space usage:\n\n', tabwrite(containers),
    '\nLocal Volumes space usage:\n\n', tabwrite(volumes),
    `\nBuild cache usage: ${humanSize(cacheSize)}\n\n`, tabwrite(cache),
  ].join('')
}
