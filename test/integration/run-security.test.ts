import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, run, skipOrFail} from '../helpers/env.js'
import {cgroupsNamed, containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {DEFAULT_CAPS} from '../../src/container/spec.js'
import {DEFAULT_SECCOMP_PROFILE} from '../../src/security/seccomp-default.js'
import {hostTarget, ociSeccomp, resolveSeccomp} from '../../src/security/seccomp-plan.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-sec-') : undefined

/** "NAME verdict" lines of `probe syscalls` as a map. */
function verdicts(stdout: string): Map<string, string> {
  return new Map(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]))
}

const DENIED = ['unshare', 'mount', 'umount2', 'keyctl', 'add_key', 'request_key', 'ptrace-init', 'kexec_load', 'open_by_handle_at', 'bpf', 'perf_event_open', 'setns', 'socket-vsock', 'personality-bad', 'clone-newns', 'swapon', 'acct', 'userfaultfd']

test('a default container: the listed syscalls fail with EPERM, clone3 and newer syscalls with ENOSYS, ordinary ones work', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const r = f.nsx(['run', '--layer', f.base, '--', 'probe', 'syscalls'])
  assert.equal(r.status, 0, r.stderr)
  const v = verdicts(r.stdout)
  for (const s of DENIED) assert.equal(v.get(s), 'errno=EPERM', `${s}: ${v.get(s)}`)
  assert.equal(v.get('clone3'), 'errno=ENOSYS')
  // fchmodat2 (Linux 6.6) and mseal (6.10) are newer than the profile: ENOSYS, so a C library falls back.
  assert.equal(v.get('fchmodat2'), 'errno=ENOSYS')
  assert.equal(v.get('mseal'), 'errno=ENOSYS')
  for (const s of ['getpid', 'socket-inet', 'personality-query', 'mknod-null']) assert.equal(v.get(s), 'ok', `${s}: ${v.get(s)}`)
  assert.equal(v.get('openat'), 'errno=ENOENT')
  // Busybox applets run: fork, exec, pipes, signals.
  const sh = f.nsx(['run', '--layer', f.base, '--', 'sh', '-c', 'echo a | cat; ls / >/dev/null && id -u; grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status'])
  assert.equal(sh.status, 0, sh.stderr)
  assert.equal(sh.stdout, 'a\n0\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n')
})

test('seccomp=unconfined and --privileged run without a filter; --cap-add SYS_ADMIN allows what it guards', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  for (const flags of [['--security-opt', 'seccomp=unconfined'], ['--privileged']]) {
    const r = f.nsx(['run', '--layer', f.base, ...flags, '--', 'sh', '-c', 'grep -E "^Seccomp:" /proc/self/status; probe syscalls keyctl mount'])
    assert.equal(r.status, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.equal(lines[0], 'Seccomp:\t0', flags.join(' '))
    assert.equal(lines[1], 'keyctl errno=ENOKEY')
    // Unfiltered, the kernel answers (the path is looked up before the capability is checked).
    assert.equal(lines[2], 'mount errno=ENOENT')
  }
  const admin = f.nsx(['run', '--layer', f.base, '--cap-add', 'SYS_ADMIN', '--', 'probe', 'syscalls', 'mount', 'unshare', 'keyctl'])
  assert.equal(admin.status, 0, admin.stderr)
  // mount and unshare pass the filter (the kernel answers); keyctl is still refused.
  assert.equal(admin.stdout, 'mount errno=ENOENT\nunshare ok\nkeyctl errno=EPERM\n')
})

