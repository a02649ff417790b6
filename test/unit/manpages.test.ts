import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {REPO} from '../helpers/env.js'
import {renderManPages} from '../../src/doc/pages.js'

test('man pages in man/ match the command definitions (run npm run man when this fails)', async () => {
  const pages = await renderManPages(REPO)
  const onDisk = readdirSync(join(REPO, 'man')).filter((f) => /\.[15]$/.test(f))
  assert.deepEqual([...pages.keys()].sort(), onDisk.sort(), 'man pages missing or left over')
  for (const [file, text] of pages) {
    assert.equal(readFileSync(join(REPO, 'man', file), 'utf8'), text, `man/${file} is stale`)
  }
})

test('there is a man page for nsx itself', async () => {
  const pages = await renderManPages(REPO)
  assert.match(pages.get('nsx.1') ?? '', /^\.TH NSX 1/)
})

test('nsx-json(5) describes every schema of docs/schemas/, with its fields', async () => {
  const page = (await renderManPages(REPO)).get('nsx-json.5') ?? ''
  assert.match(page, /^\.TH NSX\\-JSON 5/)
  assert.match(page, /^\.SH NSX\\-LS\.V1$/m)
  assert.match(page, /^\.SH NSX\\-PLAN\.V1$/m)
  assert.match(page, /^\\fBnamespaces\\fR: NamespaceFields\[\]$/m)
})
