import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO, nsx, assertOneLineError} from '../helpers/env.js'
import {INITIAL_INODES, decideHost, HostReference, kernelNumbersNetMnt} from '../../src/ns/host.js'
import {verdictFor} from '../../src/inspect/verdict.js'
import {pairNspid, NamespaceEntry} from '../../src/inspect/namespaces.js'
import {gatherReport, InspectReport} from '../../src/inspect/report.js'
import {renderReport} from '../../src/inspect/render-report.js'
import {gatherUidmap} from '../../src/inspect/uidmap.js'
import {renderUidmap} from '../../src/inspect/render-uidmap.js'
import {palette} from '../../src/render/colour.js'
import {NsxError} from '../../src/cli/errors.js'
import {refuseZombie} from '../../src/inspect/target.js'
import {parseStatus} from '../../src/proc/process.js'

const FIXTURES = join(REPO, 'test/unit/fixtures/inspect')
const tree = (name: string) => ({procRoot: join(FIXTURES, name, 'proc'), sysRoot: join(FIXTURES, name, 'sys')})

const OLD_KERNEL_REF: HostReference = {
  pid: 2,
  name: 'kthreadd',
  why: 'test',
  links: {net: 4026531992, mnt: 4026531840, pid: INITIAL_INODES.pid, user: INITIAL_INODES.user},
}

test('a fixed initial inode proves a host namespace, and any other inode disproves it for uts, ipc, user, pid, cgroup, time', () => {
  assert.deepEqual(decideHost('uts', INITIAL_INODES.uts, undefined, undefined), {host: true, basis: 'fixed-inode'})
  assert.deepEqual(decideHost('pid', 4026532300, undefined, undefined), {host: false, basis: 'fixed-inode'})
  assert.deepEqual(decideHost('net', INITIAL_INODES.net, undefined, undefined), {host: true, basis: 'fixed-inode'})
})

test('on kernels before fixed net and mnt inodes, net and mnt are compared with the reference kernel thread', () => {
  assert.deepEqual(decideHost('net', 4026531992, OLD_KERNEL_REF, undefined), {host: true, basis: 'reference-process'})
  assert.deepEqual(decideHost('mnt', 4026532500, OLD_KERNEL_REF, undefined), {host: false, basis: 'reference-process'})
})

test('without a reference, net and mnt are undetermined unless nsx\'s own namespaces show the kernel numbers them', () => {
  assert.deepEqual(decideHost('net', 4026532500, undefined, undefined), {host: null, basis: null})
  assert.deepEqual(decideHost('net', 4026532500, undefined, {net: INITIAL_INODES.net}), {host: false, basis: 'kernel-has-fixed-inode'})
})

test('on a kernel that numbers net and mnt, a dynamic inode is never the host\'s, even when the reference process (a container\'s pid 1) shares it', () => {
  const containerInit: HostReference = {pid: 1, name: 'sh', why: 'test', links: {mnt: 4026532272, net: INITIAL_INODES.net}}
  // nsx inside the container: its own net is the host's fixed one, its mnt the container's.
  const own = {mnt: 4026532272, net: INITIAL_INODES.net}
  assert.deepEqual(decideHost('mnt', 4026532272, containerInit, own), {host: false, basis: 'kernel-has-fixed-inode'})
  // No fixed inode in sight (new net and mnt for nsx too): the kernel release says so.
  const blind: HostReference = {pid: 1, name: 'sh', why: 'test', links: {mnt: 4026532272, net: 4026532275}}
  assert.deepEqual(decideHost('net', 4026532275, blind, {mnt: 4026532272, net: 4026532275}, true), {host: false, basis: 'kernel-has-fixed-inode'})
  assert.deepEqual(decideHost('net', 4026532275, blind, {mnt: 4026532272, net: 4026532275}, false), {host: true, basis: 'reference-process'})
})

test('kernelNumbersNetMnt reads the release from the proc tree: 6.18 and later', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nsx-osrelease-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  assert.equal(kernelNumbersNetMnt(root), false, 'unknown release')
  mkdirSync(join(root, 'sys/kernel'), {recursive: true})
  for (const [release, numbers] of [['6.18.44-fc-v595', true], ['6.17.9', false], ['7.0.0', true], ['5.15.0-91-generic', false]] as const) {
    writeFileSync(join(root, 'sys/kernel/osrelease'), `${release}\n`)
    assert.equal(kernelNumbersNetMnt(root), numbers, release)
  }
})

const entry = (type: NamespaceEntry['type'], host: boolean | null): NamespaceEntry => ({type, inode: 1, host, hostBasis: null, processes: 1, otherHolders: 0, owner: null})

