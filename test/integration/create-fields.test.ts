import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {api, dockerCliFixture} from '../helpers/api.js'
import {eventually} from '../helpers/netns.js'

/**
 * What create is given is honoured or refused, never dropped: --pid, --uts, --ipc, --cgroupns,
 * --init, --group-add, --device-cgroup-rule, --volumes-from through nsx run, the docker CLI and
 * docker-py, each checked against the kernel from /proc of the container's processes; refused
 * fields answer 400 and leave nothing.
 */

const {h, skip, dk} = dockerCliFixture({after, before}, 'nsx-cfields-')
const py = (code: string) => spawnSync('python3', ['-c', `import docker\nc = docker.APIClient(base_url='${h.svc!.host}', version='1.41')\n${code}`], {encoding: 'utf8', timeout: 60000})

/** The container's init and its command (the init's one child), by their host pids. */
async function pidsOf(name: string): Promise<{init: number; cmd: number}> {
  const init = Number(h.fx!.nsx(['inspect', name, '--format', '{{.State.Pid}}']).stdout.trim())
  assert.ok(init > 0, `no init pid for ${name}`)
  let cmd = 0
  assert.ok(await eventually(() => (cmd = Number(readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim().split(' ')[0] || 0)) > 0), `no command under ${init}`)
  return {init, cmd}
}
const ns = (pid: number | 'self', kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`)
const rm = (...names: string[]) => h.fx!.nsx(['rm', '-f', '-v', ...names])
const count = () => (JSON.parse(h.fx!.nsx(['ps', '-a', '--json']).stdout) as unknown[]).length

test("--pid, --uts, --ipc, --cgroupns host: the container's namespaces are the host's (nsx run and the docker CLI)", async (t) => {
  if (skip(t)) return
  const host = Object.fromEntries(['pid', 'uts', 'ipc', 'cgroup', 'mnt'].map((k) => [k, ns('self', k)]))
  const r = h.fx!.nsx(['run', '-d', '--name', 'hostns', '--pid', 'host', '--uts', 'host', '--ipc', 'host', '--cgroupns', 'host', '--layer', h.fx!.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const d = dk(['run', '-d', '--name', 'hostns2', '--pid', 'host', '--uts', 'host', '--ipc', 'host', '--cgroupns', 'host', 'busybox', 'sleep', '1000'])
  assert.equal(d.status, 0, d.stderr)
  for (const name of ['hostns', 'hostns2']) {
    const {cmd} = await pidsOf(name)
    for (const k of ['pid', 'uts', 'ipc', 'cgroup']) assert.equal(ns(cmd, k), host[k], `${name} ${k}`)
    assert.notEqual(ns(cmd, 'mnt'), host.mnt)
    const hc = JSON.parse(dk(['inspect', name]).stdout)[0].HostConfig
    assert.deepEqual([hc.PidMode, hc.UTSMode, hc.IpcMode, hc.CgroupnsMode], ['host', 'host', 'host', 'host'])
  }
  // The host's name, untouched; the command's pid is the host's (it is not PID 1).
  assert.equal(h.fx!.nsx(['exec', 'hostns', 'hostname']).stdout.trim(), spawnSync('hostname', {encoding: 'utf8'}).stdout.trim())
  const {cmd} = await pidsOf('hostns')
  assert.equal(h.fx!.nsx(['exec', 'hostns', 'sh', '-c', `test -d /proc/${cmd} && echo seen`]).stdout.trim(), 'seen')
  // What the command leaves when it ends is killed with it (no pid namespace does it here).
  const orphan = h.fx!.nsx(['run', '-d', '--name', 'orphans', '--pid', 'host', '--layer', h.fx!.base, '--', 'sh', '-c', '(sleep 1000 &); sleep 1000'])
  assert.equal(orphan.status, 0, orphan.stderr)
  await pidsOf('orphans')
  const inOrphans = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cgroup`, 'utf8').includes('/nsx-orphans-')
    } catch {
      return false
    }
  })
  assert.ok(await eventually(() => inOrphans().length >= 2), 'the orphan did not start')
  assert.equal(h.fx!.nsx(['stop', '-t', '1', 'orphans']).status, 0)
  assert.ok(await eventually(() => inOrphans().length === 0), `an orphan of the container lived on: ${inOrphans().join(' ')}`)
  // --hostname with --uts host is refused in one line, nothing made.
  const before = count()
  const bad = h.fx!.nsx(['run', '--uts', 'host', '--hostname', 'x', '--layer', h.fx!.base, '--', 'true'])
  assert.equal(bad.status, 125)
  assert.match(bad.stderr, /^nsx run: conflicting options: --hostname and --uts host/)
  assert.equal(bad.stderr.trim().split('\n').length, 1)
  assert.equal(count(), before)
  rm('hostns', 'hostns2', 'orphans')
})

