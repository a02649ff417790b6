import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Arranger, arrange} from '../../src/cgroup/arrange.js'
import {SortKey} from '../../src/cgroup/snapshot.js'
import {CgroupStats} from '../../src/cgroup/rates.js'
import {ProcessSampler, QUIET_AFTER, QUIET_EVERY, differingNamespaces, pageSizeFrom, parseStatFigures, parseVmRss} from '../../src/cgroup/processes.js'
import {parseDelay, normaliseCgroupPath} from '../../src/cgroup/options.js'
import {fitColumns, headerLine, rowCells, rowLine, ellipsizeLeft, TUI_COLUMNS, MIN_NAME_WIDTH, ASCII_MARKS, UNICODE_MARKS} from '../../src/tui/rows.js'
import {DashboardState} from '../../src/tui/state.js'
import {chooseTerminal} from '../../src/tui/terminal.js'

function stat(path: string, cpu: number | null, mem: number, tasks = 1, io = 0): CgroupStats {
  return {
    path,
    identity: '1:1',
    hierarchies: ['v2'],
    tasks,
    procs: tasks,
    memoryBytes: mem,
    cpuPercent: cpu,
    ioReadBytesPerSec: io,
    ioWriteBytesPerSec: 0,
    workingSetBytes: mem,
    cpuLimitPercent: null,
    intervalSeconds: 1,
  }
}

const STATS = [
  stat('/', 150, 1000, 10),
  stat('/a', 10, 900, 2, 5),
  stat('/a/x', 9, 100, 1),
  stat('/b', 120, 50, 7, 1),
  stat('/b/y', 100, 40, 3),
  stat('/b/z', 20, 10, 4),
]

test('tree order: children under their parent, siblings sorted by the key', () => {
  const paths = (k: 'cpu' | 'memory' | 'name' | 'pids' | 'io') => arrange(STATS, {sort: k}).map((r) => r.stats.path)
  assert.deepEqual(paths('cpu'), ['/', '/b', '/b/y', '/b/z', '/a', '/a/x'])
  assert.deepEqual(paths('memory'), ['/', '/a', '/a/x', '/b', '/b/y', '/b/z'])
  assert.deepEqual(paths('name'), ['/', '/a', '/a/x', '/b', '/b/y', '/b/z'])
  assert.deepEqual(paths('pids'), ['/', '/b', '/b/z', '/b/y', '/a', '/a/x'])
  assert.deepEqual(paths('io'), ['/', '/a', '/a/x', '/b', '/b/y', '/b/z'])
  assert.deepEqual(arrange(STATS, {sort: 'cpu'}).map((r) => r.depth), [0, 1, 2, 2, 1, 2])
})

test('flat list sorts every cgroup together; a missing CPU% sorts last', () => {
  const withUnknown = [...STATS, stat('/c', null, 1)]
  assert.deepEqual(
    arrange(withUnknown, {sort: 'cpu', flat: true}).map((r) => r.stats.path),
    ['/', '/b', '/b/y', '/b/z', '/a', '/a/x', '/c'],
  )
})

test('a collapsed cgroup hides its descendants; a filter keeps matches and their ancestors', () => {
  const rows = arrange(STATS, {sort: 'name', collapsed: new Set(['/b'])})
  assert.deepEqual(rows.map((r) => r.stats.path), ['/', '/a', '/a/x', '/b'])
  assert.equal(rows[3].collapsed, true)
  assert.equal(rows[3].hasChildren, true)
  assert.deepEqual(arrange(STATS, {sort: 'name', filter: 'Y'}).map((r) => r.stats.path), ['/', '/b', '/b/y'])
  assert.deepEqual(arrange(STATS, {sort: 'name', filter: 'y', flat: true}).map((r) => r.stats.path), ['/b/y'])
})

