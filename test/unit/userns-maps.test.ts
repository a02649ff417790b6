import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  IdMapSyntaxError,
  checkIdMap,
  formatIdMap,
  isIdentityMap,
  mapIn,
  mapOut,
  parseIdMap,
  rebaseMap,
} from '../../src/userns/maps.js'

// As the kernel prints /proc/PID/uid_map: "%10u %10u %10u\n".
const KERNEL_TEXT = '         0     100000      65536\n     65536    1000000         10\n'

test('parseIdMap reads the kernel layout and formatIdMap writes it back byte for byte', () => {
  const map = parseIdMap(KERNEL_TEXT)
  assert.deepEqual(map, [
    {inside: 0, outside: 100000, count: 65536},
    {inside: 65536, outside: 1000000, count: 10},
  ])
  assert.equal(formatIdMap(map), KERNEL_TEXT)
})

test('parseIdMap accepts single-spaced written maps and blank lines, and the full identity map', () => {
  assert.deepEqual(parseIdMap('0 1000 1\n\n1 100000 65535'), [
    {inside: 0, outside: 1000, count: 1},
    {inside: 1, outside: 100000, count: 65535},
  ])
  assert.equal(isIdentityMap(parseIdMap('         0          0 4294967295\n')), true)
  assert.equal(isIdentityMap(parseIdMap('0 0 65536')), false)
  assert.deepEqual(parseIdMap(''), [])
})

test('parseIdMap rejects lines that are not three unsigned integers, naming the line', () => {
  for (const bad of ['0 1000', '0 1000 1 5', '-1 0 1', 'a b c', '0 0 4294967296']) {
    assert.throws(() => parseIdMap(`0 0 1\n${bad}\n`), (e: unknown) => e instanceof IdMapSyntaxError && /line 2/.test((e as Error).message), bad)
  }
})

test('checkIdMap accepts what the kernel accepts and says why it would refuse the rest', () => {
  assert.equal(checkIdMap(parseIdMap('0 100000 65536\n65536 0 1')), undefined)
  assert.equal(checkIdMap(parseIdMap('0 0 4294967295')), undefined)
  assert.match(checkIdMap([]) ?? '', /empty/)
  assert.match(checkIdMap(parseIdMap('0 1000 0')) ?? '', /at least 1/)
  assert.match(checkIdMap(parseIdMap('0 100000 10\n5 200000 10')) ?? '', /overlap on the inside side/)
  assert.match(checkIdMap(parseIdMap('0 100000 10\n20 100005 10')) ?? '', /overlap on the outside side/)
  assert.match(checkIdMap(parseIdMap('4294967290 0 10')) ?? '', /runs past/)
  const tooMany = Array.from({length: 341}, (_, i) => ({inside: i, outside: 1000 + i, count: 1}))
  assert.match(checkIdMap(tooMany) ?? '', /at most 340/)
})

test('mapOut and mapIn translate the first and last id of a range and nothing beyond it', () => {
  const map = parseIdMap('0 100000 65536\n70000 5000 2')
  assert.equal(mapOut(map, 0), 100000)
  assert.equal(mapOut(map, 65535), 165535)
  assert.equal(mapOut(map, 65536), undefined)
  assert.equal(mapOut(map, 70001), 5001)
  assert.equal(mapOut(map, 70002), undefined)
  assert.equal(mapIn(map, 100000), 0)
  assert.equal(mapIn(map, 165535), 65535)
  assert.equal(mapIn(map, 99999), undefined)
  assert.equal(mapIn(map, 165536), undefined)
  assert.equal(mapIn(map, 5001), 70001)
})

test('rebaseMap turns a grandchild map in host ids into the map relative to its parent', () => {
  // Parent: 0..65535 -> host 100000..; child as the host reads it: 0..99 -> host 101000...
  const parent = parseIdMap('0 100000 65536')
  const child = parseIdMap('0 101000 100\n200 105000 10')
  const {map, unreachable} = rebaseMap(child, parent)
  assert.deepEqual(map, [
    {inside: 0, outside: 1000, count: 100},
    {inside: 200, outside: 5000, count: 10},
  ])
  assert.deepEqual(unreachable, [])
})

test('rebaseMap cuts a range where the parent map changes extent, and reports ids the parent lacks', () => {
  const parent = parseIdMap('0 100000 10\n10 300000 10')
  // host 100005..100014 spans both parent extents' inside ids only partly; 100010.. is not in the parent.
  const child = parseIdMap('0 100005 10\n50 300000 5')
  const {map, unreachable} = rebaseMap(child, parent)
  assert.deepEqual(map, [
    {inside: 0, outside: 5, count: 5},
    {inside: 50, outside: 10, count: 5},
  ])
  assert.deepEqual(unreachable, [{inside: 5, outside: 100010, count: 5}])
})

test('rebaseMap joins pieces that continue each other on both sides', () => {
  const parent = parseIdMap('0 100000 10\n10 100010 10')
  assert.deepEqual(rebaseMap(parseIdMap('0 100000 20'), parent).map, [{inside: 0, outside: 0, count: 20}])
})
