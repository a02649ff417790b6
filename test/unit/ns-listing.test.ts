import {test} from 'node:test'
import assert from 'node:assert/strict'
import {statSync} from 'node:fs'
import {join} from 'node:path'
import {REPO} from '../helpers/env.js'
import {discoverNamespaces} from '../../src/ns/discover.js'
import {describeHolders, listNamespaces, ListedNamespace, readPpid, toJson} from '../../src/ns/listing.js'
import type {NamespaceFields} from '../../src/ns/json-output.js'
import {cellText, COLUMN_NAMES, DEFAULT_COLUMNS, parseColumns, renderListing} from '../../src/ns/columns.js'
import {arrangeTree, flatRows} from '../../src/ns/hierarchy-tree.js'
import {formatJson} from '../../src/ns/json-output.js'
import {jsonText} from '../../src/ns/ls-run.js'
import {normaliseTreeArgs, parseInode, parseTypes} from '../../src/ns/ls-options.js'
import {ASCII_GLYPHS, UNICODE_GLYPHS} from '../../src/render/tree.js'
import {palette} from '../../src/render/colour.js'
import {NsxError} from '../../src/cli/errors.js'

const PROC = join(REPO, 'test/unit/fixtures/proc-ls')
const plain = palette({isTTY: false})

function listing(opts: Parameters<typeof listNamespaces>[1] = {}): ListedNamespace[] {
  const d = discoverNamespaces({procRoot: PROC, relations: false})
  return listNamespaces(d, {procRoot: PROC, ...opts})
}

const byNs = (rows: ListedNamespace[], ns: number) => {
  const r = rows.find((x) => x.ns === ns)
  assert.ok(r, `no row for ${ns}`)
  return r
}

test('a row describes its lowest pid: ppid from stat, the command line, the owner of /proc/PID', () => {
  const r = byNs(listing(), 4026532500)
  assert.equal(r.pid, 100)
  assert.equal(r.nprocs, 2)
  assert.equal(r.ppid, 1)
  assert.equal(r.command, 'sh -c sleep 1000')
  assert.equal(r.uid, statSync(join(PROC, '100')).uid)
  assert.equal(r.path, `${PROC}/100/ns/mnt`)
})

test('a kernel thread (empty cmdline) shows its bare name, as lsns does', () => {
  const rows = listing()
  // pid 1 is lower, so take a namespace only the fixture's kthreadd could represent: none; read directly.
  const r = byNs(rows, 4026531836)
  assert.equal(r.pid, 1)
  assert.equal(r.command, '/sbin/init splash')
  assert.equal(readPpid(100, PROC), 1)
  assert.equal(readPpid(2, PROC), 0)
})

test('a namespace without processes has no pid, ppid, command or user, and its path is how it is held', () => {
  const rows = listing()
  const fdHeld = byNs(rows, 4026532300)
  assert.equal(fdHeld.nprocs, 0)
  assert.equal(fdHeld.pid, undefined)
  assert.equal(fdHeld.command, undefined)
  assert.equal(fdHeld.user, undefined)
  assert.equal(fdHeld.path, `${PROC}/1/fd/5`)
  assert.equal(byNs(rows, 4026532400).path, '/run/netns/blue')
  assert.deepEqual(byNs(rows, 4026532400).nsfs, ['/run/netns/blue'])
  assert.equal(byNs(rows, 4026532600).path, `${PROC}/100/task/101/ns/net`)
})

test('-p keeps the namespaces a process holds, by membership, thread or fd', () => {
  const rows = listing({pid: 100})
  const inodes = rows.map((r) => r.ns)
  assert.ok(inodes.includes(4026532500))
  assert.ok(inodes.includes(4026532600), 'thread-held netns of 100 missing')
  assert.ok(!inodes.includes(4026532300))
  const rows150 = listing({pid: 150})
  assert.ok(rows150.some((r) => r.ns === 4026532300), 'fd-held netns of 150 missing')
  assert.ok(rows150.some((r) => r.ns === 4026532900), 'pid_for_children of 150 missing')
  assert.equal(byNs(listing(), 4026532900).path, `${PROC}/150/ns/pid_for_children`)
})

