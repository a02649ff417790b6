import {NsxError} from '../cli/errors.js'

/** --delay: seconds, fractions allowed; too short a delay makes CPU% noise, not data. */
export function parseDelay(text: string): number {
  const v = /^\d+(\.\d+)?$|^\.\d+$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!Number.isFinite(v) || v < 0.1 || v > 86400) {
    throw new NsxError(`invalid delay '${text}': expected seconds between 0.1 and 86400, e.g. 1 or 0.5`)
  }
  return v
}

/** A cgroup path argument: absolute, no "." or ".." components, no trailing slash. */
export function normaliseCgroupPath(text: string): string {
  let p = text.trim()
  if (p === '') throw new NsxError('invalid cgroup path: empty')
  if (!p.startsWith('/')) p = `/${p}`
  const parts = p.split('/').filter((x) => x !== '')
  if (parts.some((x) => x === '.' || x === '..')) throw new NsxError(`invalid cgroup path '${text}': '.' and '..' are not allowed`)
  return parts.length === 0 ? '/' : `/${parts.join('/')}`
}
