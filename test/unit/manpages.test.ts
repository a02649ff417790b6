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

test('every man page says what its exit status means (EXIT STATUS, from the command\'s exitStatus)', async () => {
  const pages = await renderManPages(REPO)
  for (const [file, text] of pages) if (file.endsWith('.1')) assert.match(text, /^\.SH EXIT STATUS$/m, `${file} has no EXIT STATUS`)
  const section = (file: string) => pages.get(file)!.split('.SH EXIT STATUS\n')[1].split('.SH ')[0]
  for (const file of ['nsx-enter.1', 'nsx-unshare.1', 'nsx-run.1']) {
    for (const code of ['125', '126', '127', '128+N']) assert.match(section(file), new RegExp(`\\\\fB${code.replace('+', '\\+')}\\\\fR`), `${file}: ${code}`)
  }
  for (const file of ['nsx-ls.1', 'nsx-inspect.1', 'nsx-top.1']) assert.match(section(file), /\\fB0\\fR\n.*\n\.TP\n\\fB1\\fR/, file)
})
