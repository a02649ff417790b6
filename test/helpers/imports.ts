import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, normalize, relative} from 'node:path'
import {parse} from '@babel/parser'
import {REPO} from './env.js'

/** The .ts files below dir (declaration files left out), sorted. */
export function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out.push(...tsFiles(p))
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** A node of Babel's syntax tree, as far as the import reader looks. */
interface Node {
  type: string
  source?: {type: string; value?: unknown} | null
  moduleReference?: {type: string; expression?: {type: string; value?: unknown}}
}

/** The module specifiers a syntax node names itself (not its children). */
function specifiersOf(node: Node): string[] {
  switch (node.type) {
    case 'ImportDeclaration': // import x from, import type {X} from
    case 'ExportNamedDeclaration': // export {x} from
    case 'ExportAllDeclaration': // export * from
    case 'ImportExpression': // await import('./x.js')
    case 'TSImportType': // let x: import('./x.js').X
      return node.source?.type === 'StringLiteral' && typeof node.source.value === 'string' ? [node.source.value] : []
    case 'TSImportEqualsDeclaration': // import x = require('./x.js')
      return node.moduleReference?.type === 'TSExternalModuleReference' && typeof node.moduleReference.expression?.value === 'string' ? [node.moduleReference.expression.value] : []
    default:
      return []
  }
}

/**
 * Relative imports of one file, as repository paths of .ts files, read from the syntax
 * tree of Babel's TypeScript parser (so an import in a comment or a string is none):
 * import and export ... from (type-only ones too), import x = require(), import(), and
 * import('...').Type in a type position.
 */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const ast = parse(text, {sourceType: 'module', plugins: ['typescript'], errorRecovery: false})
  const specifiers: string[] = []
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v)
      return
    }
    if (value === null || typeof value !== 'object') return
    if (typeof (value as Node).type === 'string') specifiers.push(...specifiersOf(value as Node))
    for (const [key, child] of Object.entries(value)) {
      if (key !== 'loc' && key !== 'extra' && child !== null && typeof child === 'object') walk(child)
    }
  }
  walk(ast.program)
  const out = new Set<string>()
  for (const spec of specifiers) {
    if (!spec.startsWith('./') && !spec.startsWith('../')) continue
    const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts')
    out.add(relative(REPO, target))
  }
  return [...out]
}