test('--security-opt seccomp=FILE takes a docker-format profile', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  // The default profile, with getpid taken away (EACCES) and keyctl allowed.
  const p = structuredClone(DEFAULT_SECCOMP_PROFILE)
  p.syscalls!.push({names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 13}, {names: ['keyctl'], action: 'SCMP_ACT_ALLOW'})
  p.syscalls![0].names = p.syscalls![0].names!.filter((n) => n !== 'getpid')
  const file = join(f.dir, 'profile.json')
  writeFileSync(file, JSON.stringify(p))
  const r = f.nsx(['run', '--layer', f.base, '--security-opt', `seccomp=${file}`, '--', 'probe', 'syscalls', 'getpid', 'keyctl', 'mount'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'getpid errno=EACCES\nkeyctl errno=ENOKEY\nmount errno=EPERM\n')
})

test('a bad profile: one line, exit 125, no container made', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  // Containers of the tests before are kept (as docker keeps them): none may be added here.
  const before = existsSync(join(f.store, 'run')) ? readdirSync(join(f.store, 'run')) : []
  const cases: Array<[string, RegExp]> = [
    ['{"defaultAction": "SCMP_ACT_ERRNO", ', /seccomp profile .*: not valid JSON/],
    [JSON.stringify({defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{names: ['execve', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW'}]}), /seccomp profile .*: unknown syscall 'no_such_syscall'/],
    [JSON.stringify({defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{names: ['read'], action: 'SCMP_ACT_PERMIT'}]}), /seccomp profile .*: syscalls\[0\]: unknown action "SCMP_ACT_PERMIT"/],
    [JSON.stringify({defaultAction: 'SCMP_ACT_NOPE'}), /seccomp profile .*: defaultAction: unknown action/],
    [JSON.stringify({defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{names: ['read', 'write'], action: 'SCMP_ACT_ALLOW'}]}), /seccomp profile .*: it blocks execve/],
    [JSON.stringify({defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: ['execve'], action: 'SCMP_ACT_KILL'}]}), /seccomp profile .*: it blocks execve \(kill\)/],
  ]
  cases.forEach(([text, pattern], i) => {
    const file = join(f.dir, `bad-${i}.json`)
    writeFileSync(file, text)
    const r = f.nsx(['run', '--name', `bad-${i}`, '--layer', f.base, '--security-opt', `seccomp=${file}`, '--', 'true'])
    assertOneLineError(r, 125, pattern)
    assert.deepEqual(cgroupsNamed(`bad-${i}`), [])
  })
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--security-opt', `seccomp=${join(f.dir, 'missing.json')}`, '--', 'true']), 125, /cannot read seccomp profile .*missing.json: no such file/)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--security-opt', 'apparmor=unconfined', '--', 'true']), 125, /unsupported --security-opt apparmor=unconfined/)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--security-opt', 'no-new-privileges=false', '--', 'true']), 125, /nsx always sets no_new_privs/)
  assert.equal(f.nsx(['run', '--rm', '--layer', f.base, '--security-opt', 'no-new-privileges', '--', 'true']).status, 0)
  const left = existsSync(join(f.store, 'run')) ? readdirSync(join(f.store, 'run')) : []
  assert.deepEqual(left, before)
})

test('the same probe under runc (its default spec with docker\'s capabilities and default profile) gives the same verdict for each syscall', (t) => {
  if (!needContainerTools(t)) return
  if (!needCommand(t, 'runc', 'runc')) return
  const f = fx!
  const nsxRun = f.nsx(['run', '--layer', f.base, '--', 'probe', 'syscalls'])
  assert.equal(nsxRun.status, 0, nsxRun.stderr)

  const bundle = mkdtempSync(join(tmpdir(), 'nsx-runc-sec-'))
  const state = join(bundle, 'state')
  const id = `nsx-sec-${process.pid}`
  t.after(() => {
    run('runc', ['--root', state, 'delete', '--force', id])
    rmSync(bundle, {recursive: true, force: true})
  })
  cpSync(f.base, join(bundle, 'rootfs'), {recursive: true, verbatimSymlinks: true})
  assert.equal(run('runc', ['spec'], {cwd: bundle}).status, 0)
  const config = JSON.parse(run('cat', [join(bundle, 'config.json')]).stdout)
  config.process.terminal = false
  config.process.args = ['probe', 'syscalls']
  // runc's spec keeps only 3 capabilities and no filter; docker gives its 14 and its profile.
  for (const set of ['bounding', 'effective', 'permitted']) config.process.capabilities[set] = DEFAULT_CAPS
  config.root.readonly = false
  config.linux.seccomp = ociSeccomp(resolveSeccomp(DEFAULT_SECCOMP_PROFILE, hostTarget(DEFAULT_CAPS), 'default'))
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config))
  const r = run('runc', ['--root', state, 'run', '--bundle', bundle, id], {timeout: 60000})
  assert.equal(r.status, 0, r.stderr)
  const ours = verdicts(nsxRun.stdout)
  const theirs = verdicts(r.stdout)
  assert.ok(ours.size >= 30)
  assert.deepEqual([...ours], [...theirs])
})