test("--pid and --ipc container:NAME: another container's namespaces; --volumes-from: the same mounts", async (t) => {
  if (skip(t)) return
  const donor = h.fx!.nsx(['run', '-d', '--name', 'donor', '-v', '/data', '-v', `${h.fx!.dir}/img:/bound`, '--layer', h.fx!.base, '--', 'sh', '-c', 'echo from-donor > /data/f; sleep 1000'])
  assert.equal(donor.status, 0, donor.stderr)
  const d = await pidsOf('donor')
  const r = h.fx!.nsx(['run', '-d', '--name', 'guest', '--pid', 'container:donor', '--ipc', 'container:donor', '--volumes-from', 'donor:ro', '--layer', h.fx!.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const g = await pidsOf('guest')
  assert.equal(ns(g.cmd, 'pid'), ns(d.cmd, 'pid'))
  assert.equal(ns(g.cmd, 'ipc'), ns(d.cmd, 'ipc'))
  assert.notEqual(ns(g.cmd, 'uts'), ns(d.cmd, 'uts'))
  // The donor's processes are seen from the guest: two inits, two sleeps.
  const ps = h.fx!.nsx(['exec', 'guest', 'ps']).stdout
  assert.equal(ps.match(/nsx-init/g)?.length, 2, ps)
  assert.equal(ps.match(/sleep 1000/g)?.length, 2, ps)
  // Each mount: the same device and root, read-only in the guest (:ro).
  const mounts = (pid: number) => new Map(readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n').map((l) => l.split(' ')).map((f) => [f[4], {dev: f[2], root: f[3], ro: f[5].split(',').includes('ro')}]))
  const dm = mounts(d.cmd)
  const gm = mounts(g.cmd)
  for (const p of ['/data', '/bound']) {
    assert.deepEqual({...gm.get(p), ro: undefined}, {...dm.get(p), ro: undefined}, p)
    assert.equal(gm.get(p)?.ro, true, p)
    assert.equal(dm.get(p)?.ro, false, p)
  }
  assert.equal(h.fx!.nsx(['exec', 'guest', 'cat', '/data/f']).stdout, 'from-donor\n')
  assert.deepEqual(JSON.parse(dk(['inspect', 'guest']).stdout)[0].HostConfig.VolumesFrom, ['donor:ro'])
  // The same through docker-py; removing the guest leaves the donor's anonymous volume to the donor.
  const p = py(`x = c.create_container('busybox', ['sleep', '1000'], name='pyguest', host_config=c.create_host_config(volumes_from=['donor'], pid_mode='container:donor'))\nc.start(x)\nprint(c.inspect_container(x)['State']['Pid'])`)
  assert.equal(p.status, 0, p.stderr)
  const pg = await pidsOf('pyguest')
  assert.equal(ns(pg.cmd, 'pid'), ns(d.cmd, 'pid'))
  assert.equal(mounts(pg.cmd).get('/data')?.ro, false)
  assert.equal(rm('guest', 'pyguest').status, 0)
  assert.equal(h.fx!.nsx(['exec', 'donor', 'cat', '/data/f']).stdout, 'from-donor\n')
  // A donor that is not there: one line, 125, nothing made.
  const before = count()
  const bad = h.fx!.nsx(['create', '--volumes-from', 'nobody', '--layer', h.fx!.base, '--', 'true'])
  assert.equal(bad.status, 125)
  assert.match(bad.stderr, /^nsx create: --volumes-from nobody: no such container: nobody\n$/)
  assert.equal(count(), before)
  rm('donor')
})

test("--group-add: the command's supplementary groups (/proc/PID/status), by gid or the image's group name", async (t) => {
  if (skip(t)) return
  const r = h.fx!.nsx(['run', '-d', '--name', 'groups', '--group-add', 'extra', '--group-add', '4242', '--layer', h.fx!.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const groupsOf = (pid: number) => /^Groups:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1].trim().split(/\s+/).filter(Boolean)
  assert.deepEqual(groupsOf((await pidsOf('groups')).cmd).sort(), ['2000', '4242'])
  const d = dk(['run', '-d', '--name', 'groups2', '--group-add', '1000', '--group-add', '1001', 'busybox', 'sleep', '1000'])
  assert.equal(d.status, 0, d.stderr)
  assert.deepEqual(groupsOf((await pidsOf('groups2')).cmd).sort(), ['1000', '1001'])
  const p = py(`x = c.create_container('busybox', ['sleep', '1000'], name='groups3', host_config=c.create_host_config(group_add=[1000, '1002']))\nc.start(x)`)
  assert.equal(p.status, 0, p.stderr)
  assert.deepEqual(groupsOf((await pidsOf('groups3')).cmd).sort(), ['1000', '1002'])
  const bad = h.fx!.nsx(['run', '--group-add', 'nosuch', '--layer', h.fx!.base, '--', 'true'])
  assert.equal(bad.status, 125)
  assert.match(bad.stderr, /unable to find group nosuch/)
  rm('groups', 'groups2', 'groups3')
})

test('--device-cgroup-rule: the devices cgroup allows the node as the rule says, and no more', async (t) => {
  if (skip(t)) return
  // /dev/net/tun (c 10:200) opens without a capability: mknod needs m, the open r and w.
  const probe = ['sh', '-c', 'busybox mknod /tmp/tun c 10 200 && echo made && exec 3<>/tmp/tun && echo opened']
  const run = (rules: string[]) => h.fx!.nsx(['run', '--rm', ...rules.flatMap((x) => ['--device-cgroup-rule', x]), '--layer', h.fx!.base, '--', ...probe])
  assert.equal(run([]).stdout, '')
  assert.equal(run(['c 10:200 m']).stdout, 'made\n')
  assert.equal(run(['c 10:200 rwm']).stdout, 'made\nopened\n')
  assert.equal(run(['c 10:* rwm']).stdout, 'made\nopened\n')
  const d = dk(['run', '--rm', '--device-cgroup-rule', 'c 10:200 rwm', 'busybox', ...probe])
  assert.equal(d.stdout, 'made\nopened\n', d.stderr)
  // Where the host has a v1 devices hierarchy beside cgroup2 (hybrid, as here), rules beyond the
  // defaults are also the v1 devices cgroup's, mounted in the container as docker in v1 mode shows
  // them (docker-py reads devices.list); a plain run joins no v1 devices cgroup.
  if (existsSync('/sys/fs/cgroup/devices/devices.list')) {
    const list = (rules: string[]) => h.fx!.nsx(['run', '--rm', ...rules.flatMap((x) => ['--device-cgroup-rule', x]), '--layer', h.fx!.base, '--', 'cat', '/sys/fs/cgroup/devices/devices.list'])
    const asked = list(['c 7:128 rwm'])
    assert.equal(asked.status, 0, asked.stderr)
    assert.ok(asked.stdout.split('\n').includes('c 7:128 rwm'), asked.stdout)
    assert.ok(asked.stdout.split('\n').includes('c 1:3 rwm'), `the defaults too: ${asked.stdout}`)
    assert.ok(!asked.stdout.includes('a *:* rwm'), asked.stdout)
    assert.notEqual(list([]).status, 0, 'a plain run has no v1 devices cgroup')
    assert.equal(run(['c 7:128 rwm']).stdout, '', 'still c 10:200 is refused with the v1 cgroup joined')
  }
  const bad = h.fx!.nsx(['run', '--device-cgroup-rule', 'x 1:2 r', '--layer', h.fx!.base, '--', 'true'])
  assert.equal(bad.status, 125)
  assert.match(bad.stderr, /^nsx run: invalid --device-cgroup-rule 'x 1:2 r'/)
})

test('--init: pid 1 is the init, which reaps the orphans the command leaves', async (t) => {
  if (skip(t)) return
  const r = dk(['run', '-d', '--init', '--name', 'reaper', 'busybox', 'sh', '-c', '(sleep 0.3 &); exec sleep 1000'])
  assert.equal(r.status, 0, r.stderr)
  const {init} = await pidsOf('reaper')
  assert.equal(readFileSync(`/proc/${init}/cmdline`, 'utf8').split('\0')[0], 'nsx-init')
  assert.match(readFileSync(`/proc/${init}/status`, 'utf8'), /^NSpid:\s+\d+\s+1$/m)
  assert.equal(JSON.parse(dk(['inspect', 'reaper']).stdout)[0].HostConfig.Init, true)
  // The orphaned sleep is the init's child until it ends; then the init reaps it: no zombie stays.
  const kids = () => readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim().split(' ').filter(Boolean)
  assert.ok(await eventually(() => kids().length === 1), `the init still has ${kids().join(' ')}`)
  rm('reaper')
  const no = await api(h.svc!.socket, 'POST', '/v1.41/containers/create', JSON.stringify({Image: 'busybox', Cmd: ['true'], HostConfig: {Init: false}}), {'Content-Type': 'application/json'})
  assert.equal(no.status, 400)
})

test("--sysctl: written in the container's own namespaces, the host's untouched (nsx run and the docker CLI)", async (t) => {
  if (skip(t)) return
  const host = readFileSync('/proc/sys/kernel/shmmni', 'utf8')
  const hostPort = readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')
  const read = 'cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_unprivileged_port_start'
  const r = h.fx!.nsx(['run', '--rm', '--sysctl', 'kernel.shmmni=1234', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=80', '--layer', h.fx!.base, '--', 'sh', '-c', read])
  assert.equal(r.stdout, '1234\n80\n', r.stderr)
  const d = dk(['run', '--rm', '--sysctl', 'kernel.shmmni=2345', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=81', 'busybox', 'sh', '-c', read])
  assert.equal(d.stdout, '2345\n81\n', d.stderr)
  assert.equal(readFileSync('/proc/sys/kernel/shmmni', 'utf8'), host)
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'), hostPort)
  const bad = h.fx!.nsx(['run', '--ipc', 'host', '--sysctl', 'kernel.shmmni=1', '--layer', h.fx!.base, '--', 'true'])
  assert.equal(bad.status, 125)
  assert.match(bad.stderr, /^nsx run: --sysctl kernel.shmmni is not supported by nsx with --ipc host: that IPC namespace is not the container's own\n$/)
})

test('a refused field answers 400 naming it and leaves nothing; defaults pass', async (t) => {
  if (skip(t)) return
  const before = count()
  for (const [body, field] of [
    [{HostConfig: {Sysctls: {'kernel.hostname': 'x'}}}, 'kernel.hostname is not supported by nsx'],
    [{HostConfig: {Sysctls: {'net.ipv4.ip_forward': '1'}, NetworkMode: 'host'}}, 'not the container\'s own'],
    [{HostConfig: {Runtime: 'kata'}}, 'HostConfig.Runtime'],
    [{HostConfig: {DeviceRequests: [{Count: -1, Capabilities: [['gpu']]}]}}, 'HostConfig.DeviceRequests'],
    [{StopSignal: 'SIGUSR1'}, 'StopSignal'],
    [{HostConfig: {IpcMode: 'none'}}, '--ipc none'],
  ] as const) {
    const r = await api(h.svc!.socket, 'POST', '/v1.41/containers/create?name=refused', JSON.stringify({Image: 'busybox', Cmd: ['true'], ...body}), {'Content-Type': 'application/json'})
    assert.equal(r.status, 400, r.body)
    assert.ok(JSON.parse(r.body).message.includes(field), r.body)
  }
  const d = dk(['create', '--storage-opt', 'size=1G', 'busybox', 'true'])
  assert.notEqual(d.status, 0)
  assert.match(d.stderr, /HostConfig\.StorageOpt is not supported by nsx/)
  assert.equal(count(), before)
  const ok = py(`x = c.create_container('busybox', ['true'], name='defaults', stop_signal='SIGTERM', runtime='runc', host_config=c.create_host_config(isolation='default', sysctls={}, userns_mode='host'))\nprint(x['Id'])`)
  assert.equal(ok.status, 0, ok.stderr)
  rm('defaults')
})
