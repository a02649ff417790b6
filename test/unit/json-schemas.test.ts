import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import Ajv from 'ajv'
import {SCHEMAS} from '../../src/doc/schemas.js'
import {renderSchemas} from '../../man/schemas.js'
import {REPO} from '../helpers/env.js'

/**
 * docs/schemas/ holds one schema per --json output, listed in src/doc/schemas.ts; every
 * command with --json has one. (test/integration/json-schemas.test.ts validates real output.)
 */

const dir = join(REPO, 'docs', 'schemas')

test('every schema listed exists, compiles, and is versioned in its name; nothing else is in docs/schemas', () => {
  const ajv = new Ajv({strict: false})
  for (const s of SCHEMAS) {
    assert.match(s.file, /^nsx-[a-z-]+\.v\d+\.schema\.json$/)
    const schema = JSON.parse(readFileSync(join(dir, s.file), 'utf8')) as {$id: string; title: string}
    assert.equal(schema.title, s.title)
    ajv.compile(schema)
  }
  const listed = new Set(SCHEMAS.map((s) => s.file))
  const extra = readdirSync(dir).filter((f) => f.endsWith('.json') && !listed.has(f))
  assert.deepEqual(extra, [], 'schemas in docs/schemas/ that src/doc/schemas.ts does not list')
})

test('every command with --json has a schema', async () => {
  const covered = new Set(SCHEMAS.flatMap((s) => s.commands.map((c) => c.split(' ')[0])))
  const missing: string[] = []
  for (const f of readdirSync(join(REPO, 'commands')).filter((f) => f.endsWith('.ts'))) {
    const cls = ((await import(pathToFileURL(join(REPO, 'commands', f)).href)) as {default: {enableJsonFlag?: boolean; flags?: Record<string, unknown>}}).default
    const id = f.replace(/\.ts$/, '')
    if ((cls.enableJsonFlag || (cls.flags && 'json' in cls.flags)) && !covered.has(id)) missing.push(id)
  }
  assert.deepEqual(missing, [], 'commands with --json but no schema: add the output type to man/schema-types.ts, an entry to src/doc/schemas.ts, and run npm run schemas')
})

test('docs/schemas/ is what the output types make (run npm run schemas when this fails)', () => {
  for (const [file, text] of renderSchemas(REPO)) {
    assert.equal(readFileSync(join(dir, file), 'utf8'), text, `docs/schemas/${file} is stale: run npm run schemas (a field removed, renamed or retyped needs a new version: see man/schemas.ts)`)
  }
})
