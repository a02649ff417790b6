import {test} from 'node:test'
import assert from 'node:assert/strict'
import {GetoptError} from '../../src/cli/getopt.js'
import {PSTREE_OPTIONS, parsePstreeArgs} from '../../src/pidns/main.js'
import Pstree from '../../commands/pstree.js'

test('the fast path takes options before or after the PID, clustered or not, with --ns as one word or two', () => {
  assert.deepEqual(parsePstreeArgs(['-au', '1234', '-s']), {arguments: true, uidChanges: true, showParents: true, pid: '1234'})
  assert.deepEqual(parsePstreeArgs(['--ns', '4026532300', '--json']), {ns: '4026532300', json: true, pid: undefined})
  assert.deepEqual(parsePstreeArgs(['--ns=pid:[4026532300]', '-A', '--threads']), {ns: 'pid:[4026532300]', ascii: true, threads: true, pid: undefined})
  assert.deepEqual(parsePstreeArgs([]), {pid: undefined})
  assert.deepEqual(parsePstreeArgs(['--', '42']), {pid: '42'})
})

test('a negative number is kept as the PID (to be refused clearly), not read as short options', () => {
  assert.deepEqual(parsePstreeArgs(['-1']), {pid: '-1'})
  assert.deepEqual(parsePstreeArgs(['-a', '-15']), {arguments: true, pid: '-15'})
})

test('--help and -h go to oclif\'s help; unknown options and a second argument are usage errors', () => {
  assert.equal(parsePstreeArgs(['1', '--help']), 'help')
  assert.equal(parsePstreeArgs(['-h']), 'help')
  assert.throws(() => parsePstreeArgs(['--bogus']), (e: unknown) => e instanceof GetoptError && /--bogus/.test(e.message))
  assert.throws(() => parsePstreeArgs(['-x']), GetoptError)
  assert.throws(() => parsePstreeArgs(['1', '2']), (e: unknown) => e instanceof GetoptError && e.message === 'unexpected argument: 2')
  assert.throws(() => parsePstreeArgs(['--ns']), GetoptError)
})

test('the fast path knows exactly the flags the oclif command declares (which --help and the man page show)', () => {
  const oclif = Object.entries(Pstree.flags).map(([name, f]) => `${name}/${(f as {char?: string}).char ?? ''}`)
  oclif.push('json/') // enableJsonFlag
  const fast = PSTREE_OPTIONS.filter((o) => o.key !== 'help').map((o) => `${o.long}/${o.short ?? ''}`)
  assert.deepEqual(fast.sort(), oclif.sort())
})
