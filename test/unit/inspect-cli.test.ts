import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from '../../src/inspect/main.js'
import type {UidmapReport} from '../../src/inspect/uidmap.js'
import {describeError, NsxError} from '../../src/cli/errors.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const SPECS = [
  {key: 'uid', long: 'uid', arg: 'required' as const},
  {key: 'to-inside', long: 'to-inside', arg: 'none' as const},
  {key: 'json', long: 'json', arg: 'none' as const},
  {key: 'help', long: 'help', short: 'h', arg: 'none' as const},
]

test('options may come before or after the pid, as oclif takes them', () => {
  const a = parseArgs(['--json', '42', '--uid', '0', '--to-inside'], SPECS, 'u')
  assert.deepEqual(a.positional, ['42'])
  assert.equal(a.values.get('uid'), '0')
  assert.equal(a.values.get('to-inside'), true)
  assert.equal(a.values.get('json'), true)
  assert.equal(parseArgs(['42', '--uid=7'], SPECS, 'u').values.get('uid'), '7')
})

test('"-5" alone is a pid to refuse, but after --uid it is the value to refuse', () => {
  assert.deepEqual(parseArgs(['-5'], SPECS, 'u').positional, ['-5'])
  const a = parseArgs(['42', '--uid', '-1'], SPECS, 'u')
  assert.deepEqual(a.positional, ['42'])
  assert.equal(a.values.get('uid'), '-1')
})

test('--help anywhere asks for help; a missing pid, a second one or an unknown option is a one-line error', () => {
  assert.equal(parseArgs(['42', '-h'], SPECS, 'u').help, true)
  assert.throws(() => parseArgs([], SPECS, 'nsx x PID'), (e: unknown) => e instanceof NsxError && /missing pid \(usage: nsx x PID\)/.test(e.message))
  assert.throws(() => parseArgs(['1', '2'], SPECS, 'u'), /unexpected argument: 2/)
  assert.throws(() => parseArgs(['1', '--bogus'], SPECS, 'u'), (e: unknown) => e instanceof NsxError && /--bogus/.test(e.message))
  assert.throws(() => parseArgs(['1', '--uid'], SPECS, 'u'), NsxError)
})

test("oclif's two-line usage errors become one line that names the argument", () => {
  const err = Object.assign(new Error('Missing 1 required arg:\npid  The process to inspect\nSee more help with --help'), {oclif: {exit: 2}})
  assert.deepEqual(describeError(err, 1), {line: 'Missing 1 required arg: pid', exitCode: 1})
  // Two (nsx diff): both named, not the first alone ("Missing 2 required args: a"); a description's second line is not a name.
  const two = Object.assign(new Error('Missing 2 required args:\na  A pid, a running nsx container\'s name or id, or a saved nsx inspect --json\n   file\nb  The same, for the other side\nSee more help with --help'), {oclif: {exit: 2}})
  assert.deepEqual(describeError(two, 2), {line: 'Missing 2 required args: a, b', exitCode: 2})
})

test("oclif's missing required flag is one line naming the flag, without 'The following error occurred:'", () => {
  const err = Object.assign(new Error('The following error occurred:\n  Missing required flag output\nSee more help with --help'), {oclif: {exit: 2}})
  assert.deepEqual(describeError(err, 1), {line: 'Missing required flag --output', exitCode: 1})
})

test('nsx uidmap: one translation per --uid/--gid, in command-line order, on the fast path and through oclif alike', () => {
  const specs = [...SPECS, {key: 'gid', long: 'gid', arg: 'required' as const}]
  assert.deepEqual(parseArgs(['42', '--uid', '1', '--gid=5', '--uid', '2'], specs, 'u').given, [
    {key: 'uid', value: '1'},
    {key: 'gid', value: '5'},
    {key: 'uid', value: '2'},
  ])
  // Our own process lives in the initial user namespace: each id translates to itself.
  const argv = [String(process.pid), '--uid', '1', '--gid', '5', '--uid', '2']
  const want = [
    ['uid', 1, 1],
    ['gid', 5, 5],
    ['uid', 2, 2],
  ]
  const summary = (out: string) => (JSON.parse(out) as UidmapReport).translations.map((t) => [t.kind, t.id, t.result])
  // In a child process each: both write to stdout, which the test reporter uses too.
  const call = (code: string) => execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {cwd: ROOT, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  const fast = (args: string[]) => call(`import {runUidmap} from './src/inspect/main.ts'; await runUidmap(${JSON.stringify(args)})`)
  assert.deepEqual(summary(fast([...argv, '--json'])), want, 'fast path')
  const viaOclif = call(`import Uidmap from './commands/uidmap.ts'; await Uidmap.run(${JSON.stringify([...argv, '--json'])}, ${JSON.stringify(ROOT)})`)
  assert.deepEqual(summary(viaOclif), want, 'oclif command')
  const text = fast(argv)
  const lines = text.split('\n').filter((l) => /^[ug]id \d+ /.test(l))
  assert.deepEqual(lines.map((l) => l.split(' ').slice(0, 2).join(' ')), ['uid 1', 'gid 5', 'uid 2'], text)
})