test('a namespace argument keeps that inode only', () => {
  assert.deepEqual(
    listing({inode: 4026532504}).map((r) => r.ns),
    [4026532504],
  )
})

test('JSON rows carry every field, null when empty, pids apart from the other holders', () => {
  const j = toJson(byNs(listing(), 4026532300))
  assert.deepEqual(Object.keys(j), ['ns', 'type', 'path', 'nprocs', 'pid', 'ppid', 'command', 'uid', 'user', 'netnsid', 'addresses', 'nsfs', 'pns', 'ons', 'pids', 'holders'])
  assert.equal(j.pid, null)
  assert.equal(j.command, null)
  assert.deepEqual(j.pids, [])
  assert.deepEqual(j.holders, [
    {kind: 'fd', pid: 1, fd: 5},
    {kind: 'fd', pid: 150, fd: 4},
  ])
  const withProcs = toJson(byNs(listing(), 4026532500))
  assert.deepEqual(withProcs.pids, [100, 150])
  assert.deepEqual(withProcs.holders, [])
})

test('formatJson is valid JSON equal to its input, with plain objects and arrays on one line', () => {
  const value = {namespaces: listing().map(toJson)}
  const text = formatJson(value)
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)))
  assert.match(text, /\{"kind": "fd", "pid": 1, "fd": 5\}/)
  assert.match(text, /"pids": \[100, 150\]/)
})

test('nsx ls --json is written field by field, byte for byte as formatJson lays the document out', () => {
  const listed = listing().map(toJson)
  const odd: NamespaceFields = {
    ns: 4026532999, type: 'net', path: '/run/netns/a "b"\n\x1b[31m', nprocs: 0, pid: null, ppid: null,
    command: 'sh\u2028-c\0', uid: Number.NaN, user: null, netnsid: 0, addresses: ['10.0.0.2', 'fd00::1'], nsfs: ['/run/netns/a b', 'q"\\'],
    pns: null, ons: 4026531837, pids: [1, Number.NaN],
    holders: [
      {kind: 'fd', pid: 1, fd: 5},
      {kind: 'bind-mount', path: '/p\tq'}, // no mountPid: the key is left out
      {kind: 'thread', pid: 1, tid: 2},
      {kind: 'parent', of: 7},
      {kind: 'owner', of: 8},
      {kind: 'for-children', pid: 9},
    ],
  }
  const empty: NamespaceFields = {...odd, path: null, command: null, uid: 0, user: 'root', netnsid: null, addresses: null, nsfs: [], pids: [], holders: []}
  for (const namespaces of [listed, [odd, empty, ...listed], []]) {
    const doc = {namespaces}
    assert.equal(jsonText(doc), `${formatJson(doc)}\n`)
  }
  // Another shape still goes through formatJson.
  assert.equal(jsonText({namespaces: [], extra: 1}), `${formatJson({namespaces: [], extra: 1})}\n`)
})

test('HOLDERS counts processes and names the rest', () => {
  assert.equal(
    describeHolders([
      {kind: 'process', pid: 1},
      {kind: 'process', pid: 2},
      {kind: 'thread', pid: 3, tid: 4},
      {kind: 'fd', pid: 5, fd: 6},
      {kind: 'bind-mount', path: '/run/netns/x', mountPid: 1},
      {kind: 'parent', of: 7},
      {kind: 'owner', of: 8},
      {kind: 'for-children', pid: 9},
    ]),
    '2 processes, thread 4 of 3, fd 6 of 5, mount /run/netns/x, parent of 7, owner of 8, pid_for_children of 9',
  )
  assert.equal(describeHolders([{kind: 'for-children', pid: 9}], 0, 'time'), 'time_for_children of 9')
  assert.equal(describeHolders([], 3), '3 processes')
  assert.equal(describeHolders([{kind: 'process', pid: 1}]), '1 process')
})

test('-o replaces the defaults, +LIST appends, names are case-insensitive', () => {
  assert.deepEqual(parseColumns(undefined), [...DEFAULT_COLUMNS])
  assert.deepEqual(parseColumns('ns,Type'), ['NS', 'TYPE'])
  assert.deepEqual(parseColumns('+pns,ONS'), [...DEFAULT_COLUMNS, 'PNS', 'ONS'])
  assert.deepEqual(parseColumns(undefined, true), [...COLUMN_NAMES])
})

