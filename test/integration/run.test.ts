import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {hostname as osHostname} from 'node:os'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync} from 'node:fs'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {assertOneLineError, NSX_BIN, REPO, run} from '../helpers/env.js'
import {assertContainerGone, cgroupsNamed, containerToolsPresent, Fixture, hostMountsMentioning, makeFixture, needContainerTools, processesMentioning} from '../helpers/container.js'
import {waitFor} from '../helpers/processes.js'

// Made once for the file (at load, so its removal hooks belong to the file, not to a test).
const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after) : undefined
function fixture(): Fixture {
  if (!fx) throw new Error('no fixture: needContainerTools should have stopped this test')
  return fx
}

/** nsx run --layer BASE [extra flags] -- argv */
function runIn(args: string[], argv: string[], opts: {input?: string} = {}) {
  const f = fixture()
  return f.nsx(['run', '--layer', f.base, ...args, '--', ...argv], opts)
}

const assertGone = assertContainerGone

test("the command's exit status is nsx run's; 127 not found, 126 not executable, one line each", (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  assert.equal(runIn(['--rm', '--name', 'st1'], ['probe', 'exit', '7']).status, 7)
  assertOneLineError(runIn([], ['nosuch-command']), 127, /^nsx run: failed to execute nosuch-command: No such file or directory$/)
  assertOneLineError(runIn([], ['/etc/motd']), 126, /^nsx run: failed to execute \/etc\/motd: Permission denied$/)
  assertGone(f, 'st1')
})

test('a command killed by a signal makes nsx die of the same signal', (t) => {
  if (!needContainerTools(t)) return
  const r = runIn([], ['probe', 'kill-self', '15'])
  assert.equal(r.signal, 'SIGTERM', `status ${r.status} signal ${r.signal} ${r.stderr}`)
})

test('the container sees only its own processes, mounts and hostname, in new namespaces', (t) => {
  if (!needContainerTools(t)) return
  const r = runIn(['--name', 'iso1'], ['sh', '-c', 'ps -o pid,comm; echo; hostname; echo; cat /proc/mounts; echo; for n in mnt pid uts ipc net cgroup user; do readlink /proc/self/ns/$n; done'])
  assert.equal(r.status, 0, r.stderr)
  const [ps, host, mounts, ns] = r.stdout.split('\n\n')
  const rows = ps.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/))
  assert.deepEqual(rows.map((x) => x[0]), ['1', '2', String(rows[2][0])].slice(0, rows.length))
  assert.equal(rows[0][1], 'nsx-init', 'PID 1 is the init')
  assert.ok(rows.length <= 3, `only the init, the shell and ps: ${ps}`)
  assert.equal(host.trim(), 'iso1', 'hostname defaults to the name')
  const points = mounts.trim().split('\n').map((l) => l.split(' ')[1])
  assert.equal(mounts.trim().split('\n')[0].split(' ')[2], 'overlay', 'the root is the overlay')
  for (const p of ['/', '/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/proc/sys', '/sys/firmware']) assert.ok(points.includes(p), `${p} mounted: ${points}`)
  // Besides / /proc /dev /sys: the container's own /etc/hosts, /etc/hostname and /etc/resolv.conf.
  for (const p of points) assert.match(p, /^(\/(proc|dev|sys)?(\/|$)|\/etc\/(hosts|hostname|resolv\.conf)$)/, `unexpected mount ${p}`)
  const theirs = ns.trim().split('\n')
  const ours = ['mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'user'].map((n) => readlinkSync(`/proc/self/ns/${n}`))
  for (let i = 0; i < 6; i++) assert.notEqual(theirs[i], ours[i], `${ours[i]} shared with the host`)
  assert.equal(theirs[6], ours[6], 'no user namespace without --userns')
})

test('--hostname sets it; --network host keeps the host network namespace; the default has lo up only', (t) => {
  if (!needContainerTools(t)) return
  assert.equal(runIn(['--hostname', 'box-7'], ['hostname']).stdout.trim(), 'box-7')
  const host = runIn(['--network', 'host'], ['readlink', '/proc/self/ns/net'])
  assert.equal(host.stdout.trim(), readlinkSync('/proc/self/ns/net'))
  // As docker: with the host's network the default hostname is the host's (it was the container's name).
  assert.equal(runIn(['--network', 'host'], ['hostname']).stdout.trim(), osHostname())
  const links = runIn([], ['ip', '-o', 'link'])
  assert.equal(links.status, 0, links.stderr)
  const lines = links.stdout.trim().split('\n')
  assert.equal(lines.length, 1, links.stdout)
  assert.match(lines[0], /^1: lo: <LOOPBACK,UP,LOWER_UP>/)
})

