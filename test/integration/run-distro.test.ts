import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, needCommand, NSX_BIN, run, skipOrFail} from '../helpers/env.js'
import {assertContainerGone, cgroupsNamed, containerToolsPresent, Fixture, hostMountsMentioning, makeFixture, needContainerTools, processesMentioning} from '../helpers/container.js'
import {waitFor} from '../helpers/processes.js'
import {hostResolvConf} from '../../src/container/etc-files.js'
import {readCgroupLayout} from '../../src/cgroup/hierarchy.js'

/**
 * What a distribution expects of its container (issue 19): generated /etc/hosts,
 * /etc/hostname and /etc/resolv.conf; an init holding the container's restrictions,
 * environment and a short command line; `-it` without a terminal; SIGTERM to a
 * foreground run. The Debian rootfs test is in run-debian.test.ts.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-distro-') : undefined
function fixture(): Fixture {
  if (!fx) throw new Error('no fixture: needContainerTools should have stopped this test')
  return fx
}

function runIn(args: string[], argv: string[], opts: {input?: string; env?: NodeJS.ProcessEnv} = {}) {
  const f = fixture()
  return f.nsx(['run', '--layer', f.base, ...args, '--', ...argv], opts)
}

const assertGone = assertContainerGone

/** The containers in the store (kept ones included): what a failed run must not add to. */
const containerDirs = (f: Fixture) => (existsSync(join(f.store, 'run')) ? readdirSync(join(f.store, 'run')) : [])

test("/etc/hosts, /etc/hostname and /etc/resolv.conf are the container's own, bound from its directory; --hostname, --add-host and --dns* feed them", (t) => {
  if (!needContainerTools(t)) return
  const r = runIn(
    ['--rm', '--name', 'etc1', '--hostname', 'box', '--add-host', 'db:10.0.0.5', '--add-host', 'v6:fd00::1', '--dns', '192.0.2.53', '--dns-search', 'example.com', '--dns-option', 'ndots:2'],
    ['sh', '-c', 'cat /etc/hosts; echo ==; cat /etc/hostname; echo ==; cat /etc/resolv.conf; echo ==; hostname; echo ==; grep " /etc/" /proc/self/mountinfo'],
  )
  assert.equal(r.status, 0, r.stderr)
  const [hosts, hostname, resolv, uname, mounts] = r.stdout.split('==\n')
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m)
  assert.match(hosts, /^::1\tlocalhost ip6-localhost ip6-loopback$/m)
  assert.match(hosts, /^10\.0\.0\.5\tdb$/m)
  assert.match(hosts, /^fd00::1\tv6$/m)
  // No address of its own (--network none): the hostname and name answer on loopback.
  assert.match(hosts, /^127\.0\.0\.1\tbox etc1$/m)
  assert.equal(hostname, 'box\n')
  assert.equal(uname, 'box\n', '/etc/hostname says what hostname says')
  assert.match(resolv, /^nameserver 192\.0\.2\.53$/m)
  assert.match(resolv, /^search example\.com$/m)
  assert.match(resolv, /^options ndots:2$/m)
  assert.equal(resolv.match(/^nameserver/gm)?.length, 1, '--dns replaces the host nameservers')
  for (const file of ['hosts', 'hostname', 'resolv.conf']) assert.match(mounts, new RegExp(`/run/[0-9a-f]{64}/${file.replace('.', '\\.')} /etc/${file.replace('.', '\\.')} `), `${file} bound`)
  assertGone(fixture(), 'etc1')
})

