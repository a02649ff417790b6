import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {REPO} from '../helpers/env.js'
import {importsOf, tsFiles} from '../helpers/imports.js'

/**
 * The structure of src/: no import circle between files, and no import that goes up or
 * sideways between folders. The layers are data in docs/architecture.md (the ```layers block:
 * one line per layer, lowest first); a folder may import only folders on lower lines.
 * Every import counts: static, type-only, re-exports and dynamic (`await import('../x.js')`,
 * `import('../x.js').T`), found in the syntax tree (Babel's TypeScript parser), not by a pattern.
 */

const files = [...tsFiles(join(REPO, 'src')), ...tsFiles(join(REPO, 'commands'))]
const graph = new Map(files.map((f) => [relative(REPO, f), importsOf(f)]))

/** The ```layers block of docs/architecture.md: folder -> its line (0 = lowest). */
export function readLayers(markdown: string): Map<string, number> {
  const m = /^```layers\n([\s\S]*?)^```/m.exec(markdown)
  if (!m) throw new Error('docs/architecture.md has no ```layers block')
  const layers = new Map<string, number>()
  m[1]
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .forEach((line, i) => {
      for (const folder of line.split(/\s+/)) layers.set(folder, i)
    })
  return layers
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function circles(g: Map<string, string[]>): string[][] {
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  const visit = (v: string) => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort())
    }
  }
  for (const v of g.keys()) if (!idx.has(v)) visit(v)
  return out
}

const folderOf = (file: string) => (file.startsWith('src/') ? file.split('/')[1] : undefined)

test('every relative import names a file that exists', () => {
  const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d) && (d.startsWith('src/') || d.startsWith('commands/'))).map((d) => `${f} -> ${d}`))
  assert.deepEqual(missing, [])
})

test('no import circle between files of src/ and commands/', () => {
  const found = circles(graph)
  assert.deepEqual(found, [], `import circles (move what both sides need down a layer):\n${found.map((c) => `  ${c.join(' <-> ')}`).join('\n')}`)
})

test('every src/ folder has a layer in docs/architecture.md, and imports only lower layers', () => {
  const layers = readLayers(readFileSync(join(REPO, 'docs', 'architecture.md'), 'utf8'))
  const folders = [...new Set([...graph.keys()].map(folderOf).filter((f): f is string => f !== undefined))]
  const unplaced = folders.filter((f) => !layers.has(f))
  assert.deepEqual(unplaced, [], `src/ folders missing from the layers block of docs/architecture.md: ${unplaced.join(', ')}`)
  const wrong: string[] = []
  for (const [file, deps] of graph) {
    const from = folderOf(file)
    if (from === undefined) continue // commands/ may import any folder
    for (const dep of deps) {
      const to = folderOf(dep)
      if (to === undefined) {
        if (dep.startsWith('commands/')) wrong.push(`${file} -> ${dep} (src/ never imports commands/)`)
        continue
      }
      if (to === from) continue
      if (layers.get(to)! >= layers.get(from)!) {
        wrong.push(`${file} -> ${dep} (${from} is on layer ${layers.get(from)}, ${to} on ${layers.get(to)}: ${layers.get(to) === layers.get(from) ? 'sideways' : 'upward'})`)
      }
    }
  }
  assert.deepEqual(wrong, [], `imports against the layers of docs/architecture.md:\n${wrong.map((w) => `  ${w}`).join('\n')}`)
})

test('the layers block parses: one folder on one line only', () => {
  assert.deepEqual([...readLayers('```layers\na b\nc\n```\n')], [['a', 0], ['b', 0], ['c', 1]])
})

/** The folders named in the first column of the rooms table of docs/architecture.md. */
export function readRooms(markdown: string): string[] {
  const section = /^## The rooms of src\/[^\n]*\n([\s\S]*?)^```layers/m.exec(markdown)
  if (!section) throw new Error('docs/architecture.md has no "The rooms of src/" section')
  return [...section[1].matchAll(/^\| `([\w-]+)\/` \|/gm)].map((m) => m[1])
}

test('the rooms table of docs/architecture.md has one row per src/ folder, no more', () => {
  const rooms = readRooms(readFileSync(join(REPO, 'docs', 'architecture.md'), 'utf8')).sort()
  const folders = readdirSync(join(REPO, 'src'), {withFileTypes: true}).filter((e) => e.isDirectory()).map((e) => e.name).sort()
  assert.deepEqual(rooms, folders, 'the rooms table (folder | holds) and src/ disagree')
})

test('the import reader sees every kind of import and none in comments or strings', () => {
  const text = [
    "import {a} from './a.js'",
    "import type {B} from '../b.js'",
    "export {c} from './c.js'",
    "export * from './d.js'",
    "const e = await import('./e.js')",
    "let f: import('./f.js').F",
    "import g = require('./g.js')",
    "// import {x} from './comment.js'",
    "const s = \"from './string.js'\"",
    "import {readFileSync} from 'node:fs'",
  ].join('\n')
  const got = importsOf(join(REPO, 'src', 'x', 'm.ts'), text).sort()
  assert.deepEqual(got, ['src/a.ts', 'src/x/a.ts', 'src/x/c.ts', 'src/x/d.ts', 'src/x/e.ts', 'src/x/f.ts', 'src/x/g.ts'].filter((f) => f !== 'src/a.ts').concat('src/b.ts').sort())
})

test('docs/README.md, the index, links every page of docs/ and no page that is gone', () => {
  const index = readFileSync(join(REPO, 'docs', 'README.md'), 'utf8')
  const linked = [...index.matchAll(/\]\(([\w-]+\.md)\)/g)].map((m) => m[1])
  const pages = readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md')
  assert.deepEqual(pages.filter((p) => !linked.includes(p)), [], 'pages of docs/ the index does not link')
  assert.deepEqual(linked.filter((l) => !pages.includes(l)), [], 'pages the index links that docs/ does not have')
})

test('every file of src/ past 400 lines is named in docs/architecture.md ("One job per file")', () => {
  const doc = readFileSync(join(REPO, 'docs', 'architecture.md'), 'utf8')
  const block = /^```long-files\n([\s\S]*?)^```/m.exec(doc)
  assert.ok(block, 'docs/architecture.md has no ```long-files block')
  const named = new Set(block[1].split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((f) => f !== ''))
  const long = [...graph.keys()].filter((f) => f.startsWith('src/') && readFileSync(join(REPO, f), 'utf8').split('\n').length > 400)
  const unnamed = long.filter((f) => !named.has(f))
  assert.deepEqual(unnamed, [], 'past 400 lines: split along its jobs, or say in docs/architecture.md ("One job per file") why not')
  const gone = [...named].filter((f) => !graph.has(f))
  assert.deepEqual(gone, [], 'named in the long-files block of docs/architecture.md but gone: drop the line')
  const short = [...named].filter((f) => graph.has(f) && !long.includes(f))
  assert.deepEqual(short, [], 'named in the long-files block of docs/architecture.md but no longer past 400 lines: drop the line')
})
