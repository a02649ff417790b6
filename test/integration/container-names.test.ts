import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, NSX_BIN} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {Tmux} from '../helpers/tmux.js'

/**
 * A container's name (or a unique prefix of its id) works wherever a pid does, and `nsx top`
 * shows each container as one row with its name, CPU%, memory, limits and pids, on this
 * machine's cgroup layout (hybrid on the test machines: memory and pids in v1 hierarchies,
 * below a memory cgroup of nsx's that is another path than its cgroup2 one).
 */
const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-names-') : undefined

interface PsEntry {
  name: string
  id: string
  pid: number
}

/** A detached container spinning one busy loop, with memory, CPU and pids limits; stopped afterwards. */
function busyContainer(t: {after(fn: () => void): void}, f: Fixture, name: string): PsEntry {
  t.after(() => f.nsx(['stop', '-t', '0', name]))
  const r = f.nsx(['run', '-d', '--name', name, '-m', '64m', '--cpus', '0.5', '--pids-limit', '50', '--layer', f.base, '--', 'sh', '-c', 'while :; do :; done'])
  assert.equal(r.status, 0, r.stderr)
  const e = (JSON.parse(f.nsx(['ps', '--json']).stdout) as PsEntry[]).find((x) => x.name === name)
  assert.ok(e, `${name} in nsx ps`)
  return e
}

/** The shortest prefix of at least 7 characters with a letter in it. */
function idPrefixWithLetter(id: string): string {
  const i = id.search(/[a-f]/)
  return id.slice(0, Math.max(7, i + 1))
}

interface TopJson {
  cgroups: {
    path: string
    container: {name: string; id: string} | null
    cpu: {percent: number | null; usageUsec: number | null; quotaUsec: number | null}
    memory: {usageBytes: number | null; limitBytes: number | null}
    pids: {current: number | null; max: number | null}
    tasks: number | null
  }[]
}

test('inspect, pstree, uidmap and ls -p take a container name or id prefix and show what they show for its init pid', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const e = busyContainer(t, f, 'names1')
  // A prefix with a letter in it: digits alone are a pid to these commands.
  const prefix = idPrefixWithLetter(e.id)
  for (const ref of ['names1', prefix]) {
    const inspect = f.nsx(['inspect', ref, '--json'])
    assert.equal(inspect.status, 0, inspect.stderr)
    assert.equal(JSON.parse(inspect.stdout).pid, e.pid, `inspect ${ref}`)
    // As root, what a kernel rule denies is in the JSON only, by name as by pid (by name it said "permission denied reading 1 process").
    if (process.getuid?.() === 0) assert.equal(f.nsx(['inspect', ref]).stderr, '', `inspect ${ref}: stderr`)
    const uidmap = f.nsx(['uidmap', ref, '--json'])
    assert.equal(uidmap.status, 0, uidmap.stderr)
    assert.deepEqual(JSON.parse(uidmap.stdout), JSON.parse(f.nsx(['uidmap', String(e.pid), '--json']).stdout), `uidmap ${ref}`)
    const pstree = f.nsx(['pstree', ref])
    assert.equal(pstree.status, 0, pstree.stderr)
    assert.match(pstree.stdout, new RegExp(`nsx-init\\(${e.pid}/1\\)`), `pstree ${ref}`)
    assert.equal(pstree.stdout, f.nsx(['pstree', String(e.pid)]).stdout)
    const ls = f.nsx(['ls', '-p', ref, '--json'])
    assert.equal(ls.status, 0, ls.stderr)
    const byPid = f.nsx(['ls', '-p', String(e.pid), '--json'])
    const inodes = (out: string) => (JSON.parse(out).namespaces as {ns: number}[]).map((n) => n.ns).sort()
    assert.deepEqual(inodes(ls.stdout), inodes(byPid.stdout), `ls -p ${ref}`)
  }
  // Neither a pid nor a container: one line, exit 1, for each.
  for (const args of [['inspect', 'no-such-ctr'], ['pstree', 'no-such-ctr'], ['uidmap', 'no-such-ctr'], ['ls', '-p', 'no-such-ctr']]) {
    assertOneLineError(f.nsx(args), 1, /no such process or container: no-such-ctr/)
  }
})

