import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {REPO} from '../helpers/env.js'
import {gatherReport, InspectReport} from '../../src/inspect/report.js'
import {compareReports} from '../../src/diff/compare.js'
import {environmentNames} from '../../src/proc/environ.js'

const FIXTURES = join(REPO, 'test/unit/fixtures/inspect')
const report = (): InspectReport => gatherReport('4242', {procRoot: join(FIXTURES, 'v2-only', 'proc'), sysRoot: join(FIXTURES, 'v2-only', 'sys'), uts: false})
const clone = (r: InspectReport): InspectReport => JSON.parse(JSON.stringify(r)) as InspectReport
const mount = (target: string, options = ['rw']) => ({target, fstype: 'tmpfs', source: 'tmpfs', root: '/', options, superOptions: []})

test('a report against itself: the same, nothing skipped but what neither records', () => {
  const r = report()
  r.mounts = [mount('/')]
  r.environment = ['PATH']
  const d = compareReports(r, clone(r))
  assert.equal(d.same, true)
  assert.deepEqual(d.differences, [])
})

test('mounts are matched by mount point: added, removed, options changed; a stacked mount point is told apart', () => {
  const a = report()
  const b = clone(a)
  a.mounts = [mount('/'), mount('/data'), mount('/gone'), mount('/x'), mount('/x')]
  b.mounts = [mount('/'), mount('/data', ['ro', 'nosuid']), mount('/new'), mount('/x')]
  const d = compareReports(a, b).differences.filter((x) => x.area === 'mounts')
  assert.deepEqual(
    d.map((x) => [x.item, x.change]),
    [
      ['/data', 'changed'],
      ['/gone', 'removed'],
      ['/x #2', 'removed'],
      ['/new', 'added'],
    ],
  )
  assert.equal(d[0].b, 'tmpfs tmpfs ro,nosuid')
})

test('capability sets and environment names: the members only one side has', () => {
  const a = report()
  const b = clone(a)
  a.environment = ['HOME', 'PATH']
  b.environment = ['PATH', 'SECRET_TOKEN']
  const dropped = a.capabilities.bounding.names[0]
  b.capabilities.bounding.names = b.capabilities.bounding.names.filter((n) => n !== dropped).concat(['CAP_BPF_EXTRA'])
  const d = compareReports(a, b)
  assert.equal(d.same, false)
  const env = d.differences.find((x) => x.area === 'environment')
  assert.deepEqual([env?.onlyA, env?.onlyB, env?.change], [['HOME'], ['SECRET_TOKEN'], 'changed'])
  const cap = d.differences.find((x) => x.area === 'capabilities' && x.item === 'bounding')
  assert.deepEqual([cap?.onlyA, cap?.onlyB], [[dropped], ['CAP_BPF_EXTRA']])
})

test('a saved report from before mounts and limits were recorded: those areas are named as not compared, not as differences', () => {
  const a = report()
  a.mounts = [mount('/')]
  a.environment = ['PATH']
  const b = clone(a) as Partial<InspectReport>
  delete b.mounts
  delete b.environment
  delete (b.cgroups as Partial<InspectReport['cgroups']>).limits
  const d = compareReports(a, b as InspectReport)
  assert.equal(d.same, true)
  // (A fixture tree has no hostname or device rules either: neither side records those.)
  assert.deepEqual(d.notCompared.map((n) => n.area).filter((x) => x !== 'hostname' && x !== 'devices').sort(), ['environment', 'limits', 'mounts'])
  assert.match(d.notCompared.find((n) => n.area === 'mounts')?.why ?? '', /report B does not record its mounts/)
})

test('environment names: values never kept, each name once', () => {
  assert.deepEqual(environmentNames('B=2\0A=1=x\0B=3\0NOVALUE\0'), ['A', 'B', 'NOVALUE'])
})
