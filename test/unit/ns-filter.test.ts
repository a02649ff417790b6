import {test} from 'node:test'
import assert from 'node:assert/strict'
import {evaluate, filterColumns, FilterError, FilterValue, parseFilter} from '../../src/ns/filter.js'
import {COLUMN_NAMES, renderListing, jsonValue} from '../../src/ns/columns.js'
import {flatRows} from '../../src/ns/hierarchy-tree.js'
import {ListedNamespace} from '../../src/ns/listing.js'
import {palette} from '../../src/render/colour.js'

/** A row of columns, as executeLs hands them to the filter. */
const row = (values: Record<string, FilterValue>) => (c: string) => values[c]
const holds = (expr: string, values: Record<string, FilterValue>) => evaluate(parseFilter(expr, COLUMN_NAMES), row(values))

test('-Q: the lsns expressions of util-linux\'s tests (NS == N && NPROCS == 1, NETNSID == \'N\', TYPE == "net" && NPROCS > 0)', () => {
  const net = {NS: 4026532000, TYPE: 'net', NPROCS: 1, NETNSID: 7, USER: 'root'}
  assert.equal(holds('NS == 4026532000 && NPROCS == 1', net), true)
  assert.equal(holds('NS == 4026532001 && NPROCS == 1', net), false)
  assert.equal(holds("NETNSID == '7'", net), true, 'a string literal compares the column as text')
  assert.equal(holds('TYPE == "net" && NPROCS > 0', net), true)
  assert.equal(holds('TYPE == "net" && NPROCS > 0', {...net, NPROCS: 0}), false)
})

test('-Q: precedence (|| below &&), !, parentheses, word operators, regular expressions and empty cells', () => {
  const v = {NS: 5, TYPE: 'pid', NPROCS: 0, COMMAND: undefined, USER: 'root'}
  assert.equal(holds('TYPE == "net" || TYPE == "pid" && NPROCS == 0', v), true)
  assert.equal(holds('(TYPE == "net" || TYPE == "pid") && NPROCS > 0', v), false)
  assert.equal(holds('!(NPROCS > 0)', v), true)
  assert.equal(holds('not (NPROCS gt 0) and TYPE eq "pid"', v), true)
  assert.equal(holds('TYPE ne "net" AND NPROCS le 0 OR TYPE == "x"', v), true)
  assert.equal(holds('TYPE =~ "^p.d$"', v), true)
  assert.equal(holds("TYPE !~ 'net'", v), true)
  assert.equal(holds('COMMAND', v), false, 'a bare column is true when it is not empty')
  assert.equal(holds('USER', v), true)
  assert.equal(holds('NS >= 4K', {NS: 4096}), true, 'K is 1024 as in libsmartcols')
  assert.equal(holds('pid < 10', {PID: 3}), true, 'column names are case-insensitive')
  assert.equal(holds('PID < 10', {PID: undefined}), false, 'an empty cell is not a number')
  assert.deepEqual([...filterColumns(parseFilter('TYPE == "net" && (NPROCS > 0 || !USER)', COLUMN_NAMES))].sort(), ['NPROCS', 'TYPE', 'USER'])
})

test('-Q: a bad expression is one line naming what and where', () => {
  const bad: [string, RegExp][] = [
    ['NPROCS >', /invalid filter 'NPROCS >': expected a value or a column at the end/],
    ['NOSUCH == 1', /unknown column 'NOSUCH' \(valid: NS, TYPE,/],
    ['TYPE == "net', /unterminated string/],
    ['(NPROCS > 0', /expected '\)' at the end/],
    ['TYPE =~ net', /=~ needs a string/],
    ['TYPE =~ "("', /bad regular expression/],
    ['NPROCS > 0 )', /unexpected text at character 12/],
    ['', /the expression is empty/],
  ]
  for (const [expr, why] of bad) assert.throws(() => parseFilter(expr, COLUMN_NAMES), (e: Error) => e instanceof FilterError && why.test(e.message) && !e.message.includes('\n'), expr)
})

const ns = (over: Partial<ListedNamespace>): ListedNamespace => ({ns: 4026532100, type: 'net', nprocs: 1, pid: 42, nsfs: [], pids: [42], holders: [], pns: 0, ons: 4026531837, ...over})

test('NSFS: several paths one per line (the other cells blank), comma-joined with --nowrap or --raw (lsns/nsfs)', () => {
  const rows = flatRows([ns({nsfs: ['/run/netns/ABC', '/tmp/XYZ']}), ns({ns: 4026532101, pid: 43, nsfs: ['/run/netns/one']})])
  const p = palette({isTTY: false})
  const wrapped = renderListing(rows, {columns: ['NS', 'PID', 'NSFS'], palette: p})
  assert.deepEqual(wrapped.split('\n'), [
    '        NS PID NSFS',
    '4026532100  42 /run/netns/ABC',
    '               /tmp/XYZ',
    '4026532101  43 /run/netns/one',
    '',
  ])
  const one = renderListing(rows, {columns: ['NSFS'], noHeadings: true, noWrap: true, palette: p})
  assert.equal(one, '/run/netns/ABC,/tmp/XYZ\n/run/netns/one\n')
  assert.equal(renderListing(rows, {columns: ['NSFS'], noHeadings: true, raw: true, palette: p}), '/run/netns/ABC,/tmp/XYZ\n/run/netns/one\n')
})

test('PNS and ONS are 0 for a root namespace, numbers in --json with -o; NSFS an array, an empty PID null', () => {
  const r = ns({pns: 0, ons: 0, pid: undefined, nsfs: ['/run/netns/a']})
  assert.equal(jsonValue('PNS', r), 0)
  assert.equal(jsonValue('ONS', r), 0)
  assert.equal(jsonValue('PID', r), null)
  assert.deepEqual(jsonValue('NSFS', r), ['/run/netns/a'])
  assert.equal(renderListing(flatRows([r]), {columns: ['PNS', 'ONS'], noHeadings: true, palette: palette({isTTY: false})}), '0 0\n')
})