test('an Arranger arranging the same cgroups refresh after refresh gives what arrange gives, with its rows reused', () => {
  const a = new Arranger()
  const stats = STATS.map((x) => ({...x}))
  const same = (opts: {sort: SortKey; flat?: boolean; filter?: string; collapsed?: Set<string>}, what: string) => {
    const want = arrange(stats, opts).map((r) => ({path: r.stats.path, depth: r.depth, hasChildren: r.hasChildren, collapsed: r.collapsed}))
    const got = a.arrange(stats, opts).map((r) => ({path: r.stats.path, depth: r.depth, hasChildren: r.hasChildren, collapsed: r.collapsed}))
    assert.deepEqual(got, want, what)
  }
  same({sort: 'cpu'}, 'first')
  const first = a.arrange(stats, {sort: 'cpu'})
  const rowOfB = first.find((r) => r.stats.path === '/b')
  // The figures change in the same objects (as deriveAll with reuse does): the order follows.
  stats[4].cpuPercent = 1
  stats[1].cpuPercent = 500
  same({sort: 'cpu'}, 'figures changed in place')
  assert.equal(a.arrange(stats, {sort: 'cpu'}).find((r) => r.stats.path === '/b'), rowOfB, 'the row object is reused')
  for (const sort of ['memory', 'io', 'pids', 'name', 'cpu'] as const) same({sort}, sort)
  same({sort: 'cpu', flat: true}, 'flat')
  same({sort: 'name', collapsed: new Set(['/b', '/'])}, 'collapsed')
  same({sort: 'name', filter: 'y'}, 'filtered')
  // A cgroup comes (a new object among the old ones), another goes.
  stats.push(stat('/b/y/deep', 3, 1))
  same({sort: 'cpu'}, 'a cgroup added')
  stats.splice(2, 1)
  same({sort: 'memory'}, 'a cgroup removed')
  same({sort: 'memory', flat: true}, 'flat after removal')
})

test('keys: j/k and arrows move, the selection follows its cgroup across re-sorts', () => {
  const st = new DashboardState({sort: 'cpu', flat: false})
  st.update(STATS)
  assert.equal(st.selectedPath, '/')
  assert.equal(st.key('j', 'j'), 'selection')
  assert.equal(st.key('down', undefined), 'selection')
  assert.equal(st.selectedPath, '/b/y')
  assert.equal(st.key('k', 'k'), 'selection')
  assert.equal(st.selectedPath, '/b')
  assert.equal(st.key('s', 's'), 'render')
  assert.equal(st.sort, 'memory')
  assert.equal(st.selectedPath, '/b', 'still the same cgroup after re-sorting')
  assert.equal(st.selectedIndex(), 3)
  assert.equal(st.key('up', undefined), 'selection')
  assert.equal(st.key('home', undefined), 'selection')
  assert.equal(st.key('up', undefined), 'none', 'no movement above the first row')
})

test('keys: s cycles cpu, memory, io, pids, name; enter collapses and expands', () => {
  const st = new DashboardState({sort: 'cpu', flat: false})
  st.update(STATS)
  const seen: string[] = []
  for (let i = 0; i < 5; i++) {
    st.key('s', 's')
    seen.push(st.sort)
  }
  assert.deepEqual(seen, ['memory', 'io', 'pids', 'name', 'cpu'])
  st.key('j', 'j') // /b
  assert.equal(st.selectedPath, '/b')
  // A terminal's carriage return arrives from blessed as 'return' and then 'enter'.
  st.key('return', '\r')
  st.key('enter', '\r')
  assert.deepEqual(st.rows.map((r) => r.stats.path), ['/', '/b', '/a', '/a/x'])
  st.key('enter', '\r')
  assert.equal(st.rows.length, 6)
})