test("--network host: the host's /etc/hosts and resolvers (systemd-resolved's stub replaced by its upstream file); a volume on /etc/hosts wins", (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const r = runIn(['--network', 'host', '--hostname', 'hh'], ['sh', '-c', 'cat /etc/hosts; echo ==; cat /etc/resolv.conf'])
  assert.equal(r.status, 0, r.stderr)
  const [hosts, resolv] = r.stdout.split('==\n')
  const hostLines = readFileSync('/etc/hosts', 'utf8').split('\n').filter((l) => l.trim() !== '')
  for (const l of hostLines) assert.ok(hosts.split('\n').includes(l), `host line kept: ${l}`)
  assert.match(hosts, /^127\.0\.0\.1\thh/m)
  const servers = (text: string) => text.split('\n').filter((l) => /^nameserver\s/.test(l)).map((l) => l.split(/\s+/)[1])
  assert.deepEqual(servers(resolv), servers(hostResolvConf() ?? ''))
  // docker's order: a -v on /etc/hosts is mounted over the generated one.
  const mine = join(f.dir, 'my-hosts')
  writeFileSync(mine, '10.9.9.9 mine\n')
  const v = runIn(['-v', `${mine}:/etc/hosts:ro`], ['cat', '/etc/hosts'])
  assert.equal(v.stdout, '10.9.9.9 mine\n', v.stderr)
})

test('bad --add-host, --dns, --dns-search, --dns-option, --stop-timeout: one line, 125, nothing created', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const before = containerDirs(f)
  assertOneLineError(runIn(['--add-host', 'nohost'], ['true']), 125, /invalid --add-host 'nohost': expected NAME:IP/)
  assertOneLineError(runIn(['--add-host', 'db:300.1.1.1'], ['true']), 125, /'300\.1\.1\.1' is not an IPv4 or IPv6 address/)
  assertOneLineError(runIn(['--dns', 'resolver'], ['true']), 125, /invalid --dns 'resolver'/)
  assertOneLineError(runIn(['--dns-search', 'a b'], ['true']), 125, /invalid --dns-search/)
  assertOneLineError(runIn(['--dns-option', 'a b'], ['true']), 125, /invalid --dns-option/)
  assertOneLineError(runIn(['--stop-timeout', 'soon'], ['true']), 125, /invalid --stop-timeout 'soon'/)
  assert.deepEqual(containerDirs(f), before)
})

const statusFields = (text: string) => Object.fromEntries(text.split('\n').filter((l) => /^(Cap\w+|NoNewPrivs|Seccomp|Seccomp_filters|Uid|Gid):/.test(l)).map((l) => l.split(':\t')))

test("the init holds exactly the command's capabilities, ids, no_new_privs and seccomp filter; its command line is nsx-init", (t) => {
  if (!needContainerTools(t)) return
  for (const args of [[], ['--cap-drop', 'ALL', '--cap-add', 'KILL'], ['-u', '1000'], ['--privileged']]) {
    const r = runIn(args, ['sh', '-c', 'cat /proc/1/status; echo ==; cat /proc/self/status; echo ==; cat /proc/1/cmdline'])
    assert.equal(r.status, 0, r.stderr)
    const [init, self, cmdline] = r.stdout.split('==\n')
    const a = statusFields(init)
    const b = statusFields(self)
    for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters', 'Uid', 'Gid']) assert.equal(a[k], b[k], `${k} with ${args.join(' ') || 'defaults'}`)
    assert.equal(a.NoNewPrivs, '1')
    assert.equal(a.Seccomp, args.includes('--privileged') ? '0' : '2', 'the default seccomp profile, but with --privileged')
    assert.equal(cmdline, 'nsx-init\0', 'a short command line')
  }
})

