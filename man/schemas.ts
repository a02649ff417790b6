// Regenerates docs/schemas/*.schema.json from the output types in man/schema-types.ts:
// `npm run schemas` (with --check: writes nothing, exits 1 naming the stale ones). A schema's
// file name carries its version (nsx-ls.v1.schema.json): a change that could break a reader
// (a field removed, renamed or retyped) is a new version and a new file, the old one kept;
// a field added is not.
import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {createGenerator} from 'ts-json-schema-generator'
import {SCHEMAS} from '../src/doc/schemas.js'

/** File name in docs/schemas/ -> its text, made from the types now. */
export function renderSchemas(root: string): Map<string, string> {
  const generator = createGenerator({
    path: join(root, 'man', 'schema-types.ts'),
    tsconfig: join(root, 'tsconfig.json'),
    skipTypeCheck: true,
    additionalProperties: false,
    expose: 'export',
    topRef: true,
  })
  const out = new Map<string, string>()
  for (const s of SCHEMAS) {
    const generated = generator.createSchema(s.type) as Record<string, unknown>
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: `urn:nsx:schema:${s.file.replace(/\.schema\.json$/, '')}`,
      title: s.title,
      description: s.description,
      ...Object.fromEntries(Object.entries(generated).filter(([k]) => k !== '$schema')),
    }
    out.set(s.file, `${JSON.stringify(schema, null, 2)}\n`)
  }
  return out
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const check = process.argv.includes('--check')
  const stale: string[] = []
  for (const [file, text] of renderSchemas(root)) {
    const path = join(root, 'docs', 'schemas', file)
    let old: string | undefined
    try {
      old = readFileSync(path, 'utf8')
    } catch {
      old = undefined
    }
    if (old === text) continue
    stale.push(file)
    if (!check) writeFileSync(path, text)
  }
  if (check && stale.length > 0) {
    process.stderr.write(`stale schemas: ${stale.join(', ')} (run npm run schemas)\n`)
    process.exit(1)
  }
}