test("docker's default capabilities, an empty inheritable and ambient set, no_new_privs; --cap-add, --cap-drop, --privileged", (t) => {
  if (!needContainerTools(t)) return
  const caps = (args: string[]) => {
    const r = runIn(args, ['sh', '-c', 'grep ^Cap /proc/self/status; probe nnp'])
    assert.equal(r.status, 0, r.stderr)
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:?\s+/)))
  }
  const d = caps([])
  // chown dac_override fowner fsetid kill setgid setuid setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap
  assert.deepEqual([d.CapEff, d.CapPrm, d.CapBnd, d.CapInh, d.CapAmb], ['00000000a80425fb', '00000000a80425fb', '00000000a80425fb', '0000000000000000', '0000000000000000'])
  assert.equal(d.nnp, '1')
  const x = caps(['--cap-drop', 'ALL', '--cap-add', 'sys_admin', '--cap-add', 'CAP_NET_ADMIN'])
  assert.equal(x.CapBnd, (BigInt(1) << 21n | BigInt(1) << 12n).toString(16).padStart(16, '0'))
  // --privileged: everything nsx has itself (its own bounding set may lack some).
  const ours = /CapBnd:\s+(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]
  const p = caps(['--privileged'])
  assert.equal(p.CapBnd, ours)
  assert.equal(p.CapEff, ours)
  assertOneLineError(runIn(['--cap-add', 'SYS_BOGUS'], ['true']), 125, /unknown capability 'SYS_BOGUS' for --cap-add \(valid: CHOWN, DAC_OVERRIDE, .*ALL\)/)
})

test('the container cannot mount, load modules, write /proc/sys or /sys, or read masked paths', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  // What root on the host gets, for the checks whose answer depends on the kernel's configuration.
  const host = (c: string) => run(f.probe, c.split(' ')).stdout.trim()
  const sysFile = ['/sys/kernel/mm/transparent_hugepage/enabled', '/sys/kernel/uevent_helper', '/sys/kernel/profiling', '/sys/power/state'].find((p) => existsSync(p))
  assert.ok(sysFile, 'no writable sysfs file to try')
  const r = runIn([], ['sh', '-c', `for c in mount remount-root module sysctl ptrace-init exe-write; do probe $c; done; probe write ${sysFile}; probe read /proc/keys; probe read /proc/timer_list; ls /sys/firmware | wc -l`])
  assert.equal(r.status, 0, r.stderr)
  const got = r.stdout.trim().split('\n')
  assert.deepEqual(got, [
    'mount errno=EPERM',
    'remount-root errno=EPERM',
    // The seccomp filter refuses finit_module without CAP_SYS_MODULE, whatever the kernel's configuration.
    'module errno=EPERM',
    'sysctl errno=EROFS',
    'ptrace-init errno=EPERM',
    'exe-write errno=EACCES',
    'write errno=EROFS',
    'read 0',
    'read 0',
    '0',
  ])
})

test('only stdin, stdout and stderr reach the command; its cwd is inside the container (CVE-2024-21626)', async (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  // nsx is started with extra fds (3: a pipe, 4: a file), as a leaky caller would.
  const leaked = join(f.dir, 'leaked-file')
  writeFileSync(leaked, 'secret')
  const out = await new Promise<string>((resolve, reject) => {
    const fd4 = openSync(leaked, 'r')
    const c = spawn(process.execPath, [NSX_BIN, 'run', '--layer', f.base, '-w', '/tmp', '--', 'sh', '-c', 'probe fds; pwd'], {
      env: f.env,
      stdio: ['ignore', 'pipe', 'inherit', 'pipe', fd4],
    })
    let s = ''
    c.stdout!.on('data', (d: Buffer) => (s += d.toString()))
    c.on('error', reject)
    c.on('exit', () => resolve(s))
  })
  const [fds, pwd] = out.trim().split('\n')
  assert.match(fds, /^fds 0=\/dev\/null 1=\S+ 2=\S+$/, 'only fds 0-2')
  assert.equal(pwd, '/tmp')
})

