import {test} from 'node:test'
import assert from 'node:assert/strict'
import {getopt, getoptAnywhere, GetoptError, OptionSpec} from '../../src/cli/getopt.js'

const SPECS: OptionSpec[] = [
  {key: 'all', long: 'all', short: 'a', arg: 'none'},
  {key: 'target', long: 'target', short: 't', arg: 'required'},
  {key: 'mount', long: 'mount', short: 'm', arg: 'optional'},
  {key: 'uts', long: 'uts', short: 'u', arg: 'optional'},
  {key: 'user', long: 'user', short: 'U', arg: 'optional'},
  {key: 'user-parent', long: 'user-parent', arg: 'none'},
  {key: 'wd', long: 'wd', short: 'w', arg: 'optional'},
  {key: 'wdns', long: 'wdns', short: 'W', arg: 'required'},
]

const keys = (argv: string[]) => getopt(argv, SPECS).options.map((o) => (o.value === undefined ? o.key : `${o.key}=${o.value}`))

test('short flags cluster, and a required argument may follow attached or as the next word', () => {
  assert.deepEqual(keys(['-aU', '-t1', '-t', '2']), ['all', 'user', 'target=1', 'target=2'])
  // As in GNU getopt (nsenter -mu opens a file named "u"): an optional argument takes the rest of the cluster.
  assert.deepEqual(keys(['-amu']), ['all', 'mount=u'])
  assert.deepEqual(keys(['-at', '5']), ['all', 'target=5'])
})

test('an optional argument is taken only when attached; the next word stays the command', () => {
  const r = getopt(['-m', '/x', 'ls'], SPECS)
  assert.deepEqual(r.options.map((o) => [o.key, o.value]), [['mount', undefined]])
  assert.deepEqual(r.rest, ['/x', 'ls'])
  assert.equal(getopt(['-m/x'], SPECS).options[0].value, '/x')
  // util-linux strips the '=' of -m=/x itself; getopt reports it as given.
  assert.equal(getopt(['-m=/x'], SPECS).options[0].value, '=/x')
  assert.equal(getopt(['--mount=/x'], SPECS).options[0].value, '/x')
  assert.equal(getopt(['--mount', '/x'], SPECS).options[0].value, undefined)
})

test('a required long argument is taken with = or from the next word', () => {
  assert.deepEqual(keys(['--target=7', '--target', '8']), ['target=7', 'target=8'])
})

test('the first word that is not an option ends the options, and so does --', () => {
  assert.deepEqual(getopt(['-a', 'ls', '-l'], SPECS).rest, ['ls', '-l'])
  assert.deepEqual(getopt(['-a', '--', '-l'], SPECS).rest, ['-l'])
  assert.deepEqual(getopt(['-', 'x'], SPECS).rest, ['-', 'x'])
  assert.deepEqual(getopt([], SPECS), {options: [], rest: []})
})

test('an unambiguous prefix names a long option; an exact name wins over longer ones', () => {
  assert.deepEqual(keys(['--tar=1', '--al']), ['target=1', 'all'])
  assert.deepEqual(keys(['--user']), ['user'])
  assert.deepEqual(keys(['--wd']), ['wd'])
  assert.throws(() => getopt(['--us'], SPECS), /option '--us' is ambiguous; possibilities: '--user' '--user-parent'/)
})

test('unknown options, missing arguments and arguments to flags are errors that name the option', () => {
  assert.throws(() => getopt(['-x'], SPECS), (e: unknown) => e instanceof GetoptError && /invalid option -- 'x'/.test(e.message))
  assert.throws(() => getopt(['--bogus'], SPECS), /unrecognized option '--bogus'/)
  assert.throws(() => getopt(['-t'], SPECS), /option requires an argument -- 't'/)
  assert.throws(() => getopt(['--target'], SPECS), /option '--target' requires an argument/)
  assert.throws(() => getopt(['--all=yes'], SPECS), /option '--all' doesn't allow an argument/)
})

test('getoptAnywhere: options anywhere, positional words in command-line order, "-5" a word only with numbers and when no option wants it', () => {
  const specs = [
    {key: 'uid', long: 'uid', short: 'u', arg: 'required' as const},
    {key: 'json', long: 'json', arg: 'none' as const},
    {key: 'help', long: 'help', short: 'h', arg: 'none' as const},
  ]
  const r = getoptAnywhere(['a', '--uid', '1', 'b', '-5', '--json', '--', '--uid', 'c'], specs, true)
  assert.deepEqual(r.positional, ['a', 'b', '-5', '--uid', 'c'])
  assert.deepEqual(r.options.map((o) => [o.key, o.value]), [['uid', '1'], ['json', undefined]])
  assert.deepEqual(getoptAnywhere(['-7', 'x', '--uid', '-1', '-u', '-2'], specs, true).positional, ['-7', 'x'])
  assert.deepEqual(getoptAnywhere(['x', '--uid', '-1', '-u', '-2'], specs, true).options.map((o) => o.value), ['-1', '-2'])
  assert.throws(() => getoptAnywhere(['-5'], specs), GetoptError)
  assert.equal(getoptAnywhere(['x', '-h', 'y', '--bogus'], specs).help, true)
})
