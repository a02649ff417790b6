import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO} from '../helpers/env.js'

/**
 * bin/fast-load.cjs: the fast bundles load through a V8 code cache made by npm run build:fast.
 * A cache is used only when it was made from the bundle as it is now (its size and modification
 * time); any other is passed over and the bundle compiles as it would without one.
 */
const require = createRequire(import.meta.url)
const {loadFast, cacheAccepted, buildCaches} = require(join(REPO, 'bin', 'fast-load.cjs')) as {
  loadFast: (file: string) => Record<string, unknown>
  cacheAccepted: (file: string) => boolean
  buildCaches: (dir: string) => void
}
const dir = mkdtempSync(join(tmpdir(), 'nsx-fast-load-'))
after(() => rmSync(dir, {recursive: true, force: true}))

test('every bundle bin/nsx loads has a code cache V8 takes; the service, run by node itself, has none', () => {
  const fast = join(REPO, 'dist', 'fast')
  const bundles = readdirSync(fast).filter((n) => n.endsWith('.cjs'))
  assert.ok(bundles.includes('lifecycle.cjs'), 'npm run build:fast made no bundles')
  for (const b of bundles) {
    if (b === 'service.cjs') assert.ok(!readdirSync(fast).includes('service.cjs.cache'))
    else assert.ok(cacheAccepted(join(fast, b)), `${b}: no cache, or one V8 refuses`)
  }
})

test('a bundle changed after its cache was made loads without it, and gives its new exports', () => {
  const file = join(dir, 'm.cjs')
  writeFileSync(file, 'exports.answer = () => 41\nexports.where = __filename\n')
  buildCaches(dir)
  assert.ok(cacheAccepted(file))
  assert.equal((loadFast(file).answer as () => number)(), 41)
  assert.equal(loadFast(file).where, file)
  // The same length, so V8's own check (it compares lengths, not contents) would take the old
  // cache; written later (a rebuild: its modification time moves), so the key tells them apart.
  const {mtime} = statSync(file)
  writeFileSync(file, 'exports.answer = () => 42\nexports.where = __filename\n')
  utimesSync(file, mtime, new Date(mtime.getTime() + 1000))
  assert.equal(cacheAccepted(file), false)
  assert.equal((loadFast(file).answer as () => number)(), 42)
  // A cache torn or of something else is passed over too.
  writeFileSync(`${file}.cache`, 'not a cache')
  assert.equal((loadFast(file).answer as () => number)(), 42)
})

test('a missing bundle throws as require does (MODULE_NOT_FOUND: bin/nsx then loads the unbundled code)', () => {
  assert.throws(() => loadFast(join(dir, 'absent.cjs')), (err: NodeJS.ErrnoException) => err.code === 'MODULE_NOT_FOUND')
})

test('the bundles hold no dynamic import(): a script compiled from a cache loses its import() callback', () => {
  const fast = join(REPO, 'dist', 'fast')
  for (const b of readdirSync(fast).filter((n) => n.endsWith('.cjs'))) {
    // esbuild writes a dynamic import as `import(` after a non-identifier character; a string could hold one, none does.
    assert.doesNotMatch(readFileSync(join(fast, b), 'utf8'), /[^\w$.]import\(/, b)
  }
})