test('the verdict names the non-host namespaces in docker\'s order, or says host process', () => {
  const all = (['mnt', 'net', 'pid', 'user', 'uts', 'ipc', 'cgroup', 'time'] as const).map((t) => entry(t, true))
  assert.equal(verdictFor(all).line, 'host process')
  const container = all.map((e) => (['pid', 'net', 'mnt', 'uts', 'ipc'].includes(e.type) ? {...e, host: false} : e))
  const v = verdictFor(container)
  assert.equal(v.line, 'isolated: pid, net, mnt, uts, ipc')
  assert.deepEqual(v.isolated, ['pid', 'net', 'mnt', 'uts', 'ipc'])
  const unsure = all.map((e) => (e.type === 'net' ? {...e, host: null} : e))
  assert.equal(verdictFor(unsure).line, 'host process (not determined: net)')
})

test('NSpid is paired with pid namespaces from the innermost end', () => {
  assert.deepEqual(pairNspid([4242, 7, 1], [30, 20, 10]), [
    {pid: 4242, pidns: 10},
    {pid: 7, pidns: 20},
    {pid: 1, pidns: 30},
  ])
  // Only the process's own pid namespace known (fixture trees): the outer levels stay unknown.
  assert.deepEqual(pairNspid([4242, 7, 1], [30]), [
    {pid: 4242, pidns: null},
    {pid: 7, pidns: null},
    {pid: 1, pidns: 30},
  ])
})

test('v2-only host: a container process is isolated in all but time, with its cgroup2 directory and docker capabilities', () => {
  const r = gatherReport('4242', tree('v2-only'))
  assert.equal(r.verdict, 'isolated: user, pid, net, mnt, uts, ipc, cgroup')
  assert.equal(r.cgroups.mode, 'v2')
  assert.deepEqual(
    r.cgroups.memberships.map((m) => [m.version, m.path, m.directory]),
    [[2, '/system.slice/docker-4242abc.scope', join(FIXTURES, 'v2-only/sys/fs/cgroup/system.slice/docker-4242abc.scope')]],
  )
  // 4242 and its worker 4243 share every namespace; time is the host's, shared by all five processes.
  const byType = new Map(r.namespaces.map((n) => [n.type, n]))
  assert.equal(byType.get('net')?.processes, 2)
  assert.equal(byType.get('time')?.processes, 5)
  assert.equal(byType.get('time')?.host, true)
  assert.deepEqual(
    r.nspid.map((l) => l.pid),
    [4242, 7, 1],
  )
  assert.equal(r.capabilities.effective.names.length, 14)
  assert.equal(r.capabilities.bounding.full, false)
  assert.deepEqual(r.seccomp, {mode: 'filter', filters: 1})
  assert.equal(r.noNewPrivs, true)
  assert.equal(r.cwd, '/srv/www')
  assert.equal(r.command, 'nginx: master process nginx -g daemon off;')
  assert.deepEqual(r.userns.levels[0].uidMap?.asRead, [{inside: 0, outside: 100000, count: 65536}])
  assert.equal(r.userns.levels[0].setgroups, 'deny')
  assert.equal(r.uts, null)
  assert.match(r.utsError ?? '', /fixture/)
})

test('v2-only host: a host process gets the verdict "host process" and a note that it is root on the host', () => {
  const r = gatherReport('1', tree('v2-only'))
  assert.equal(r.verdict, 'host process')
  assert.deepEqual(r.isolated, [])
  assert.ok(r.notes.some((n) => /root on the host/.test(n)), r.notes.join('; '))
  assert.equal(r.capabilities.effective.summary, 'all 41')
})

test('v1-only host on an older kernel: net and mnt are told apart through kthreadd, time is absent, 38 capabilities', () => {
  const r = gatherReport('3100', tree('v1-only'))
  assert.equal(r.verdict, 'isolated: net, mnt')
  assert.deepEqual(
    r.namespaces.map((n) => n.type),
    ['mnt', 'net', 'pid', 'user', 'uts', 'ipc', 'cgroup'],
  )
  const net = r.namespaces.find((n) => n.type === 'net')!
  assert.equal(net.hostBasis, 'reference-process')
  assert.equal(r.hostReference?.name, 'kthreadd')
  assert.equal(r.cgroups.mode, 'v1')
  const v1 = join(FIXTURES, 'v1-only/sys/fs/cgroup')
  const dirs = new Map(r.cgroups.memberships.map((m) => [m.controllers.join(','), m.directory]))
  assert.equal(dirs.get('memory'), `${v1}/memory/user.slice/user-1000.slice`)
  assert.equal(dirs.get('cpu,cpuacct'), `${v1}/cpu,cpuacct/user.slice`)
  assert.equal(dirs.get('name=systemd'), `${v1}/systemd/user.slice/user-1000.slice/session-3.scope`)
  assert.equal(dirs.get('perf_event'), `${v1}/perf_event`)
  assert.equal(r.capabilities.bounding.summary, 'all 38')
  assert.equal(r.capabilities.effective.summary, 'none')
})