test('devices: only the allow-list can be made or opened; --device adds a node with its permissions', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const r = f.nsx(['run', '--layer', f.base, '--', 'sh', '-c', 'mknod /tmp/sda b 8 0 2>/dev/null; echo sda=$?; mknod /tmp/mem c 1 1 2>/dev/null; echo mem=$?; mknod /tmp/null c 1 3; echo null=$?; echo x > /tmp/null; echo write-null=$?'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'sda=1\nmem=1\nnull=0\nwrite-null=0\n')
  // A host device bound in with -v cannot be opened: the cgroup refuses it, not the file's mode.
  const bound = f.nsx(['run', '--layer', f.base, '-v', '/dev/loop-control:/lc', '--', 'probe', 'read', '/lc'])
  assert.equal(bound.stdout, 'read errno=EPERM\n', bound.stderr)
  // --device HOST:CTR:r: made in the container, readable (loop-control answers EINVAL to read), not writable.
  const dev = f.nsx(['run', '--layer', f.base, '--device', '/dev/loop-control:/dev/lc:r', '--', 'sh', '-c', 'stat -c "%t:%T %a" /dev/lc; probe read /dev/lc; probe write /dev/lc'])
  assert.equal(dev.status, 0, dev.stderr)
  // (open succeeds; loop-control answers the read itself with an error: "read -1")
  assert.equal(dev.stdout, 'a:ed 600\nread -1\nwrite errno=EPERM\n')
  // --privileged: no device program.
  const priv = f.nsx(['run', '--layer', f.base, '--privileged', '--', 'sh', '-c', 'mknod /tmp/mem c 1 1; echo mem=$?'])
  assert.equal(priv.stdout, 'mem=0\n', priv.stderr)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--device', '/etc/passwd', '--', 'true']), 125, /--device '\/etc\/passwd': \/etc\/passwd is not a device node/)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--device', '/dev/null:/dev/n:rwx', '--', 'true']), 125, /invalid --device/)
})

