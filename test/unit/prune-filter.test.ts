import {test} from 'node:test'
import assert from 'node:assert/strict'
import {danglingOnly, dockerTimestamp, filterArgsOfWords, goDuration, pruneSelector, selects} from '../../src/store/prune-filter.js'
import {NsxError} from '../../src/cli/errors.js'

const NOW = Date.UTC(2026, 11, 8, 0, 30, 15, 500)
const fails = (fn: () => unknown, message: string, exitCode: number) =>
  assert.throws(fn, (e: unknown) => e instanceof NsxError && e.message === message && e.exitCode === exitCode)

test("--filter words as the docker CLI reads them: KEY=VALUE, the key lower-cased, both trimmed; a word without = is the CLI's usage error (125)", () => {
  assert.deepEqual([...filterArgsOfWords(['Label=a=b', ' until = 24h', 'label=a=b', 'label!=c'])], [['label', ['a=b']], ['until', ['24h']], ['label!', ['c']]])
  fails(() => filterArgsOfWords(['until']), 'invalid argument "until" for "--filter" flag: bad format of filter (expected name=value)', 125)
})

test("until as docker's GetTimestamp reads it: a Go duration (to the second), an RFC 3339 time or date, Unix seconds; docker's errors", () => {
  assert.equal(dockerTimestamp('10m', NOW), Math.floor((NOW - 600_000) / 1000) * 1000)
  assert.equal(dockerTimestamp('1h30m', NOW), Math.floor((NOW - 5_400_000) / 1000) * 1000)
  assert.equal(dockerTimestamp('1.5h', NOW), Math.floor((NOW - 5_400_000) / 1000) * 1000)
  assert.equal(dockerTimestamp('-5m', NOW), Math.floor((NOW + 300_000) / 1000) * 1000, 'a negative duration is in the future')
  assert.equal(dockerTimestamp('0', NOW), 0, '0 is the epoch, not a duration')
  assert.equal(dockerTimestamp('1700000000', NOW), 1_700_000_000_000)
  assert.equal(dockerTimestamp('1700000000.25', NOW), 1_700_000_000_250)
  assert.equal(dockerTimestamp('2026-12-07T10:00:00Z', NOW), Date.UTC(2026, 11, 7, 10))
  assert.equal(dockerTimestamp('2026-12-07T10:00:00.5+02:00', NOW), Date.UTC(2026, 11, 7, 8, 0, 0, 500))
  assert.equal(dockerTimestamp('2026-12-07T10:00-05:00', NOW), Date.UTC(2026, 11, 7, 15))
  assert.equal(dockerTimestamp('2026-12-07Z', NOW), Date.UTC(2026, 11, 7))
  assert.equal(dockerTimestamp('2026-12-07T10', NOW), new Date(2026, 11, 7, 10).getTime(), 'without a zone: local time')
  assert.equal(dockerTimestamp('2026-12-07', NOW), new Date(2026, 11, 7).getTime())
  fails(() => dockerTimestamp('yesterday', NOW), 'failed to parse value as time or duration: "yesterday"', 1)
  fails(() => dockerTimestamp('10x', NOW), 'failed to parse value as time or duration: "10x"', 1)
  assert.throws(() => dockerTimestamp('2026-13-01', NOW), /^NsxError: parsing time "2026-13-01"/)
  assert.equal(goDuration('300ms'), 300)
  assert.equal(goDuration('h'), undefined)
})

test("each area's keys, docker's messages; label and label! as moby's MatchKVList reads them", () => {
  fails(() => pruneSelector(new Map([['dangling', ['true']]]), 'containers'), "Invalid filter 'dangling'", 1)
  fails(() => pruneSelector(new Map([['until', ['1h']]]), 'volumes'), "Invalid filter 'until'", 1)
  fails(() => pruneSelector(new Map([['until', ['1h', '2h']]]), 'networks'), 'more than one until filter specified', 1)
  const s = pruneSelector(new Map([['until', ['1h']], ['label', ['team', 'tier=db']], ['label!', ['keep']]]), 'images', NOW)
  const old = new Date(NOW - 7_200_000).toISOString()
  assert.equal(selects(s, {created: old, labels: {team: 'a', tier: 'db'}}), true)
  assert.equal(selects(s, {created: new Date(NOW - 60_000).toISOString(), labels: {team: 'a', tier: 'db'}}), false, 'created after until')
  assert.equal(selects(s, {created: old, labels: {team: 'a', tier: 'web'}}), false)
  assert.equal(selects(s, {created: old, labels: {team: 'a', tier: 'db', keep: ''}}), false)
  assert.equal(selects(s, {created: old, labels: {}}), false, 'label= on an object without labels')
  // label! excludes only what has every one of its pairs (MatchKVList over all of them).
  const not = pruneSelector(new Map([['label!', ['a', 'b']]]), 'containers')
  assert.equal(selects(not, {labels: {a: '1'}}), true)
  assert.equal(selects(not, {labels: {a: '1', b: '2'}}), false)
  assert.equal(selects(not, {labels: {}}), true)
})

test("image prune's dangling: true or 1 (the default), false or 0 (-a); anything else is docker's Invalid filter", () => {
  assert.equal(danglingOnly(new Map()), true)
  assert.equal(danglingOnly(new Map([['dangling', ['0']]])), false)
  assert.equal(danglingOnly(new Map([['dangling', ['true']]])), true)
  fails(() => danglingOnly(new Map([['dangling', ['maybe']]])), "Invalid filter 'dangling=[maybe]'", 1)
})
