// Regenerates man/*.1 from the built command definitions, and man/nsx-json.5 from
// docs/schemas/: `npm run man`.
// With --check, writes nothing and exits 1 listing the pages that are stale.
import {readFileSync, readdirSync, unlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {renderManPages} from '../src/doc/pages.js'

const here = dirname(fileURLToPath(import.meta.url))
const check = process.argv.includes('--check')
const pages = await renderManPages(join(here, '..'))
const stale: string[] = []
for (const [file, text] of pages) {
  const path = join(here, file)
  let old: string | undefined
  try {
    old = readFileSync(path, 'utf8')
  } catch {
    old = undefined
  }
  if (old !== text) {
    stale.push(file)
    if (!check) writeFileSync(path, text)
  }
}
for (const f of readdirSync(here).filter((f) => /\.[15]$/.test(f) && !pages.has(f))) {
  stale.push(f)
  if (!check) unlinkSync(join(here, f))
}
if (check && stale.length > 0) {
  process.stderr.write(`stale man pages: ${stale.join(', ')} (run npm run man)\n`)
  process.exit(1)
}
