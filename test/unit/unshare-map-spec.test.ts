import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  addSingleMapping,
  allSubidRanges,
  checkMapSpec,
  expandRangeSpecs,
  findSubidRange,
  firstUnallowedExtent,
  firstUnmappedExtent,
  MapSpecError,
  mapText,
  parseRangeSpec,
} from '../../src/userns/map-spec.js'
import {checkIdMap, IdMapExtent} from '../../src/userns/maps.js'

test('--map-users takes INNER:OUTER:COUNT (util-linux 2.39+) and OUTER,INNER,COUNT (2.38), and the words auto, subids, all', () => {
  assert.deepEqual(parseRangeSpec('0:100000:65536'), {kind: 'range', extent: {inside: 0, outside: 100000, count: 65536}})
  assert.deepEqual(parseRangeSpec('100000,0,65536'), {kind: 'range', extent: {inside: 0, outside: 100000, count: 65536}})
  assert.deepEqual(parseRangeSpec('auto'), {kind: 'auto'})
  assert.deepEqual(parseRangeSpec('subids'), {kind: 'subids'})
  assert.deepEqual(parseRangeSpec('all'), {kind: 'all'})
})

test('malformed ranges are refused with the argument and the expected form in the message', () => {
  for (const [spec, why] of [
    ['0:100000', /invalid mapping '0:100000': expected INNER:OUTER:COUNT/],
    ['0:100000:65536:1', /expected INNER:OUTER:COUNT/],
    ['a:1:2', /inner id 'a' is not an id/],
    ['0:-1:2', /outer id '-1' is not an id/],
    ['0:1:0', /count must be at least 1/],
    ['0:4294967295:1', /outer id '4294967295' is not an id/],
    ['4294967290:0:10', /runs past the largest id/],
    ['', /expected INNER:OUTER:COUNT/],
  ] as const) {
    assert.throws(() => parseRangeSpec(spec), (e: Error) => e instanceof MapSpecError && why.test(e.message), spec)
  }
})

const SUBUID = `# comment
other:200000:65536
alice:100000:65536
1001:300000:10
alice:500000:5
broken line
`

test('the subid range of a user is its first line, matched by name or by uid, as newuidmap matches', () => {
  assert.deepEqual(findSubidRange(SUBUID, {name: 'alice', uid: 1000}), {start: 100000, count: 65536})
  assert.deepEqual(findSubidRange(SUBUID, {name: 'bob', uid: 1001}), {start: 300000, count: 10})
  assert.equal(findSubidRange(SUBUID, {name: 'carol', uid: 1002}), undefined)
  assert.deepEqual(allSubidRanges(SUBUID, {name: 'alice', uid: 1000}), [{start: 100000, count: 65536}, {start: 500000, count: 5}])
})

test('auto maps the first subid range from inner id 0, subids maps it to itself, all passes our own ids through', () => {
  const ctx = {kind: 'uid' as const, subidText: SUBUID, subidPath: '/etc/subuid', user: {name: 'alice', uid: 1000}, currentMap: '0 1000 1\n1 100000 65536\n'}
  assert.deepEqual(expandRangeSpecs([{kind: 'auto'}], ctx), [{inside: 0, outside: 100000, count: 65536}])
  assert.deepEqual(expandRangeSpecs([{kind: 'subids'}], ctx), [{inside: 100000, outside: 100000, count: 65536}])
  assert.deepEqual(expandRangeSpecs([{kind: 'all'}], ctx), [{inside: 0, outside: 0, count: 1}, {inside: 1, outside: 1, count: 65536}])
  assert.throws(() => expandRangeSpecs([{kind: 'auto'}], {...ctx, user: {name: 'carol', uid: 5}}), /no line for user carol in \/etc\/subuid/)
  assert.throws(() => expandRangeSpecs([{kind: 'auto'}], {...ctx, subidText: undefined}), /cannot read \/etc\/subuid/)
})

test('--map-auto with --map-root-user: we are root, the subids move up by one and lose their topmost id (as util-linux)', () => {
  assert.deepEqual(addSingleMapping([{inside: 0, outside: 100000, count: 65536}], {inside: 0, outside: 1000}), [
    {inside: 0, outside: 1000, count: 1},
    {inside: 1, outside: 100000, count: 65535},
  ])
})

