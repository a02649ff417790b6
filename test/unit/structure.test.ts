import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, normalize, relative} from 'node:path'
import {REPO} from '../helpers/env.js'

/**
 * The structure of src/: no import circle between files, and no import that goes up or
 * sideways between folders. The layers are data in docs/architecture.md (the ```layers block:
 * one line per layer, lowest first); a folder may import only folders on lower lines.
 * Every import counts: static, type-only and dynamic (`await import('../x.js')`).
 */

function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out.push(...tsFiles(p))
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** Relative imports of one file, as repository paths of .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out = new Set<string>()
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g
  for (const m of text.matchAll(re)) {
    const target = normalize(join(dirname(file), m[2])).replace(/\.js$/, '.ts')
    out.add(relative(REPO, target))
  }
  return [...out]
}

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