test('keys: / edits a filter (enter keeps, escape cancels), p pauses, ? help, q quits', () => {
  const st = new DashboardState({sort: 'name', flat: false})
  st.update(STATS)
  st.key('/', '/')
  for (const ch of 'zz') st.key(ch, ch)
  st.key('backspace', '\b')
  assert.deepEqual(st.rows.map((r) => r.stats.path), ['/', '/b', '/b/z'], 'filters while typing')
  st.key('return', '\r')
  st.key('enter', '\r')
  assert.equal(st.filter, 'z')
  assert.equal(st.rows.length, 3, 'the enter that ends the filter does not also collapse a row')
  assert.equal(st.key('q', 'q'), 'quit')
  st.key('/', '/')
  st.key('a', 'a')
  st.key('escape', undefined)
  assert.equal(st.filter, 'z', 'escape while editing keeps the previous filter')
  st.key('escape', undefined)
  assert.equal(st.filter, '')
  assert.equal(st.rows.length, 6)
  st.key('p', 'p')
  assert.equal(st.paused, true)
  st.key('?', '?')
  assert.equal(st.helpShown, true)
  assert.equal(st.key('j', 'j'), 'render', 'any key closes the help')
  assert.equal(st.helpShown, false)
  st.key('f', 'f')
  assert.equal(st.flat, true)
})

test('columns that do not fit are dropped least useful first, the name keeps its minimum', () => {
  const wide = fitColumns(200)
  assert.equal(wide.columns.length, TUI_COLUMNS.length)
  const narrow = fitColumns(70)
  assert.ok(narrow.nameWidth >= MIN_NAME_WIDTH)
  const headers = narrow.columns.map((c) => c.header)
  // What a container's row is about (usage against its limits) stays on a narrow terminal.
  for (const h of ['TASKS', 'CPU%', 'CPU-LIM', 'MEMORY', 'MEM-LIM', 'PIDS']) assert.ok(headers.includes(h), `${h} kept`)
  for (const h of ['READ/s', 'WRITE/s', 'PSI-CPU']) assert.ok(!headers.includes(h), `${h} dropped`)
  // 80 columns less the one left free at the edge: the working set fits too.
  assert.deepEqual(fitColumns(79).columns.map((c) => c.header), ['TASKS', 'CPU%', 'CPU-LIM', 'MEMORY', 'WSET', 'MEM-LIM', 'PIDS'])
  assert.ok(headerLine(narrow).length <= 70)
  const rows = arrange(STATS, {sort: 'cpu'})
  for (const r of rows) assert.equal(rowLine(r, narrow, false).length, headerLine(narrow).length)
  assert.match(rowLine(rows[1], wide, false, ASCII_MARKS), /^ {2}- b +7 +120\.0/)
  assert.equal(ellipsizeLeft('/system.slice/very-long.service', 12), '…ong.service')
})

test('a cgroup name with wide, zero-width or bidi characters takes exactly its column: the values stay in theirs', () => {
  const layout = fitColumns(120)
  for (const path of ['/漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字.service', '/a\u202eecivres\u2060x', '/cafe\u0301', '/😀😀😀']) {
    for (const flat of [false, true]) {
      const line = rowLine({stats: stat(path, 12.5, 1024), depth: 1, hasChildren: false, collapsed: false}, layout, flat)
      assert.equal(line.length, headerLine(layout).length, `${JSON.stringify(path)} ${flat ? 'flat' : 'tree'}`)
      assert.match(line.slice(layout.nameWidth), /^ +1 +12\.5 /, 'TASKS and CPU% where their headers are')
      assert.doesNotMatch(line, /[\u202a-\u202e\u2060-\u206f\u0300-\u036f]/)
    }
  }
})

test('rowCells puts each piece of a row where rowLine has it (the dashboard paints rows from them)', () => {
  const long = stat('/b/a-name-far-too-long-for-the-column-it-is-given', 123456.7, 10 * 1024 ** 5, 123456789)
  for (const layout of [fitColumns(70), fitColumns(120), fitColumns(200)]) {
    for (const flat of [false, true]) {
      for (const r of [...arrange(STATS, {sort: 'cpu', flat}), {stats: long, depth: 3, hasChildren: true, collapsed: true}]) {
        const line = rowLine(r, layout, flat, UNICODE_MARKS)
        const cells = Array.from({length: line.length}, () => ' ')
        rowCells(r, layout, flat, UNICODE_MARKS, (x, text) => [...text].forEach((ch, i) => (cells[x + i] = ch)))
        assert.equal(cells.join(''), line, `${layout.columns.length} columns, ${flat ? 'flat' : 'tree'}: ${r.stats.path}`)
      }
    }
  }
})