test('a single id inside a range splits it on the inside, the outside staying contiguous (util-linux\'s result for -c)', () => {
  assert.deepEqual(addSingleMapping([{inside: 0, outside: 100000, count: 65536}], {inside: 1000, outside: 1000}), [
    {inside: 1000, outside: 1000, count: 1},
    {inside: 0, outside: 100000, count: 1000},
    {inside: 1001, outside: 101000, count: 64535},
  ])
})

test('a single id that hits a range on both sides removes one id from each side, pairing the rest in order', () => {
  const out = addSingleMapping([{inside: 0, outside: 0, count: 10}], {inside: 3, outside: 7})
  assert.deepEqual(out, [
    {inside: 3, outside: 7, count: 1},
    {inside: 0, outside: 0, count: 3},
    {inside: 4, outside: 3, count: 4},
    {inside: 8, outside: 8, count: 2},
  ])
  assert.equal(checkIdMap(out), undefined)
})

test('a range not touched by the single id is kept whole, an id just past its end included (util-linux shortens it)', () => {
  assert.deepEqual(addSingleMapping([{inside: 1, outside: 100000, count: 10}], {inside: 11, outside: 1000}), [
    {inside: 11, outside: 1000, count: 1},
    {inside: 1, outside: 100000, count: 10},
  ])
  assert.deepEqual(addSingleMapping([{inside: 5, outside: 5, count: 1}], {inside: 5, outside: 9}), [{inside: 5, outside: 9, count: 1}])
})

test('merging a single id never yields a map the kernel would refuse, and loses at most one id per range', () => {
  let seed = 12345
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  for (let i = 0; i < 2000; i++) {
    const r: IdMapExtent = {inside: rnd(50), outside: rnd(50), count: 1 + rnd(30)}
    const single = {inside: rnd(90), outside: rnd(90)}
    const out = addSingleMapping([r], single)
    assert.equal(checkIdMap(out), undefined, JSON.stringify({r, single, out}))
    const total = out.reduce((s, e) => s + e.count, 0) - 1
    const hit = (single.inside >= r.inside && single.inside < r.inside + r.count) || (single.outside >= r.outside && single.outside < r.outside + r.count)
    assert.equal(total, hit ? r.count - 1 : r.count, JSON.stringify({r, single, out}))
  }
})

test('overlapping ranges are refused naming the option and the side that overlaps', () => {
  assert.throws(
    () => checkMapSpec([{inside: 0, outside: 100000, count: 10}, {inside: 5, outside: 200000, count: 10}], '--map-users'),
    /--map-users: ranges starting at 0 and 5 overlap on the inside side/,
  )
  assert.throws(
    () => checkMapSpec([{inside: 0, outside: 100000, count: 10}, {inside: 50, outside: 100005, count: 10}], '--map-groups'),
    /--map-groups: .*overlap on the outside side/,
  )
})

test('map text is one "inside outside count" line per extent, as /proc/PID/uid_map takes it', () => {
  assert.equal(mapText([{inside: 0, outside: 1000, count: 1}, {inside: 1, outside: 100000, count: 65535}]), '0 1000 1\n1 100000 65535\n')
})

test('an unprivileged user may map their subid ranges and their own id, nothing else', () => {
  const allowed = [{start: 100000, count: 65536}]
  assert.equal(firstUnallowedExtent([{inside: 0, outside: 1000, count: 1}, {inside: 1, outside: 100000, count: 65535}], allowed, 1000), undefined)
  assert.deepEqual(firstUnallowedExtent([{inside: 0, outside: 165000, count: 1000}], allowed, 1000), {inside: 0, outside: 165000, count: 1000})
  assert.deepEqual(firstUnallowedExtent([{inside: 0, outside: 1000, count: 2}], allowed, 1000), {inside: 0, outside: 1000, count: 2})
})

test('outer ids must exist in our own user namespace (the inside side of our map)', () => {
  assert.equal(firstUnmappedExtent([{inside: 0, outside: 5, count: 10}], '0 100000 65536\n'), undefined)
  assert.deepEqual(firstUnmappedExtent([{inside: 0, outside: 65530, count: 10}], '0 100000 65536\n'), {inside: 0, outside: 65530, count: 10})
})
