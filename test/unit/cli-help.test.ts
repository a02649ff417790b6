import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, nsx, REPO, run} from '../helpers/env.js'
import {editDistance, suggestCommands, unknownCommandMessage} from '../../src/cli/suggest.js'

const COMMANDS = readdirSync(join(REPO, 'commands')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3))

test('did you mean: a swap, a slip, a missing or extra letter, or a prefix finds the command; nonsense finds none', () => {
  assert.equal(editDistance('stpo', 'stop'), 1, 'a swap of neighbours is one edit')
  assert.deepEqual(suggestCommands('stpo', COMMANDS).slice(0, 1), ['stop'])
  assert.deepEqual(suggestCommands('lss', COMMANDS), ['ls'])
  assert.deepEqual(suggestCommands('insp', COMMANDS), ['inspect'])
  assert.deepEqual(suggestCommands('unshre', COMMANDS), ['unshare'])
  assert.deepEqual(suggestCommands('xyzzy', COMMANDS), [])
  assert.equal(unknownCommandMessage('xyzzy', COMMANDS), "'xyzzy' is not an nsx command. See 'nsx --help'.")
})

test('a mistyped command: one line with the suggestion, exit 1, never "command stpo:web not found"', () => {
  const r = nsx(['stpo', 'web'])
  assertOneLineError(r, 1, /^nsx: 'stpo' is not an nsx command\. Did you mean 'stop'/)
  assert.doesNotMatch(r.stderr, /stpo:web/)
  assertOneLineError(nsx(['stpo', '--help']), 1, /'stpo' is not an nsx command\. Did you mean 'stop'/)
  assertOneLineError(nsx(['help', 'stpo']), 1, /'stpo' is not an nsx command\. Did you mean 'stop'/)
  // Through oclif's run() itself, without bin/nsx's routing: the hook says the same.
  const script = `import('@oclif/core').then(async ({run}) => { try { await run(['lss'], ${JSON.stringify(join(REPO, 'package.json'))}) } catch (e) { console.error(e.message); process.exit(3) } })`
  const direct = run(process.execPath, ['-e', script], {cwd: REPO})
  assert.equal(direct.status, 3)
  assert.match(direct.stderr, /'lss' is not an nsx command\. Did you mean 'ls'\?/)
})

test('nsx help CMD is nsx CMD --help, and every --help ends with what the exit codes mean', () => {
  for (const cmd of ['inspect', 'enter', 'top']) {
    const viaHelp = nsx(['help', cmd])
    assert.equal(viaHelp.status, 0, viaHelp.stderr)
    assert.equal(viaHelp.stdout, nsx([cmd, '--help']).stdout, `nsx help ${cmd}`)
  }
  const root = nsx(['help'])
  assert.equal(root.status, 0)
  assert.match(root.stdout, /^COMMANDS$/m)
  for (const cmd of COMMANDS) {
    // enter, unshare, run, ls, pstree, inspect, uidmap and top take bin/nsx's fast path first.
    const help = nsx([cmd, '--help'])
    assert.equal(help.status, 0, `${cmd}: ${help.stderr}`)
    assert.match(help.stdout, /^EXIT STATUS\n {2}\S/m, `nsx ${cmd} --help`)
  }
  const enter = nsx(['enter', '--help']).stdout.split('EXIT STATUS\n')[1]
  for (const code of ['125', '126', '127', '128+N']) assert.match(enter, new RegExp(`^ {2}${code.replace('+', '\\+')} +\\S`, 'm'), `enter: ${code}`)
})
