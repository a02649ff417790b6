import {NsxError} from '../cli/errors.js'

/**
 * The name rules of layer extraction. A tar entry's name is reduced to components
 * relative to the layer directory; anything that could point outside it is refused,
 * not "cleaned": absolute names, "..", empty names and NUL bytes. (Cleaning is how
 * several unpackers went wrong: "a/../../x" must not become "../x" nor "x".)
 */

/** A layer or archive entry refused for safety (invalid input, 400). */
export class UnsafeEntryError extends NsxError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode, 'invalid')
  }
}

const printable = (s: string) => JSON.stringify(s).slice(1, -1)

/** Components of an entry name; [] is the layer's root directory itself. */
export function entryComponents(name: string, what = 'entry'): string[] {
  if (name.includes('\0')) throw new UnsafeEntryError(`refusing ${what} '${printable(name)}': NUL byte in name`)
  if (name.startsWith('/')) throw new UnsafeEntryError(`refusing ${what} '${printable(name)}': absolute path`)
  const out: string[] = []
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue
    if (c === '..') throw new UnsafeEntryError(`refusing ${what} '${printable(name)}': '..' escapes the layer`)
    out.push(c)
  }
  return out
}

/** A hard link's target: the same rules, and it may not be the root. */
export function linkTargetComponents(entryName: string, target: string): string[] {
  if (target === '') throw new UnsafeEntryError(`refusing hard link '${printable(entryName)}': empty target`)
  const comps = entryComponents(target, `hard link '${printable(entryName)}' to`)
  if (comps.length === 0) throw new UnsafeEntryError(`refusing hard link '${printable(entryName)}': target is the layer root`)
  return comps
}

export const WHITEOUT_PREFIX = '.wh.'
export const OPAQUE_MARKER = '.wh..wh..opq'

/** What an entry's last component says in the OCI whiteout convention. */
export type WhiteoutKind = {kind: 'none'} | {kind: 'opaque'} | {kind: 'whiteout'; name: string} | {kind: 'aufs-meta'}

export function whiteoutOf(base: string, fullName: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return {kind: 'none'}
  if (base === OPAQUE_MARKER) return {kind: 'opaque'}
  // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless to overlayfs.
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return {kind: 'aufs-meta'}
  const name = base.slice(WHITEOUT_PREFIX.length)
  if (name === '' || name === '.' || name === '..') throw new UnsafeEntryError(`refusing whiteout '${printable(fullName)}': it names no file`)
  return {kind: 'whiteout', name}
}