test('--read-only: the root is read-only, /dev, /dev/shm and --tmpfs mounts stay writable; --shm-size, --ulimit, --oom-score-adj', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const r = f.nsx(['run', '--layer', f.base, '--read-only', '--tmpfs', '/run:size=1m,mode=700', '--tmpfs', '/scratch/deep', '--shm-size', '2m', '--ulimit', 'nofile=100:200', '--ulimit', 'core=0', '--oom-score-adj', '500', '--', 'sh', '-c',
    'touch /x 2>/dev/null; echo root=$?; touch /tmp/x 2>/dev/null; echo tmp=$?; touch /run/x /scratch/deep/x /dev/shm/x; echo tmpfs=$?; stat -c %a /run; cat /proc/self/oom_score_adj; grep -E " (/|/run|/scratch/deep|/dev/shm) " /proc/self/mounts | cut -d" " -f2,4; grep -E "^Max (open files|core)" /proc/self/limits | tr -s " "'])
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.split('\n')
  assert.match(lines[5], /^\/ ro,/)
  assert.deepEqual([...lines.slice(0, 5), ...lines.slice(6)], [
    'root=1',
    'tmp=1',
    'tmpfs=0',
    '700',
    '500',
    '/dev/shm rw,nosuid,nodev,noexec,relatime,size=2048k',
    '/run rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700',
    '/scratch/deep rw,nosuid,nodev,noexec,relatime',
    'Max core file size 0 0 bytes ',
    'Max open files 100 200 files ',
    '',
  ])
  // A missing working directory is still made (before the root turns read-only).
  const wd = f.nsx(['run', '--layer', f.base, '--read-only', '-w', '/new/dir', '--', 'pwd'])
  assert.equal(wd.stdout, '/new/dir\n', wd.stderr)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--ulimit', 'nofiles=1', '--', 'true']), 125, /unknown limit nofiles/)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--ulimit', 'nofile=20:10', '--', 'true']), 125, /soft limit 20 is above the hard limit 10/)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--oom-score-adj', '1001', '--', 'true']), 125, /--oom-score-adj '1001'/)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--shm-size', 'lots', '--', 'true']), 125, /invalid --shm-size 'lots'/)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--tmpfs', 'run', '--', 'true']), 125, /invalid --tmpfs 'run': the path must be absolute/)
  assertOneLineError(f.nsx(['run', '--layer', f.base, '--tmpfs', '/run:bogus', '--', 'true']), 125, /unknown option 'bogus'/)
})

test('nsx exec in a container loads the container\'s filter: the same verdicts as its first process; with --privileged none', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const d = f.nsx(['run', '-d', '--name', 'sec-exec', '--layer', f.base, '--', 'sleep', '60'])
  assert.equal(d.status, 0, d.stderr)
  t.after(() => f.nsx(['stop', '-t', '0', 'sec-exec']))
  const first = f.nsx(['run', '--layer', f.base, '--', 'probe', 'syscalls'])
  const exec = f.nsx(['exec', 'sec-exec', 'probe', 'syscalls'])
  assert.equal(exec.status, 0, exec.stderr)
  assert.deepEqual([...verdicts(exec.stdout)], [...verdicts(first.stdout)])
  const priv = f.nsx(['exec', '--privileged', 'sec-exec', 'sh', '-c', 'grep -E "^Seccomp:" /proc/self/status'])
  assert.equal(priv.stdout, 'Seccomp:\t0\n', priv.stderr)
})

test('nsx inspect reads the filter back (instructions, verdicts), the device rules and the read-only root of a container process', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const d = f.nsx(['run', '-d', '--name', 'sec-inspect', '--read-only', '--device', '/dev/fuse', '--layer', f.base, '--', 'probe', 'wait-signal'])
  assert.equal(d.status, 0, d.stderr)
  t.after(() => f.nsx(['stop', '-t', '0', 'sec-inspect']))
  const ps = JSON.parse(f.nsx(['ps', '--json']).stdout) as Array<{name: string; pid: number}>
  const entry = ps.find((c) => c.name === 'sec-inspect')
  assert.ok(entry, JSON.stringify(ps))
  // The command is the init's only child.
  const init = entry.pid
  const child = Number(run('pgrep', ['-P', String(init)]).stdout.trim().split('\n')[0])
  const r = f.nsx(['inspect', '--json', String(child)])
  assert.equal(r.status, 0, r.stderr)
  const rep = JSON.parse(r.stdout) as {seccomp: {mode: string; filters: number; instructions: number[]; verdicts: {syscall: string; verdict: string}[]}; devices: {source: string; programs: number; rules: string[]}; rootReadOnly: boolean}
  assert.equal(rep.seccomp.mode, 'filter')
  assert.equal(rep.seccomp.filters, 1)
  assert.equal(rep.seccomp.instructions.length, 1)
  assert.ok(rep.seccomp.instructions[0] > 500, String(rep.seccomp.instructions))
  const v = new Map(rep.seccomp.verdicts.map((x) => [x.syscall, x.verdict]))
  for (const s of ['mount', 'unshare', 'keyctl', 'add_key', 'kexec_load', 'open_by_handle_at', 'bpf', 'perf_event_open']) assert.equal(v.get(s), 'errno EPERM', s)
  for (const s of ['read', 'write', 'execve', 'ptrace']) assert.equal(v.get(s), 'allow', s)
  assert.equal(v.get('clone3'), 'errno ENOSYS')
  assert.equal(v.get('mseal'), 'errno ENOSYS')
  assert.equal(rep.rootReadOnly, true)
  assert.equal(rep.devices.source, 'v2')
  assert.equal(rep.devices.programs, 1)
  assert.deepEqual(rep.devices.rules, ['null (c 1:3) rwm', 'zero (c 1:5) rwm', 'full (c 1:7) rwm', 'random (c 1:8) rwm', 'urandom (c 1:9) rwm', 'tty (c 5:0) rwm', 'console (c 5:1) rwm', 'ptmx (c 5:2) rwm', 'pts/0 (c 136:0) rwm', 'fuse (c 10:229) rwm'])
  // The process was stopped only for the read: it still answers a signal.
  const text = f.nsx(['inspect', String(child)])
  assert.match(text.stdout, /seccomp +filter \(1 filter, \d+ instructions\)/)
  assert.match(text.stdout, /root +read-only/)
})