test('an unknown column is an error naming the valid ones', () => {
  assert.throws(() => parseColumns('NS,BOGUS'), (e: unknown) => e instanceof NsxError && /unknown column 'BOGUS' \(valid: NS, TYPE, .*HOLDERS, ADDRESSES\)/.test(e.message))
  assert.throws(() => parseColumns('NS,,TYPE'), NsxError)
  assert.throws(() => parseColumns(''), NsxError)
})

test('types accept lsns names, aliases and commas, and reject unknown ones listing the valid', () => {
  assert.deepEqual(parseTypes(['net', 'mount,pid']), ['net', 'mnt', 'pid'])
  assert.equal(parseTypes(undefined), undefined)
  assert.throws(() => parseTypes(['nett']), /unknown namespace type 'nett' \(valid: mnt, net, pid, user, uts, ipc, cgroup, time\)/)
})

test('a namespace argument must be an inode number', () => {
  assert.equal(parseInode('4026531836'), 4026531836)
  assert.equal(parseInode(undefined), undefined)
  for (const bad of ['abc', '-1', '0', '1.5', '99999999999999999999']) assert.throws(() => parseInode(bad), NsxError, bad)
})

test('--tree takes an optional value, as lsns: bare, =VALUE, a following mode word, -TVALUE', () => {
  assert.deepEqual(normaliseTreeArgs(['--tree']), ['--tree=process'])
  assert.deepEqual(normaliseTreeArgs(['--tree', 'owner', '-l']), ['--tree=owner', '-l'])
  assert.deepEqual(normaliseTreeArgs(['--tree', '4026531836']), ['--tree=process', '4026531836'])
  assert.deepEqual(normaliseTreeArgs(['--tree=parent']), ['--tree=parent'])
  assert.deepEqual(normaliseTreeArgs(['-Tparent', '-T']), ['--tree=parent', '--tree=process'])
  assert.deepEqual(normaliseTreeArgs(['--', '--tree']), ['--', '--tree'])
})

test('the table right-aligns numbers, leaves empty cells empty and ends lines without blanks', () => {
  const rows = listing({inode: 4026532300})
  const text = renderListing(flatRows(rows), {columns: ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'HOLDERS'], palette: plain})
  assert.equal(text, '        NS TYPE NPROCS PID USER HOLDERS\n4026532300 net       0          fd 5 of 1, fd 4 of 150\n')
})

test('-n drops the header; -r separates by one space and escapes blanks', () => {
  const rows = listing({inode: 4026532500})
  assert.equal(renderListing(flatRows(rows), {columns: ['NS', 'COMMAND'], noHeadings: true, palette: plain}), '4026532500 sh -c sleep 1000\n')
  assert.equal(renderListing(flatRows(rows), {columns: ['NS', 'COMMAND'], raw: true, palette: plain}), 'NS COMMAND\n4026532500 sh\\x20-c\\x20sleep\\x201000\n')
})

test('control characters in a command line or a mount path are escaped in the table, never sent to the terminal', () => {
  const [row] = listing({inode: 4026532500})
  const evil = {...row, command: 'sleep\u001b]0;owned\u0007\nforged line\u009b2J', nsfs: ['/run/netns/\u001b[31mx']}
  const text = renderListing(flatRows([evil]), {columns: ['NS', 'COMMAND', 'NSFS'], noHeadings: true, palette: plain})
  assert.equal(text, '4026532500 sleep\\x1b]0;owned\\x07\\x0aforged line\\x9b2J /run/netns/\\x1b[31mx\n')
  // -r escapes its own way (as lsns -r), once.
  const raw = renderListing(flatRows([evil]), {columns: ['NS', 'COMMAND'], raw: true, noHeadings: true, palette: plain})
  assert.equal(raw, '4026532500 sleep\\x1b]0;owned\\x07\\x0aforged\\x20line\\x9b2J\n')
})

test('on a narrow terminal long text columns are cut with an ellipsis, numbers never', () => {
  const rows = listing({inode: 4026532300})
  const text = renderListing(flatRows(rows), {columns: ['NS', 'HOLDERS'], width: 25, palette: plain})
  for (const line of text.trimEnd().split('\n')) assert.ok(line.length <= 25, line)
  assert.match(text, /^4026532300 fd 5 of 1, fd…$/m)
})