test('TERM families map to terminfo entries blessed can parse, keeping 256 colours', () => {
  for (const t of ['xterm-256color', 'tmux-256color', 'screen-256color', 'rxvt-unicode-256color']) {
    const c = chooseTerminal(t, '')
    assert.ok(!('error' in c))
    assert.equal(c.name, 'xterm-256color', t)
    assert.equal(c.colours, 256)
    assert.match(c.file, /blessed\/usr\/xterm-256color$/)
  }
  const linux = chooseTerminal('linux', '')
  assert.ok(!('error' in linux) && linux.name === 'linux')
  const plain = chooseTerminal('screen', '')
  assert.ok(!('error' in plain) && plain.name === 'xterm' && plain.colours === 8)
  const truecolor = chooseTerminal('xterm', 'truecolor')
  assert.ok(!('error' in truecolor) && truecolor.colours === 256)
  assert.ok('error' in chooseTerminal('dumb', ''))
  assert.ok('error' in chooseTerminal(undefined, ''))
})

test("process helpers: VmRSS in bytes, page size from status/statm, namespaces that are not the host's", () => {
  assert.equal(parseVmRss('Name:\tx\nVmRSS:\t   2048 kB\n'), 2048 * 1024)
  assert.equal(parseVmRss('Name:\tkthreadd\n'), null)
  assert.equal(pageSizeFrom('Name:\tx\nVmRSS:\t 4000 kB\n', '5000 1001 300 1 0 200 0\n'), 4096)
  assert.equal(pageSizeFrom(undefined, undefined), 4096)
  // The kernel's fixed inodes of the initial namespaces decide, even when no reference process is readable.
  const host = {mnt: 0xeffffff8, net: 0xeffffff9, pid: 0xeffffffc, user: 0xeffffffd, uts: 0xeffffffe, ipc: 0xefffffff}
  assert.deepEqual(differingNamespaces({...host, pid: 0xf0000123, net: 0xf0000456}, undefined, host), ['net', 'pid'])
  assert.deepEqual(differingNamespaces(host, undefined, host), [])
  // Without fixed inodes for net and mnt (older kernels), a reference process (kthreadd) decides.
  const ref = {pid: 2, name: 'kthreadd', why: '', links: {mnt: 4026531840, net: 4026531992}}
  assert.deepEqual(differingNamespaces({mnt: 4026531840, net: 4026532999, uts: 0xeffffffe}, ref, {mnt: 4026531840}), ['net'])
  assert.deepEqual(differingNamespaces(undefined, ref, undefined), [])
})

test('--delay and the cgroup argument are validated', () => {
  assert.equal(parseDelay('0.5'), 0.5)
  assert.equal(parseDelay('2'), 2)
  for (const bad of ['0', '-1', 'abc', '1e3', '', '0.05']) assert.throws(() => parseDelay(bad), /invalid delay/)
  assert.equal(normaliseCgroupPath('system.slice/'), '/system.slice')
  assert.equal(normaliseCgroupPath('//a//b/'), '/a/b')
  assert.equal(normaliseCgroupPath('/'), '/')
  assert.throws(() => normaliseCgroupPath('/a/../b'), /not allowed/)
})

test('the fast path parses the same flags as the oclif command, options anywhere on the line', async () => {
  const {parseTopArgs} = await import('../../src/tui/main.js')
  assert.deepEqual(parseTopArgs(['-b', '-n', '3', '--delay=0.5', '/system.slice', '--sort', 'memory', '--flat']), {
    batch: true,
    iterations: 3,
    delay: '0.5',
    sort: 'memory',
    flat: true,
    json: false,
    cgroup: '/system.slice',
  })
  assert.equal(parseTopArgs(['--json', '--help']), 'help')
  assert.equal((parseTopArgs(['--json']) as {json: boolean}).json, true)
  assert.throws(() => parseTopArgs(['-s', 'size']), /invalid sort key 'size': expected one of cpu, memory, io, pids, name/)
  assert.throws(() => parseTopArgs(['-n', '0']), /invalid iterations '0'/)
  assert.throws(() => parseTopArgs(['/a', '/b']), /unexpected argument: \/b/)
  assert.throws(() => parseTopArgs(['--bogus']), /bogus/)
})

