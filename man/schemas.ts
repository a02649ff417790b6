// Regenerates docs/schemas/*.schema.json from the output types in man/schema-types.ts:
// `npm run schemas`. A schema's file name carries its version (nsx-ls.v1.schema.json):
// a change that could break a reader (a field removed, renamed or retyped) is a new version
// and a new file, the old one kept; a field added is not.
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createGenerator} from 'ts-json-schema-generator'
import {SCHEMAS} from '../src/doc/schemas.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const generator = createGenerator({
  path: join(root, 'man', 'schema-types.ts'),
  tsconfig: join(root, 'tsconfig.json'),
  skipTypeCheck: true,
  additionalProperties: false,
  expose: 'export',
  topRef: true,
})
for (const s of SCHEMAS) {
  const generated = generator.createSchema(s.type) as Record<string, unknown>
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `urn:nsx:schema:${s.file.replace(/\.schema\.json$/, "")}`,
    title: s.title,
    description: s.description,
    ...Object.fromEntries(Object.entries(generated).filter(([k]) => k !== '$schema')),
  }
  writeFileSync(join(root, 'docs', 'schemas', s.file), `${JSON.stringify(schema, null, 2)}\n`)
}
