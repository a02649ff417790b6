import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {NSX_BIN} from '../helpers/env.js'
import {cgroupsNamed, containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {waitFor} from '../helpers/processes.js'
import type {CgroupJson} from '../../src/cgroup/report.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-groups-') : undefined

function memTotal(): number {
  return Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024
}

test('the university server: professors and students groups, a container in each, an update while they run, top shows them, rm leaves nothing', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const groupDirs: string[] = []
  const children: ReturnType<typeof spawn>[] = []
  t.after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    for (const c of children) if (c.exitCode === null) await new Promise((r) => c.on('exit', r))
    f.nsx(['group', 'rm', '-f', 'students', 'professors'])
    // Whatever failed above, no cgroup of this test stays.
    for (const d of groupDirs) assert.equal(existsSync(d), false, `${d} left behind`)
  })
  const mk = f.nsx(['group', 'create', 'professors', '--memory', '50%', '--cpu-shares', '1024'])
  assert.equal(mk.status, 0, mk.stderr)
  assert.equal(f.nsx(['group', 'create', 'students', '--memory', '30%', '--cpu-shares', '512']).status, 0)
  const dup = f.nsx(['group', 'create', 'students'])
  assert.equal(dup.status, 1)
  assert.equal(dup.stderr, 'nsx group create: group students exists already\n')

  const inspect = (name: string) => JSON.parse(f.nsx(['group', 'inspect', name]).stdout) as {limits: {memory: number; cpuShares: number}; percent: {memory?: string}; cgroups: string[]; containers: string[]}
  const prof = inspect('professors')
  const stud = inspect('students')
  groupDirs.push(...prof.cgroups, ...stud.cgroups)
  const page = (n: number) => Math.floor(n / 4096) * 4096
  assert.equal(prof.limits.memory, page(memTotal() * 0.5))
  assert.equal(prof.percent.memory, '50%')
  assert.equal(stud.limits.memory, page(memTotal() * 0.3))
  const dirOf = (g: {cgroups: string[]}, ctrl: string) => g.cgroups.find((d) => d.startsWith(`/sys/fs/cgroup/${ctrl}/`))!
  // In the kernel's files, below this test's own cgroup.
  assert.equal(readFileSync(`${dirOf(prof, 'memory')}/memory.limit_in_bytes`, 'utf8').trim(), String(prof.limits.memory))
  assert.equal(readFileSync(`${dirOf(stud, 'memory')}/memory.limit_in_bytes`, 'utf8').trim(), String(stud.limits.memory))
  assert.equal(readFileSync(`${dirOf(prof, 'cpu')}/cpu.shares`, 'utf8').trim(), '1024')
  assert.equal(readFileSync(`${dirOf(stud, 'cpu')}/cpu.shares`, 'utf8').trim(), '512')

  const start = async (name: string, group: string) => {
    const c = spawn(process.execPath, [NSX_BIN, 'run', '--name', name, '--group', group, '--layer', f.base, '--', 'probe', 'wait-signal'], {env: f.env, stdio: ['ignore', 'pipe', 'pipe']})
    children.push(c)
    let out = ''
    let err = ''
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    await waitFor(() => out.includes('ready') || c.exitCode !== null, 15000, `container ${name}`)
    assert.equal(c.exitCode, null, err)
    return c
  }
  await start('prof1', 'professors')
  const s1 = await start('stud1', 'students')
  // Each container's cgroups are inside its group's, in every hierarchy the group has.
  const inside = (name: string, g: {cgroups: string[]}) => {
    const dirs = cgroupsNamed(name)
    assert.ok(dirs.length >= 3, String(dirs))
    for (const d of dirs) assert.ok(g.cgroups.includes(d.slice(0, d.lastIndexOf('/'))), `${d} is not directly below one of ${g.cgroups}`)
    return dirs
  }
  inside('prof1', prof)
  inside('stud1', stud)
  assert.deepEqual(inspect('students').containers, ['stud1'])
  const ls = f.nsx(['group', 'ls'])
  assert.match(ls.stdout, /^professors\s+-\s+\d+MiB \(50%\)\s+-\s+1024\s+prof1$/m)

  // An update while they run.
  const up = f.nsx(['group', 'update', 'students', '--memory', '20%'])
  assert.equal(up.status, 0, up.stderr)
  assert.equal(readFileSync(`${dirOf(stud, 'memory')}/memory.limit_in_bytes`, 'utf8').trim(), String(page(memTotal() * 0.2)))
  assert.equal(inspect('students').percent.memory, '20%')

  // nsx top: both groups, each with its container below it.
  const top = f.nsx(['top', '--batch', '--json', '-n', '1'])
  assert.equal(top.status, 0, top.stderr)
  const rows = (JSON.parse(top.stdout.trim().split('\n')[0]) as {cgroups: CgroupJson[]}).cgroups
  for (const [group, ctr] of [['professors', 'prof1'], ['students', 'stud1']]) {
    // One row per group (its memory cgroup is at another path on this host), with its limits.
    const mine = rows.filter((r) => r.path.endsWith(`/nsx-group-${group}`))
    assert.equal(mine.length, 1, `rows for group ${group}: ${mine.map((r) => r.path).join(' ')}`)
    const g = mine[0]
    assert.equal(g.group, group)
    assert.equal(g.memory.limitBytes, inspect(group).limits.memory)
    assert.ok(g.memory.usageBytes !== null, 'its usage beside its limit')
    const c = rows.find((r) => r.container?.name === ctr)
    assert.ok(c && c.path.startsWith(`${g!.path}/`), `container ${ctr} at ${c?.path}, not below ${g!.path}`)
  }

  // rm: refused with a container inside; -f stops it first; nothing is left.
  const busy = f.nsx(['group', 'rm', 'professors'])
  assert.equal(busy.status, 1)
  assert.match(busy.stderr, /^nsx group rm: group professors has running containers \(prof1\): stop them first, or use -f\n$/)
  const rm = f.nsx(['group', 'rm', '-f', 'students', 'professors'])
  assert.equal(rm.status, 0, rm.stderr)
  assert.notEqual(s1.exitCode === null ? await new Promise((r) => s1.on('exit', r)) : s1.exitCode, undefined)
  for (const d of groupDirs) assert.equal(existsSync(d), false, `${d} left`)
  assert.deepEqual([...cgroupsNamed('prof1'), ...cgroupsNamed('stud1')], [])
  assert.equal(f.nsx(['group', 'ls', '--json']).stdout.trim(), '[]')
})
