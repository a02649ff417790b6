import {NsxError} from '../cli/errors.js'
import {TREE_MODES} from './hierarchy-tree.js'
import {NS_TYPES, NsType, parseNsType} from './types.js'

/** Option values of `nsx ls` that need more than oclif's parsing. */

/** lsns's --tree takes an optional value (--tree, --tree=parent, -Tparent); oclif options need one. */
export function normaliseTreeArgs(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') {
      out.push(...argv.slice(i))
      break
    }
    if (a === '--tree' || a === '-T') {
      const next = argv[i + 1]
      if (next !== undefined && (TREE_MODES as readonly string[]).includes(next)) {
        out.push(`--tree=${next}`)
        i++
      } else {
        out.push('--tree=process')
      }
    } else if (a.startsWith('-T') && !a.startsWith('-T=')) {
      out.push(`--tree=${a.slice(2)}`)
    } else if (a.startsWith('-T=')) {
      out.push(`--tree=${a.slice(3)}`)
    } else {
      out.push(a)
    }
  }
  return out
}

export function parseTypes(values: readonly string[] | undefined): NsType[] | undefined {
  if (values === undefined || values.length === 0) return undefined
  const types: NsType[] = []
  for (const v of values.flatMap((s) => s.split(','))) {
    const t = parseNsType(v.trim())
    if (t === undefined) throw new NsxError(`unknown namespace type '${v}' (valid: ${NS_TYPES.join(', ')})`)
    if (!types.includes(t)) types.push(t)
  }
  return types
}

export function parseInode(arg: string | undefined): number | undefined {
  if (arg === undefined) return undefined
  if (!/^\d+$/.test(arg) || !Number.isSafeInteger(Number(arg)) || Number(arg) === 0) {
    throw new NsxError(`invalid namespace '${arg}': expected an inode number such as 4026531836`)
  }
  return Number(arg)
}
