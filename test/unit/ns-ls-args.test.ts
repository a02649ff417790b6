import {test} from 'node:test'
import assert from 'node:assert/strict'
import Ls from '../../commands/ls.js'
import {LS_OPTIONS, parseLsArgs} from '../../src/ns/ls-main.js'

test('the fast path knows exactly the flags of the oclif command, with the same letters', () => {
  const oclif = Object.entries(Ls.flags)
    .map(([name, f]) => `${name}/${(f as {char?: string}).char ?? ''}`)
    .sort()
  const fast = LS_OPTIONS.filter((o) => o.key !== 'help')
    .map((o) => `${o.long}/${o.short ?? ''}`)
    .sort()
  assert.deepEqual(fast, oclif)
})

test('the fast path parses options anywhere on the line, repeated types, and the namespace word', () => {
  assert.deepEqual(parseLsArgs(['4026531836', '-l', '-t', 'net', '--type=pid', '-o', '+PNS', '--json']), {
    namespace: '4026531836',
    list: true,
    type: ['net', 'pid'],
    output: '+PNS',
    json: true,
  })
  assert.deepEqual(parseLsArgs(['-lnru', '-p1']), {list: true, noheadings: true, raw: true, notruncate: true, task: '1', namespace: undefined})
})

test('lsns 2.40+ options: -J, -Q/--filter EXPR (once), -P, -H, -W, --verbose and -V', () => {
  assert.deepEqual(parseLsArgs(['-J', '-Q', 'NPROCS > 0', '-P', '-W', '--verbose']), {json: true, filter: 'NPROCS > 0', persistent: true, nowrap: true, verbose: true, namespace: undefined})
  assert.deepEqual(parseLsArgs(['--filter=TYPE == "net"', '-H']), {filter: 'TYPE == "net"', listColumns: true, namespace: undefined})
  assert.equal(parseLsArgs(['-l', '-V']), 'version')
  assert.equal(parseLsArgs(['--version']), 'version')
  assert.throws(() => parseLsArgs(['-Q', 'A', '-Q', 'B']), /--filter may be given only once/)
})

test('the fast path reads --tree as lsns does: bare, =VALUE, -TVALUE, or a following mode word', () => {
  assert.equal((parseLsArgs(['--tree']) as {tree?: string}).tree, 'process')
  assert.equal((parseLsArgs(['--tree', 'owner']) as {tree?: string}).tree, 'owner')
  assert.equal((parseLsArgs(['-Tparent']) as {tree?: string}).tree, 'parent')
  assert.deepEqual(parseLsArgs(['--tree', '4026531836']), {tree: 'process', namespace: '4026531836'})
})

test('the fast path hands --help to oclif and rejects unknown options and extra words', () => {
  assert.equal(parseLsArgs(['-l', '--help']), 'help')
  assert.equal(parseLsArgs(['-h']), 'help')
  assert.throws(() => parseLsArgs(['--bogus']), /unrecognized option '--bogus'/)
  assert.throws(() => parseLsArgs(['1', '2']), /unexpected argument: 2/)
  assert.deepEqual(parseLsArgs(['--', '-5']), {namespace: '-5'})
})