test("writes land in the container's upper directory; the layers stay unchanged; a whiteout hides a lower file", async (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const upperLayer = join(f.dir, 'upper-layer')
  mkdirSync(join(upperLayer, 'etc'), {recursive: true})
  run('mknod', [join(upperLayer, 'etc', 'motd'), 'c', '0', '0']) // overlayfs whiteout: deletes the base's /etc/motd
  writeFileSync(join(upperLayer, 'etc', 'added'), 'added\n')
  const before = hashTree(f.base) + hashTree(upperLayer)
  const c = spawn(process.execPath, [NSX_BIN, 'run', '--rm', '--name', 'up1', '--layer', f.base, '--layer', upperLayer, '--', 'sh', '-c',
    'cat /etc/motd 2>&1; cat /etc/added; echo new > /created; echo changed > /bin/probe-copy; rm /bin/ls; echo written; probe wait-signal'], {env: f.env, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)))
  await waitFor(() => out.includes('ready'), 15000, 'the container to write')
  const upper = join(f.store, 'run', readlinkSync(join(f.store, 'names', 'up1')), 'upper')
  assert.equal(readFileSync(join(upper, 'created'), 'utf8'), 'new\n')
  assert.ok(readdirSync(join(upper, 'bin')).includes('ls'), 'the deletion is a whiteout in the upper directory')
  process.kill(c.pid!, 'SIGTERM')
  assert.equal(await exited, 0, 'the probe got the forwarded SIGTERM and exited 0')
  assert.match(out, /^cat: can't open '\/etc\/motd': No such file or directory\nadded\nwritten\nready\nsignal 15\n$/)
  assert.equal(hashTree(f.base) + hashTree(upperLayer), before, 'the layers changed')
  assertGone(f, 'up1')
})

function hashTree(dir: string): string {
  const h = createHash('sha256')
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name)
      h.update(p)
      if (e.isFile()) h.update(readFileSync(p))
      else if (e.isSymbolicLink()) h.update(readlinkSync(p))
      else if (e.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return h.digest('hex')
}