test('nsx top: a container with -m, --cpus and --pids-limit is one row, named, with its CPU%, memory, limits and pids (batch, JSON, by name)', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const e = busyContainer(t, f, 'top1')
  const leaf = `nsx-top1-${e.id.slice(0, 8)}`
  // Two readings a second apart: the CPU% is over that interval.
  const all = f.nsx(['top', '--json', '--flat', '--delay', '1'])
  assert.equal(all.status, 0, all.stderr)
  const rows = (JSON.parse(all.stdout) as TopJson).cgroups.filter((c) => c.path.endsWith(leaf) || c.container?.name === 'top1')
  assert.equal(rows.length, 1, `one row for the container, not one per hierarchy: ${rows.map((r) => r.path).join(', ')}`)
  const row = rows[0]
  assert.deepEqual(row.container, {name: 'top1', id: e.id.slice(0, 8)})
  // A figure, not '-' (it was null here: no cpuacct cgroup); its size depends on the machine's load.
  assert.ok(row.cpu.percent !== null && row.cpu.percent >= 0, `CPU% ${row.cpu.percent}`)
  assert.ok(row.cpu.usageUsec !== null && row.cpu.usageUsec > 0, `CPU time ${row.cpu.usageUsec}`)
  assert.equal(row.cpu.quotaUsec, 50000)
  assert.ok(row.memory.usageBytes !== null && row.memory.usageBytes > 0, `memory ${row.memory.usageBytes}`)
  assert.equal(row.memory.limitBytes, 64 * 1024 * 1024)
  assert.ok(row.pids.current !== null && row.pids.current >= 2, `pids ${row.pids.current}`)
  assert.equal(row.pids.max, 50)
  assert.ok(row.tasks !== null && row.tasks >= 2)
  // By name and by id prefix: that container alone.
  // nsx top takes no pid: an id prefix of digits alone is one too (a tenth of the time, 6 digits).
  for (const ref of ['top1', e.id.slice(0, 6), idPrefixWithLetter(e.id)]) {
    const one = f.nsx(['top', '--json', ref])
    assert.equal(one.status, 0, one.stderr)
    const only = (JSON.parse(one.stdout) as TopJson).cgroups
    assert.deepEqual(only.map((c) => c.container?.name), ['top1'], `nsx top ${ref}`)
    assert.equal(only[0].memory.limitBytes, 64 * 1024 * 1024)
  }
  // The batch table: one line for it, with figures, not dashes.
  const batch = f.nsx(['top', '--batch', '--iterations', '1', '--flat'])
  assert.equal(batch.status, 0, batch.stderr)
  const lines = batch.stdout.split('\n').filter((l) => l.includes(leaf))
  assert.equal(lines.length, 1, batch.stdout)
  const cols = lines[0].trim().split(/\s+/)
  assert.notEqual(cols[2], '-', `CPU% in ${lines[0]}`)
  assert.match(lines[0], / 50000\/100000 /)
  assert.match(lines[0], / 67108864 /)
  assertOneLineError(f.nsx(['top', '--json', 'no-such-ctr']), 1, /no such cgroup or running container: no-such-ctr/)
})

test('nsx top at 80x24: the container row keeps its name and limits, no value is cut, long names keep their indentation, the help stays inside its border', async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'tmux', 'tmux')) return
  const f = fx!
  busyContainer(t, f, 'tui1')
  const long = 'tui-a-container-name-longer-than-the-name-column'
  busyContainer(t, f, long)
  const tmp = mkdtempSync(join(tmpdir(), 'nsx-names-tui-'))
  const tm = new Tmux(tmp)
  t.after(() => {
    tm.kill()
    rmSync(tmp, {recursive: true, force: true})
  })
  tm.start(`env NSX_ROOT='${f.store}' TERM=xterm-256color LANG=C.UTF-8 '${process.execPath}' '${NSX_BIN}' top --delay 0.5; sleep 5`, 80, 24)
  // Filtered down to the containers: both rows on screen whatever else runs here.
  // Keys typed before the dashboard has the terminal in raw mode would reach the line discipline.
  await tm.waitFor('the table', (s) => s.includes('CGROUP'))
  tm.keys('/', ...'tui'.split(''), 'Enter')
  const screen = await tm.waitFor('the container rows with figures', (s) => /^\s+tui1\s+\d+\s+\d/m.test(s) && s.includes('…') && / filter: tui$/m.test(s))
  const lines = screen.split('\n')
  const header = lines.find((l) => l.startsWith('CGROUP'))!
  for (const h of ['TASKS', 'CPU%', 'CPU-LIM', 'MEMORY', 'MEM-LIM', 'PIDS']) assert.match(header, new RegExp(` ${h}(\\s|$)`), `${h} at 80 columns: ${header}`)
  assert.ok(header.length <= 80)
  const row = lines.find((l) => /^\s+tui1\s/.test(l))!
  assert.match(row, / 50% /, `CPU-LIM: ${row}`)
  assert.match(row, / 64M /, `MEM-LIM: ${row}`)
  assert.match(row, / \d+\/50$/, `PIDS whole at the end: ${row}`)
  // The long name: indented below its parent as tui1 is, shortened from the left.
  const longRow = lines.find((l) => l.includes('…') && l.includes('name-column'))
  assert.ok(longRow, screen)
  assert.equal(/^\s*/.exec(longRow)![0].length, /^\s*/.exec(row)![0].length, `indentation kept:\n${row}\n${longRow}`)
  // j selects the first container below /: its charts are labelled with its name too.
  tm.keys('j')
  await tm.waitFor('the charts of a container', (s) => /CPU % (container tui1 |\S*-name-column )/.test(s))
  // The help box: one blank column inside each border, on every line.
  tm.keys('?')
  const help = await tm.waitFor('the help', (s) => s.includes('nsx top keys'))
  const hl = help.split('\n')
  const top = hl.findIndex((l) => l.includes(' help '))
  const left = hl[top].indexOf(' help ') - 2
  const right = hl[top].lastIndexOf(hl[top][left + 1] === 'q' ? 'k' : '┐')
  assert.ok(right > left + 40, `the box: ${hl[top]}`)
  let checked = 0
  for (let y = top + 1; hl[y] !== undefined; y++) {
    const inner = hl[y].slice(left + 1, right)
    if (/^[mq└─]/.test(inner)) break
    assert.equal(inner[0], ' ', `left padding on line ${y}: ${hl[y]}`)
    assert.equal(inner[inner.length - 1], ' ', `right padding on line ${y}: ${hl[y]}`)
    checked++
  }
  assert.ok(checked >= 15, `${checked} lines of help checked:\n${help}`)
  tm.keys('q')
})