test('a cgroup name with control characters (a delegated user chose it) reaches neither the dashboard nor batch text raw', async () => {
  const evil = '/user.slice/\x1b]0;owned\x07\x1b[8mx'
  const stats = [stat('/', 1, 1), stat('/user.slice', 1, 1), stat(evil, 1, 1)]
  const {renderBatch} = await import('../../src/cgroup/report.js')
  for (const flat of [false, true]) {
    const rows = arrange(stats, {sort: 'name', flat})
    for (const r of rows) assert.doesNotMatch(rowLine(r, fitColumns(200), flat), /[\x00-\x1f\x7f-\x9f]/)
    assert.doesNotMatch(renderBatch(rows, '# header'), /[\x00-\x09\x0b-\x1f\x7f-\x9f]/)
  }
  assert.match(rowLine(arrange(stats, {sort: 'name', flat: true})[2], fitColumns(200), true), /^\/user\.slice\/\\x1b\]0;owned\\x07\\x1b\[8mx /)
})

test('stat figures are parsed from bytes, past a command name holding spaces and parentheses', () => {
  const line = '4242 (a b) (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 731 269 0 0 20 0 1 0 98765 1234567 321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n'
  const out = {ticks: -1, starttime: -1, rss: -1}
  assert.equal(parseStatFigures(Buffer.from(line, 'latin1'), out), true)
  assert.deepEqual(out, {ticks: 731 + 269, starttime: 98765, rss: 321})
  assert.equal(parseStatFigures(Buffer.from('1 (x) S 1 1 1', 'latin1'), out), false)
  assert.equal(parseStatFigures(Buffer.from('no paren', 'latin1'), out), false)
})

test('the process sampler: CPU% from tick deltas of the same process, a reused pid starts afresh, exited ones leave', () => {
  const root = mkdtempSync(join(tmpdir(), 'nsx-procs-'))
  try {
    const stat = (pid: number, comm: string, ticks: number, start: number, rss: number) =>
      writeFileSync(join(root, String(pid), 'stat'), `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 ${ticks} 0 0 0 20 0 1 0 ${start} 1000 ${rss} 0\n`)
    for (const pid of [10, 11, 12]) {
      mkdirSync(join(root, String(pid), 'ns'), {recursive: true})
      writeFileSync(join(root, String(pid), 'cmdline'), `cmd${pid}\0arg\0`)
    }
    writeFileSync(join(root, '11', 'cmdline'), '')
    stat(10, 'ten', 100, 5, 10)
    stat(11, 'kworker (x)', 0, 6, 0)
    stat(12, 'twelve', 50, 7, 20)
    const procs = join(root, 'cgroup.procs')
    writeFileSync(procs, '10\n11\n12\n')
    const sampler = new ProcessSampler(root)
    try {
      const first = sampler.sample(procs)
      assert.deepEqual(first.map((p) => [p.pid, p.command, p.cpuPercent]), [
        [12, 'cmd12 arg', null],
        [10, 'cmd10 arg', null],
        [11, '[kworker (x)]', null],
      ])
      assert.equal(first[0].rssBytes, 20 * 4096)
      stat(10, 'ten', 10_000, 5, 10) // busy
      stat(12, 'other', 60, 99, 30) // pid 12 reused: a new start time
      writeFileSync(procs, '10\n12\n') // 11 exited
      const second = sampler.sample(procs)
      assert.deepEqual(second.map((p) => p.pid), [10, 12])
      assert.ok(second[0].cpuPercent !== null && second[0].cpuPercent > 0)
      assert.equal(second[1].cpuPercent, null)
      assert.equal(second[1].rssBytes, 30 * 4096)
      assert.equal(sampler.sample(procs, 1).length, 1)
    } finally {
      sampler.close()
    }
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
})

/**
 * A fixture /proc with these pids (each with a command line "cmdPID" and a stat line whose
 * CPU time `stat` sets), their cgroup.procs, and a sampler over them; all removed after.
 */
function withProcesses(pids: number[], fn: (f: {stat(pid: number, ticks: number): void; procs: string; root: string; sampler: ProcessSampler}) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'nsx-procs-'))
  try {
    const stat = (pid: number, ticks: number) =>
      writeFileSync(join(root, String(pid), 'stat'), `${pid} (comm${pid}) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 ${ticks} 0 0 0 20 0 1 0 77 1000 5 0\n`)
    for (const pid of pids) {
      mkdirSync(join(root, String(pid), 'ns'), {recursive: true})
      writeFileSync(join(root, String(pid), 'cmdline'), `cmd${pid}\0`)
      stat(pid, 100)
    }
    const procs = join(root, 'cgroup.procs')
    writeFileSync(procs, pids.map((p) => `${p}\n`).join(''))
    const sampler = new ProcessSampler(root)
    try {
      fn({stat, procs, root, sampler})
    } finally {
      sampler.close()
    }
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
}

