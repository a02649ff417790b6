import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseArgs} from '../../src/inspect/main.js'
import {describeError, NsxError} from '../../src/cli/errors.js'

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
})