test("the init's environment is the container's, never nsx's (not even with --privileged)", async (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  // Every variable of this test's own environment, plus a secret: none may reach /proc/INIT/environ.
  const secret = `NSX_TEST_SECRET_${process.pid}`
  for (const [i, extra] of [[], ['--privileged']].entries()) {
    const name = `envinit${i}`
    const r = f.nsx(['run', '-d', '--name', name, '-e', 'FROM_FLAG=1', ...extra, '--layer', f.base, '--', 'sleep', '60'], {env: {[secret]: 'hunter2'}})
    assert.equal(r.status, 0, r.stderr)
    t.after(() => f.nsx(['stop', '-t', '0', name]))
    const pids = readFileSync(join(f.store, 'run', readlinkSync(join(f.store, 'names', name)), 'pids'), 'utf8').trim().split(/\s+/).map(Number)
    const environ = readFileSync(`/proc/${pids[2]}/environ`, 'utf8').split('\0').filter(Boolean)
    assert.ok(environ.includes('FROM_FLAG=1'), `the container's environment: ${environ.join(' ')}`)
    assert.ok(environ.includes(`HOSTNAME=${name}`))
    const mine = new Set([...Object.entries(process.env).map(([k, v]) => `${k}=${v}`), `${secret}=hunter2`])
    const leaked = environ.filter((e) => mine.has(e) && !/^(PATH|HOME)=/.test(e))
    assert.deepEqual(leaked, [], 'variables of nsx\'s environment in the init')
    assert.equal(readFileSync(`/proc/${pids[2]}/cmdline`, 'utf8'), 'nsx-init\0')
    assert.equal(f.nsx(['stop', '-t', '0', name]).status, 0)
  }
})

test('nsx run -it with a stdin that is not a terminal: "the input device is not a TTY", exit 1, at once', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const before = containerDirs(f)
  const start = Date.now()
  const r = f.nsx(['run', '-it', '--layer', f.base, '--', 'sh'], {input: ''})
  assertOneLineError(r, 1, /the input device is not a TTY/)
  assert.ok(Date.now() - start < 10000, 'at once')
  assert.deepEqual(containerDirs(f), before)
})