test('PID 1 reaps orphaned zombies and forwards signals', async (t) => {
  if (!needContainerTools(t)) return
  const r = runIn([], ['probe', 'orphans', '5'])
  assert.equal(r.stdout.trim(), 'zombies 0', r.stderr)
  const f = fixture()
  const c = spawn(process.execPath, [NSX_BIN, 'run', '--layer', f.base, '--', 'probe', 'wait-signal'], {env: f.env, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((res) => c.on('exit', (code) => res(code)))
  await waitFor(() => out.includes('ready'), 15000, 'the probe')
  process.kill(c.pid!, 'SIGUSR1')
  assert.equal(await exited, 0)
  assert.equal(out, 'ready\nsignal 10\n')
})

test('nothing is left after nsx is killed with SIGKILL: the container dies, the next run or gc sweeps the rest', async (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const marker = `kill9-${process.pid}`
  const c = spawn(process.execPath, [NSX_BIN, 'run', '--rm', '--name', 'k9', '--layer', f.base, '--', 'sh', '-c', `echo up; exec probe wait-signal ${marker}`], {env: f.env, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<void>((res) => c.on('exit', () => res()))
  await waitFor(() => out.includes('up') || c.exitCode !== null, 15000, 'the container')
  assert.equal(c.exitCode, null, 'the container did not start')
  assert.ok(processesMentioning(marker).length > 0, 'the command runs')
  process.kill(c.pid!, 'SIGKILL')
  await exited
  await waitFor(() => processesMentioning(marker).length === 0, 5000, 'the container to die with nsx')
  assert.ok(cgroupsNamed('k9').length > 0, 'the cgroups are still there before a sweep')
  assert.equal(f.nsx(['run', '--layer', f.base, '--', 'true']).status, 0)
  assertGone(f, 'k9')
})

test('bad input: one line, exit 125, nothing created', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const before = existsSync(join(f.store, 'run')) ? readdirSync(join(f.store, 'run')) : []
  assertOneLineError(runIn(['--memory', 'lots'], ['true']), 125, /invalid --memory 'lots'/)
  assertOneLineError(runIn(['--cpus', '99999'], ['true']), 125, /invalid --cpus '99999': the range is 0.01 to \d+/)
  assertOneLineError(runIn(['--pids-limit', 'x'], ['true']), 125, /invalid --pids-limit 'x'/)
  assertOneLineError(runIn(['--cpuset-cpus', '9999'], ['true']), 125, /CPU 9999 not online/)
  assertOneLineError(runIn(['--name', '../x'], ['true']), 125, /invalid container name '\.\.\/x'/)
  // A bare word is a named volume, as in docker; a relative path is neither a name nor a host path.
  assertOneLineError(runIn(['-v', './relative:/x'], ['true']), 125, /invalid volume '\.\/relative:\/x': .* use absolute path/)
  assertOneLineError(runIn(['-v', '/nonexistent-nsx:/x'], ['true']), 125, /\/nonexistent-nsx does not exist/)
  // A name docker takes (a space too) that names no network, as docker says it; one no network can have.
  assertOneLineError(runIn(['--network', 'no such'], ['true']), 125, /^nsx run: network no such not found$/)
  assertOneLineError(runIn(['--network', 'no/such'], ['true']), 125, /invalid --network 'no\/such': expected none, host, bridge, container:NAME or a network's name/)
  assertOneLineError(runIn(['--network', 'host', '-p', '80'], ['true']), 125, /-p needs a bridge network/)
  assertOneLineError(runIn(['--bogus'], ['true']), 125, /unrecognized option '--bogus'/)
  assertOneLineError(f.nsx(['run']), 125, /nothing to run: give an IMAGE/)
  assertOneLineError(f.nsx(['run', '--', 'true']), 125, /no such image: true/)
  assertOneLineError(f.nsx(['run', '--layer', join(f.dir, 'missing'), '--', 'true']), 125, /no such layer/)
  assertOneLineError(runIn([], []), 125, /no command/)
  assert.deepEqual(readdirSync(join(f.store, 'run')), before)
  assert.deepEqual(hostMountsMentioning(f.store), [])
})

test('a name in use is refused while that container runs', async (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const c = spawn(process.execPath, [NSX_BIN, 'run', '--rm', '--name', 'dup', '--layer', f.base, '--', 'sh', '-c', 'echo up; exec probe wait-signal'], {env: f.env, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<void>((res) => c.on('exit', () => res()))
  t.after(async () => {
    if (c.exitCode === null) process.kill(c.pid!, 'SIGKILL')
    await exited
  })
  await waitFor(() => out.includes('up') || c.exitCode !== null, 15000, 'the container')
  assert.equal(c.exitCode, null, 'the container did not start')
  assertOneLineError(runIn(['--name', 'dup'], ['true']), 125, /the container name "dup" is already in use by container [0-9a-f]{12}: remove or rename that container/)
  process.kill(c.pid!, 'SIGTERM')
  await exited
  assertGone(f, 'dup')
})

test('escapes: a symlinked volume target stays inside the root; /proc/1/exe is a sealed copy, the host binary is untouched', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  // A layer whose /evil points far up: resolved on the host it would be the host's /tmp/...
  const evil = join(f.dir, 'evil-layer')
  mkdirSync(evil)
  const victim = join(f.dir, 'victim')
  mkdirSync(victim)
  symlinkSync(`../../../../../../../../../..${victim}`, join(evil, 'evil'))
  const vol = join(f.dir, 'vol')
  mkdirSync(vol)
  writeFileSync(join(vol, 'in-volume'), 'v\n')
  const exe = join(REPO, 'native', 'build', 'nsx-exec')
  const before = createHash('sha256').update(readFileSync(exe)).digest('hex')
  const r = f.nsx(['run', '--layer', f.base, '--layer', evil, '-v', `${vol}:/evil/mnt:ro`, '--', 'sh', '-c', `cat ${victim}/mnt/in-volume; touch ${victim}/mnt/x 2>&1; probe exe-open; probe exe-write`])
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines[0], 'v', 'the volume is where the symlink leads inside the root')
  assert.match(lines[1], /Read-only file system/)
  assert.equal(lines[2], 'exe-open errno=EACCES', 'the init is not dumpable')
  assert.equal(lines[3], 'exe-write errno=EACCES')
  assert.deepEqual(readdirSync(victim), [], 'nothing was created on the host through the symlink')
  assert.equal(createHash('sha256').update(readFileSync(exe)).digest('hex'), before)
})

test('--dry-run prints the plan and creates nothing', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const before = existsSync(join(f.store, 'run')) ? readdirSync(join(f.store, 'run')) : []
  const r = runIn(['--dry-run', '--name', 'dry'], ['true'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^nsx run: \d+ operations/)
  for (const op of ['ctr-supervise', 'ctr-rootfs', 'ctr-pivot', 'ctr-mask /proc/kcore', 'ctr-readonly /proc/sys', 'ctr-init', 'cap-bound a80425fb', 'no-new-privs', 'close-fds', 'ctr-exec true']) assert.ok(r.stdout.includes(op), `${op} in the plan`)
  const j = JSON.parse(runIn(['--dry-run', '--json', '--name', 'dry'], ['true']).stdout)
  assert.equal(j.command, 'nsx run')
  assert.equal(j.spec.name, 'dry')
  assert.deepEqual(readdirSync(join(f.store, 'run')), before)
  assert.ok(!existsSync(join(f.store, 'names', 'dry')))
  assert.deepEqual(cgroupsNamed('dry'), [])
})