function row(ns: number, extra: Partial<ListedNamespace>): ListedNamespace {
  return {ns, type: 'pid', nprocs: 1, nsfs: [], pids: [], holders: [], ...extra}
}

test('--tree=parent nests namespaces under their parents, with the branches in the NS column', () => {
  const rows = [row(1, {}), row(2, {pns: 1}), row(3, {pns: 2}), row(4, {pns: 1}), row(5, {type: 'net'})]
  const d = arrangeTree(rows, 'parent', UNICODE_GLYPHS)
  assert.deepEqual(
    d.map((x) => `${x.prefix}${x.row.ns}`),
    ['1', '├─2', '│ └─3', '└─4', '5'],
  )
  const text = renderListing(d, {columns: ['NS', 'TYPE'], treeColumn: 'NS', noHeadings: true, palette: plain})
  assert.equal(text, '1     pid\n├─2   pid\n│ └─3 pid\n└─4   pid\n5     net\n')
})

test('--tree=owner nests under the owning user namespace; ASCII glyphs outside UTF-8', () => {
  const rows = [row(10, {type: 'user'}), row(11, {type: 'net', ons: 10}), row(12, {type: 'user', ons: 10, pns: 10}), row(13, {type: 'mnt', ons: 12})]
  assert.deepEqual(
    arrangeTree(rows, 'owner', ASCII_GLYPHS).map((x) => `${x.prefix}${x.row.ns}`),
    ['10', '|-11', '`-12', '  `-13'],
  )
})

test('--tree=process nests under the nearest ancestor that represents a namespace, preferring the same type', () => {
  const ppid: Record<number, number> = {50: 1, 60: 55, 55: 50, 70: 1}
  const rows = [
    row(1, {type: 'mnt', pid: 1}),
    row(2, {type: 'net', pid: 1}),
    row(3, {type: 'net', pid: 60}), // 60 -> 55 -> 50 -> 1: nests under pid 1's net row
    row(4, {type: 'uts', pid: 60}), // no uts row for pid 1: the first of its rows
    row(5, {type: 'net', nprocs: 0, holders: [{kind: 'fd', pid: 60, fd: 3}]}), // held by 60's fd: under 60's net row
  ]
  const d = arrangeTree(rows, 'process', UNICODE_GLYPHS, (p) => ppid[p])
  assert.deepEqual(
    d.map((x) => `${x.prefix}${x.row.ns}`),
    ['1', '└─4', '2', '└─3', '  └─5'],
  )
})

test('cells: NETNSID shows unassigned for a net namespace without an id, PNS/ONS empty when unknown', () => {
  const r = row(1, {type: 'net', netnsid: null})
  assert.equal(cellText('NETNSID', r), 'unassigned')
  assert.equal(cellText('NETNSID', {...r, netnsid: 3}), '3')
  assert.equal(cellText('NETNSID', {...r, netnsid: undefined}), '')
  assert.equal(cellText('PNS', r), '')
  assert.equal(cellText('ONS', {...r, ons: 7}), '7')
})

test('on a terminal the header is bold and a ghost row is dim; without one, no escapes at all', () => {
  const rows = [row(1, {nprocs: 3, pid: 5}), row(2, {nprocs: 0, holders: [{kind: 'parent', of: 1}]})]
  const saved = process.env.NO_COLOR
  delete process.env.NO_COLOR
  try {
    const colour = palette({isTTY: true})
    const text = renderListing(flatRows(rows), {columns: ['NS', 'HOLDERS'], palette: palette({isTTY: true})})
    const [header, live, ghost] = text.trimEnd().split('\n')
    assert.equal(header, colour.bold('NS HOLDERS'))
    assert.doesNotMatch(live, /\u001b/)
    // NS is right-aligned under its two-letter header.
    assert.equal(ghost, ` ${colour.dim('2')} ${colour.dim('parent of 1')}`)
  } finally {
    if (saved !== undefined) process.env.NO_COLOR = saved
  }
  assert.doesNotMatch(renderListing(flatRows(rows), {columns: ['NS', 'HOLDERS'], palette: plain}), /\u001b/)
})