test('a SIGTERM to a foreground nsx run ends it as nsx stop does: TERM, then KILL after --stop-timeout; nothing left', async (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const marker = `termgrace-${process.pid}`
  const c = spawn('timeout', ['-s', 'TERM', '3', process.execPath, NSX_BIN, 'run', '--rm', '--name', 'tg', '--stop-timeout', '2', '--layer', f.base, '--', 'sh', '-c', `trap "" TERM; echo up; sleep 60; : ${marker}`], {env: f.env, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((res) => c.on('exit', (code) => res(code)))
  const start = Date.now()
  await waitFor(() => out.includes('up') || c.exitCode !== null, 20000, 'the container')
  await exited
  const took = (Date.now() - start) / 1000
  // timeout's 3 s, the 2 s grace, one second to spare (and some for a loaded machine's start-up).
  assert.ok(took < 3 + 2 + 1 + 3, `ended after ${took} s`)
  assert.ok(took >= 2, `ended after ${took} s: before the grace period`)
  await waitFor(() => processesMentioning(marker).length === 0, 5000, 'the container to be gone')
  await waitFor(() => !existsSync(join(f.store, 'names', 'tg')), 5000, 'the state to be removed')
  assertGone(f, 'tg')
  // A command that does end on TERM ends at once.
  const quick = spawn('timeout', ['-s', 'TERM', '1', process.execPath, NSX_BIN, 'run', '--layer', f.base, '--', 'sleep', '60'], {env: f.env, stdio: 'ignore'})
  const q0 = Date.now()
  await new Promise((res) => quick.on('exit', res))
  assert.ok((Date.now() - q0) / 1000 < 1 + 5, 'TERM honoured without waiting for the grace')
})

test("/sys/fs/cgroup inside: the container's own cgroups, read-only; -m and --cpus read back from there (this machine's layout)", (t) => {
  if (!needContainerTools(t)) return
  const layout = readCgroupLayout()
  const script = [
    'cat /proc/self/cgroup',
    'echo ==',
    'grep " /sys/fs/cgroup" /proc/self/mountinfo',
    'echo ==',
    layout.mode === 'v2' ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max' : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us',
    'echo ==',
    'mkdir /sys/fs/cgroup/x 2>&1; echo rc=$?',
  ].join('; ')
  const r = runIn(['--rm', '--name', 'cgin', '-m', '64m', '--cpus', '0.5'], ['sh', '-c', script])
  assert.equal(r.status, 0, r.stderr)
  const [self, mounts, limits, write] = r.stdout.split('==\n')
  // The cgroup namespace's root is the container's cgroup in every hierarchy it has one in.
  for (const line of self.trim().split('\n')) if (/^\d+:(memory|cpu|cpu,cpuacct|):/.test(line)) assert.match(line, /:\/$/, line)
  for (const line of mounts.trim().split('\n')) assert.match(line.split(' ')[5], /^ro,/, `read-only: ${line}`)
  if (layout.mode === 'v2') {
    assert.match(mounts, / \/sys\/fs\/cgroup ro,.* - cgroup2 /)
    assert.deepEqual(limits.trim().split('\n'), ['67108864', '50000 100000'])
  } else {
    assert.match(mounts, / \/sys\/fs\/cgroup ro,.* - tmpfs /)
    assert.match(mounts, / \/sys\/fs\/cgroup\/memory ro,.* - cgroup /)
    assert.deepEqual(limits.trim().split('\n'), ['67108864', '50000', '100000'])
    if (layout.mode === 'hybrid') assert.match(mounts, / \/sys\/fs\/cgroup\/unified ro,.* - cgroup2 /)
  }
  assert.match(write, /Read-only file system/)
  assertGone(fixture(), 'cgin')
})

test('/sys/fs/cgroup inside on a v2 layout: a cgroup2 tree mounted on /sys/fs/cgroup in the test\'s own mount namespace', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const f = fixture()
  const layout = readCgroupLayout()
  if (!layout.v2) {
    skipOrFail(t, 'no cgroup2 tree on this machine')
    return
  }
  // Only in this new mount namespace: the v1 mounts go, the cgroup2 tree takes /sys/fs/cgroup.
  const inner = `umount -R /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"`
  const r = run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', inner, 'sh', process.execPath, NSX_BIN, 'run', '--rm', '--name', 'cgv2', '--layer', f.base, '--', 'sh', '-c', 'grep " /sys/fs/cgroup" /proc/self/mountinfo; echo ==; cat /proc/self/cgroup; echo ==; cat /sys/fs/cgroup/cgroup.procs'], {env: f.env, encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  const [mounts, self, procs] = r.stdout.split('==\n')
  assert.equal(mounts.trim().split('\n').length, 1, mounts)
  assert.match(mounts, / \/sys\/fs\/cgroup ro,nosuid,nodev,noexec\S* - cgroup2 /)
  assert.match(self, /^0::\/$/m)
  // Its root is the container's cgroup: only the container's processes are in it.
  const pids = procs.trim().split('\n').map(Number)
  assert.ok(pids.includes(1) && pids.every((p) => p < 10), `the container's processes only: ${pids}`)
  assertGone(f, 'cgv2')
})

test('nsx inspect of the pid nsx ps prints says it is the init, holding the restrictions, and names the workload', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const r = f.nsx(['run', '-d', '--name', 'inspinit', '--cap-drop', 'ALL', '--layer', f.base, '--', 'sleep', '60'])
  assert.equal(r.status, 0, r.stderr)
  t.after(() => f.nsx(['stop', '-t', '0', 'inspinit']))
  const ps = JSON.parse(f.nsx(['ps', '--json']).stdout) as {name: string; pid: number}[]
  const pid = ps.find((c) => c.name === 'inspinit')!.pid
  const rep = JSON.parse(f.nsx(['inspect', String(pid), '--json']).stdout) as {name: string; notes: string[]; noNewPrivs: boolean; capabilities: {effective: {names?: string[]; full?: boolean}}}
  assert.equal(rep.name, 'nsx-init')
  assert.match(rep.notes[0], /^the container's init \(nsx-init, PID 1 inside\).*the workload is its child, pid (\d+)/)
  const workload = Number(/pid (\d+)/.exec(rep.notes[0].split('child, ')[1])![1])
  assert.equal(readFileSync(`/proc/${workload}/cmdline`, 'utf8'), 'sleep\x0060\x00')
  assert.equal(rep.noNewPrivs, true)
  assert.equal(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^CapEff:.*$/m)![0], 'CapEff:\t0000000000000000')
})
