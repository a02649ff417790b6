import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, nsx, REPO, run} from '../helpers/env.js'
import {editDistance, suggestCommands, unknownCommandLine, unknownCommandMessage} from '../../src/cli/suggest.js'

const COMMANDS = readdirSync(join(REPO, 'commands')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3))

test('did you mean: a swap, a slip, a missing or extra letter, or a prefix finds the command; nonsense finds none', () => {
  assert.equal(editDistance('stpo', 'stop'), 1, 'a swap of neighbours is one edit')
  assert.deepEqual(suggestCommands('stpo', COMMANDS).slice(0, 1), ['stop'])
  assert.deepEqual(suggestCommands('lss', COMMANDS), ['ls'])
  assert.deepEqual(suggestCommands('insp', COMMANDS), ['inspect'])
  assert.deepEqual(suggestCommands('unshre', COMMANDS), ['unshare'])
  assert.deepEqual(suggestCommands('xyzzy', COMMANDS), [])
  assert.equal(unknownCommandMessage('xyzzy', COMMANDS), "'xyzzy' is not an nsx command. See 'nsx --help'.")
  const ids = ['ls', 'network:create', 'network:ls', 'network:rm', 'stop']
  assert.equal(unknownCommandLine('stpo:web', ids), "'stpo' is not an nsx command. Did you mean 'stop'? See 'nsx --help'.")
  assert.equal(unknownCommandLine('network:lss', ids), "'network lss' is not an nsx command. Did you mean 'network ls'? See 'nsx network --help'.")
  assert.equal(unknownCommandLine('network:xyzzy:a', ids), "'network xyzzy' is not an nsx command. See 'nsx network --help'.")
})

test('a mistyped command after a topic names both words and the topic\'s commands (it said "\'network\' is not an nsx command. Did you mean \'network\'?")', () => {
  assertOneLineError(nsx(['network', 'lss']), 1, /^nsx: 'network lss' is not an nsx command\. Did you mean 'network ls'\? See 'nsx network --help'\.$/)
  assertOneLineError(nsx(['volume', 'crate', 'x']), 1, /^nsx: 'volume crate' is not an nsx command\. Did you mean 'volume create'\?/)
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

test('each topic says what its commands are for, not the first command\'s summary (nsx network said "Create a bridge network")', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {oclif: {topics?: Record<string, {description: string}>}}
  const manifest = JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {summary?: string}>}
  const topics = new Set(Object.keys(manifest.commands).filter((id) => id.includes(':')).map((id) => id.split(':')[0]))
  for (const topic of topics) {
    if (manifest.commands[topic] !== undefined) continue // audit: a command too, its summary is the topic's
    const description = pkg.oclif.topics?.[topic]?.description
    assert.ok(description, `package.json oclif.topics has no description for ${topic}`)
    const r = nsx([topic])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.split('\n')[0], description, `nsx ${topic}`)
  }
})

test('nsx run --help says what -v takes: named and anonymous volumes too (it said only "Bind a host path")', () => {
  const help = nsx(['run', '--help']).stdout
  assert.match(help, /-v, --volume=\[NAME\|HOST:\]CTR\[:ro\]/)
  assert.match(help, /named volume/)
})