test('cgroup v1 (a host without a cgroup2 tree): the allow-list as devices.deny/devices.allow, enforced on a process in the cgroup', async (t) => {
  if (!needContainerTools(t)) return
  const {readCgroupLayout} = await import('../../src/cgroup/hierarchy.js')
  const {locateMemberships, readProcCgroup} = await import('../../src/cgroup/membership.js')
  const {applyCgroups, planCgroups, removeCgroups} = await import('../../src/container/cgroups.js')
  const {DEFAULT_DEVICE_RULES, v1DeviceWrites} = await import('../../src/security/devices.js')
  const real = readCgroupLayout()
  if (!real.v1.some((h) => h.controllers.includes('devices'))) {
    skipOrFail(t, 'needs a v1 devices hierarchy (this host has none)')
    return
  }
  // The plan a v1-only host gets: this host's layout without its cgroup2 tree, below our own cgroups.
  const layout = {...real, v2: undefined, v2Root: undefined, v2Controllers: [], mode: 'v1' as const}
  const own = locateMemberships(readProcCgroup('self') ?? [], layout)
  const setup = planCgroups(layout, own, `devv1-${process.pid}`, '0123456789abcdef', {devices: v1DeviceWrites(DEFAULT_DEVICE_RULES)})
  const dev = setup.places.find((p) => p.hierarchy.split(',').includes('devices'))!
  assert.ok(dev, JSON.stringify(setup.places))
  assert.deepEqual(setup.writes.filter((w) => w.dir === dev.dir).map((w) => `${w.file} ${w.value}`).slice(0, 3), ['devices.deny a', 'devices.allow c 1:3 rwm', 'devices.allow c 1:5 rwm'])
  applyCgroups(setup)
  t.after(() => {
    removeCgroups(setup.places.map((p) => p.dir))
  })
  assert.deepEqual(readFileSync(join(dev.dir, 'devices.list'), 'utf8').trim().split('\n'), ['c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm'])
  // Outside, root reads /dev/kmsg; a shell we start moves itself in, then opens an allowed and a refused device.
  assert.equal(run('sh', ['-c', '(exec 3</dev/kmsg) 2>/dev/null && echo kmsg-opened']).stdout, 'kmsg-opened\n')
  const r = run('sh', ['-c', `echo $$ > ${dev.dir}/cgroup.procs && head -c 1 /dev/zero | od -An -tx1 && ((exec 3</dev/kmsg) 2>/dev/null && echo kmsg-opened || echo kmsg-refused)`])
  assert.equal(r.stdout.replace(/\s+/g, ' ').trim(), '00 kmsg-refused', r.stderr)
})