test('a process idle for its last readings is read every few refreshes only, and is still listed; once it runs it is read every refresh again', () => {
  withProcesses([20, 21], ({stat, procs, sampler}) => {
    let busy = 100
    const cpuOf = (list: {pid: number; cpuPercent: number | null}[], pid: number) => list.find((p) => p.pid === pid)?.cpuPercent
    // A first sight, then QUIET_AFTER readings in which pid 20 does not move.
    for (let i = 0; i <= QUIET_AFTER; i++) {
      stat(21, (busy += 10))
      const list = sampler.sample(procs)
      assert.equal(sampler.listed, 2)
      if (i > 0) assert.ok(cpuOf(list, 21)! > 0, 'the busy one is read every refresh')
    }
    // Now it runs: the sampler sees it within QUIET_EVERY refreshes (refresh 7 here, as
    // refreshes are staggered by pid), listed all along with its carried 0%.
    stat(20, 150)
    const seen: (number | null | undefined)[] = []
    for (let i = 0; i < QUIET_EVERY; i++) {
      stat(21, (busy += 10))
      const list = sampler.sample(procs)
      assert.equal(list.length, 2)
      assert.ok(cpuOf(list, 21)! > 0)
      seen.push(cpuOf(list, 20))
    }
    assert.deepEqual(seen.slice(0, QUIET_EVERY - 1), Array(QUIET_EVERY - 1).fill(0))
    assert.ok(seen[QUIET_EVERY - 1]! > 0, 'its CPU since the reading before, once read')
    // Having moved, it is read every refresh again.
    stat(20, 160)
    assert.ok(cpuOf(sampler.sample(procs), 20)! > 0)
    // A quiet process that leaves the cgroup leaves the list at once.
    for (let i = 0; i < QUIET_AFTER + 1; i++) sampler.sample(procs)
    writeFileSync(procs, '21\n')
    assert.deepEqual(sampler.sample(procs).map((p) => p.pid), [21])
    assert.equal(sampler.listed, 1)
    assert.equal(sampler.sample(procs, 0).length, 0, 'at most `limit` returned')
    assert.equal(sampler.listed, 1, 'but all counted')
  })
})

test('command lines and namespaces are read for the processes shown, when they are first shown, not for every process listed', () => {
  withProcesses([30, 31], ({stat, procs, root, sampler}) => {
    stat(30, 500)
    assert.deepEqual(sampler.sample(procs, 1).map((p) => p.command), ['cmd30'])
    stat(30, 510)
    assert.deepEqual(sampler.sample(procs, 1).map((p) => p.command), ['cmd30'])
    // 31 was listed but never shown: its command line was never read. Gone now, the name
    // from its stat line stands in once it is shown.
    rmSync(join(root, '31', 'cmdline'))
    stat(31, 1000)
    assert.deepEqual(sampler.sample(procs, 1).map((p) => [p.pid, p.command]), [[31, '[comm31]']])
    assert.equal(sampler.listed, 2)
  })
})