test('kernel threads and missing pids are refused with one clear message', () => {
  assert.throws(() => gatherReport('2', tree('v2-only')), (e: unknown) => e instanceof NsxError && /kernel thread/.test(e.message))
  assert.throws(() => gatherReport('77', tree('v2-only')), (e: unknown) => e instanceof NsxError && /no such process: 77/.test(e.message))
  assert.throws(() => gatherReport('-5', tree('v2-only')), (e: unknown) => e instanceof NsxError && /invalid pid/.test(e.message))
})

test('bin/nsx inspect on a fixture tree: --json carries the report, the table shows the verdict, bad pids fail in one line', () => {
  const env = {NSX_PROC_ROOT: tree('v2-only').procRoot, NSX_SYS_ROOT: tree('v2-only').sysRoot}
  const json = nsx(['inspect', '4242', '--json'], {env})
  assert.equal(json.status, 0, json.stderr)
  const r = JSON.parse(json.stdout) as InspectReport
  assert.equal(r.verdict, 'isolated: user, pid, net, mnt, uts, ipc, cgroup')
  assert.equal(r.capabilities.effective.hex, '00000000a80425fb')
  const text = nsx(['inspect', '4242'], {env})
  assert.equal(text.status, 0, text.stderr)
  assert.match(text.stdout, /^verdict\s+isolated: user, pid, net, mnt, uts, ipc, cgroup$/m)
  assert.match(text.stdout, /^seccomp\s+filter \(1 filter\)$/m)
  assert.doesNotMatch(text.stdout, /\u001b\[/, 'no colour when stdout is not a terminal')
  assertOneLineError(nsx(['inspect', '2'], {env}), 1, /kernel thread/)
  assertOneLineError(nsx(['inspect', 'abc'], {env}), 1, /no such process or container: abc/)
  assertOneLineError(nsx(['inspect'], {env}), 1, /missing pid/)
})

test('a hostile process cannot drive the terminal: control characters in its name, command line, hostname, paths and cgroup are escaped in the text', () => {
  const r = gatherReport('4242', tree('v2-only'))
  const esc = '\u001b]0;owned\u0007'
  const evil: InspectReport = {
    ...r,
    name: `n${esc}`,
    command: `c${esc}\nforged`,
    uts: {hostname: `h${esc}`, domainname: '(none)'},
    root: `/r${esc}`,
    cwd: `/w${esc}`,
    cgroups: {mode: r.cgroups.mode, memberships: r.cgroups.memberships.map((m) => ({...m, path: `/p${esc}`, directory: `/d${esc}`}))},
  }
  const text = renderReport(evil, palette({isTTY: false}))
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'a raw control character reached the output')
  for (const s of ['n\\x1b]0;owned\\x07', 'c\\x1b]0;owned\\x07\\x0aforged', 'h\\x1b]0;owned\\x07', '/r\\x1b]0;owned\\x07', '/w\\x1b]0;owned\\x07', '/p\\x1b]0;owned\\x07', '/d\\x1b]0;owned\\x07']) {
    assert.ok(text.includes(s), `${s} missing from:\n${text}`)
  }
  const u = gatherUidmap('4242', {procRoot: tree('v2-only').procRoot})
  assert.match(renderUidmap({...u, name: `n${esc}`}, palette({isTTY: false})), /^pid 4242 \(n\\x1b\]0;owned\\x07\): /)
})

test('a zombie is refused as exited, but a zombie leader whose threads still run is not called exited', () => {
  const status = (threads: number) => parseStatus(`Name:\tpython3\nState:\tZ (zombie)\nTgid:\t6616\nPid:\t6616\nPPid:\t6610\nThreads:\t${threads}\n`)
  assert.throws(() => refuseZombie(6616, status(1)), /^NsxError: process 6616 \(python3\) is a zombie: it has exited and holds no namespaces \(its parent 6610 has not reaped it\)$/)
  assert.throws(() => refuseZombie(6616, status(3)), (e: unknown) => e instanceof NsxError && /main thread has exited.*2 other threads still run \(nsx ls -p 6616/.test(e.message) && !/is a zombie/.test(e.message))
})
