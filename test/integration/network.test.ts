import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NSX_BIN} from '../helpers/env.js'
import {eventually, makeNetLab, needNetLab, NetLab} from '../helpers/netns.js'

// Every container here runs inside the lab's own network namespace (test/helpers/netns.ts).

const ls = (dir: string) => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** What a container's network leaves when it is gone: nothing, apart from the bridge and empty chains. */
function assertNothingLeft(lab: NetLab, ip: string, what: string): void {
  assert.deepEqual(ls(join(lab.store, 'netns')), [], `${what}: a network namespace is left`)
  assert.deepEqual(ls(join(lab.store, 'networks', 'endpoints')), [], `${what}: an endpoint record is left`)
  for (const net of ls(join(lab.store, 'networks', 'ipam'))) {
    const leases = ls(join(lab.store, 'networks', 'ipam', net)).filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip'))
    assert.deepEqual(leases, [], `${what}: an address lease is left on ${net}`)
  }
  const links = lab.run('ip', ['-o', 'link', 'show', 'type', 'veth']).stdout
  assert.equal(links.trim(), '', `${what}: a veth is left: ${links}`)
  const rules = lab.run('iptables-save', []).stdout
  assert.ok(!rules.includes(`${ip}/`) && !rules.includes(`${ip}:`), `${what}: iptables rules for ${ip} are left:\n${rules}`)
}

test('the default network for root, bridge: an address, a default route, /etc/hosts, resolv.conf and hostname; NSX_NETWORK overrides it', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const r = lab.nsx(['run', '--rm', '--hostname', 'box', '--add-host', 'db:10.1.2.3', '--layer', lab.layer, '--', 'sh', '-c', 'ip -4 -o addr show eth0; ip route; cat /etc/hosts; echo ---; cat /etc/hostname; grep -c nameserver /etc/resolv.conf'])
  assert.equal(r.status, 0, r.stderr)
  const ip = /inet (10\.77\.\d+\.\d+)\/16/.exec(r.stdout)?.[1]
  assert.ok(ip, `no address on the default bridge:\n${r.stdout}`)
  assert.match(r.stdout, /default via 10\.77\.0\.1 dev eth0/)
  assert.match(r.stdout, new RegExp(`${ip.replace(/\./g, '\\.')}\\tbox`))
  assert.match(r.stdout, /10\.1\.2\.3\tdb/)
  assert.match(r.stdout, /---\nbox\n[1-9]/)
  // The bridge is the lab's gateway, with NAT for the container's outbound traffic.
  assert.match(lab.run('ip', ['-4', '-o', 'addr', 'show', 'nsx0']).stdout, /10\.77\.0\.1\/16/)
  assertNothingLeft(lab, ip, 'after a foreground --rm run')
  // The default is bridge for root without NSX_NETWORK (the lab unsets the suite's none), and NSX_NETWORK overrides it.
  assert.equal(lab.nsx(['run', '-d', '--name', 'dflt', '--layer', lab.layer, '--', 'sleep', '1000']).status, 0)
  const settings = JSON.parse(lab.nsx(['container', 'inspect', 'dflt']).stdout)[0]
  assert.equal(settings.HostConfig.NetworkMode, 'bridge')
  assert.match(settings.NetworkSettings.Networks.bridge.IPAddress, /^10\.77\./)
  const none = lab.nsx(['run', '--rm', '--layer', lab.layer, '--', 'sh', '-c', 'ls /sys/class/net'], {env: {NSX_NETWORK: 'none'}})
  assert.equal(none.stdout, 'lo\n', none.stderr)
  assert.equal(lab.nsx(['rm', '-f', 'dflt']).status, 0)
  assertNothingLeft(lab, settings.NetworkSettings.IPAddress, 'after the default network\'s container went')
})

test('-p: a server reached through the published port from the host side and from 127.0.0.1, no proxy; nsx port; a udp port', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const r = lab.nsx(['run', '-d', '--name', 'web', '-p', '18080:80', '-p', '127.0.0.1:15353:5353/udp', '--layer', lab.layer, '--', 'sh', '-c', 'httpd -p 80 -h /www; exec udp-echo 5353'])
  assert.equal(r.status, 0, r.stderr)
  assert.ok(await eventually(() => lab.http('http://10.77.0.1:18080/') === 'hello from nsx\n'), 'the published port does not answer on the bridge address')
  assert.equal(lab.http('http://127.0.0.1:18080/'), 'hello from nsx\n', 'the published port does not answer on 127.0.0.1')
  // No userspace proxy: nothing listens on the host port, the kernel forwards it.
  assert.doesNotMatch(lab.run('ss', ['-ltnH']).stdout, /:18080\b/)
  const port = lab.nsx(['port', 'web'])
  assert.equal(port.status, 0, port.stderr)
  assert.equal(port.stdout, '80/tcp -> 0.0.0.0:18080\n5353/udp -> 127.0.0.1:15353\n')
  assert.equal(lab.nsx(['port', 'web', '80']).stdout, '0.0.0.0:18080\n')
  assert.ok(await eventually(() => lab.udp('127.0.0.1', 15353, 'ping-udp') === 'echo ping-udp'), 'no answer through the published udp port')
  assert.match(lab.nsx(['logs', 'web']).stdout, /got ping-udp/)
  const ps = lab.nsx(['ps'])
  assert.match(ps.stdout, /0\.0\.0\.0:18080->80\/tcp, 127\.0\.0\.1:15353->5353\/udp/)
  const wi = JSON.parse(lab.nsx(['container', 'inspect', 'web']).stdout)[0]
  const ip = wi.NetworkSettings.IPAddress as string
  assert.match(ip, /^10\.77\./)
  assert.deepEqual(wi.HostConfig.PortBindings, {'80/tcp': [{HostIp: '', HostPort: '18080'}], '5353/udp': [{HostIp: '127.0.0.1', HostPort: '15353'}]})
  assert.deepEqual(wi.Config.ExposedPorts, {'80/tcp': {}, '5353/udp': {}})
  assert.equal(lab.nsx(['rm', '-f', 'web']).status, 0)
  assertNothingLeft(lab, ip, 'after nsx rm -f')
})

test('a port already taken: one clear error before the container starts, nothing left', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const a = lab.nsx(['run', '-d', '--name', 'a', '-p', '18081:80', '--layer', lab.layer, '--', 'httpd', '-f', '-p', '80', '-h', '/www'])
  assert.equal(a.status, 0, a.stderr)
  const b = lab.nsx(['run', '-d', '--rm', '--name', 'b', '-p', '18081:80', '--layer', lab.layer, '--', 'httpd', '-f', '-p', '80'])
  assert.equal(b.status, 125)
  assert.equal(b.stderr, 'nsx run: Bind for 0.0.0.0:18081/tcp failed: port is already allocated\n')
  // A port a process of the host side listens on.
  const listener = lab.run('sh', ['-c', 'busybox nc -l -p 18082 >/dev/null 2>&1 & echo $!'])
  const c = lab.nsx(['run', '--rm', '-p', '18082:80', '--layer', lab.layer, '--', 'true'])
  lab.run('kill', [listener.stdout.trim()])
  assert.equal(c.status, 125)
  assert.match(c.stderr, /^nsx run: Bind for 0\.0\.0\.0:18082\/tcp failed: port is already in use on the host\n$/)
  assert.equal(lab.nsx(['ps', '-aq']).stdout.trim().split('\n').length, 1, 'only the first container exists')
  assert.equal(ls(join(lab.store, 'netns')).length, 1)
  lab.nsx(['rm', '-f', 'a'])
  assertNothingLeft(lab, '10.77.0.', 'after the conflicts')
})

test('-P publishes the EXPOSEd ports (an image built with EXPOSE) to free host ports; a kept container releases its network when it ends', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const r = lab.nsx(['run', '-d', '--name', 'p', '-P', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  // A --layer root has no image config: -P has nothing to publish.
  assert.equal(lab.nsx(['port', 'p']).stdout, '')
  assert.equal(lab.nsx(['stop', '-t', '0', 'p']).status, 0)
  assertNothingLeft(lab, '10.77.0.', 'after the container ended')
  // An image built with EXPOSE: each exposed port to a free host port, shown by nsx port, ps and inspect.
  writeFileSync(join(lab.dir, 'Dockerfile'), 'FROM scratch\nCOPY . /\nEXPOSE 80 5353/udp\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n')
  const b = lab.nsx(['build', '-q', '-t', 'exposing', '-f', join(lab.dir, 'Dockerfile'), lab.layer])
  assert.equal(b.status, 0, b.stderr)
  assert.equal(lab.nsx(['run', '-d', '--name', 'e', '-P', 'exposing']).status, 0)
  const lines = lab.nsx(['port', 'e']).stdout
  const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)\n5353\/udp -> 0\.0\.0\.0:(\d+)\n$/.exec(lines)
  assert.ok(m, `nsx port after -P:\n${lines}`)
  assert.ok(Number(m[1]) >= 32768 && Number(m[2]) >= 32768, 'not ports of the ephemeral range')
  assert.ok(await eventually(() => lab.http(`http://127.0.0.1:${m[1]}/`) === 'hello from nsx\n'), 'the -P port does not answer')
  assert.match(lab.nsx(['ps']).stdout, new RegExp(`0\\.0\\.0\\.0:${m[1]}->80/tcp, 0\\.0\\.0\\.0:${m[2]}->5353/udp`))
  const ports = JSON.parse(lab.nsx(['container', 'inspect', 'e']).stdout)[0].NetworkSettings.Ports
  assert.deepEqual(ports, {'80/tcp': [{HostIp: '0.0.0.0', HostPort: m[1]}], '5353/udp': [{HostIp: '0.0.0.0', HostPort: m[2]}]})
  const ei = JSON.parse(lab.nsx(['container', 'inspect', 'e']).stdout)[0]
  assert.deepEqual(ei.Config.ExposedPorts, {'80/tcp': {}, '5353/udp': {}})
  assert.equal(ei.HostConfig.PublishAllPorts, true)
  assert.deepEqual(ei.HostConfig.PortBindings, {})
  // Without -P the exposed ports are listed, unpublished: bare in ps, null in inspect (docker's way); -p publishes one of them.
  assert.equal(lab.nsx(['run', '-d', '--name', 'f', '-p', '127.0.0.1::80', 'exposing']).status, 0)
  const fport = /^80\/tcp -> 127\.0\.0\.1:(\d+)\n$/.exec(lab.nsx(['port', 'f']).stdout)
  assert.ok(fport, lab.nsx(['port', 'f']).stdout)
  assert.equal(lab.nsx(['ps', '--filter', 'name=f', '--format', '{{.Ports}}|{{.Networks}}']).stdout, `127.0.0.1:${fport[1]}->80/tcp, 5353/udp|bridge\n`)
  const fi = JSON.parse(lab.nsx(['container', 'inspect', 'f']).stdout)[0]
  assert.deepEqual(fi.NetworkSettings.Ports, {'80/tcp': [{HostIp: '127.0.0.1', HostPort: fport[1]}], '5353/udp': null})
  assert.deepEqual(fi.HostConfig.PortBindings, {'80/tcp': [{HostIp: '127.0.0.1', HostPort: ''}]})
  assert.equal(fi.HostConfig.PublishAllPorts, false)
  const fj = JSON.parse(lab.nsx(['ps', '--json', '--filter', 'name=f']).stdout)[0]
  assert.deepEqual([fj.network, fj.addresses.length, fj.unpublishedPorts], ['bridge', 1, ['5353/udp']])
  // Stopped: no ports, as docker ps and inspect show.
  assert.equal(lab.nsx(['stop', '-t', '0', 'f']).status, 0)
  assert.equal(lab.nsx(['ps', '-a', '--filter', 'name=f', '--format', '{{.Ports}}']).stdout, '\n')
  assert.deepEqual(JSON.parse(lab.nsx(['container', 'inspect', 'f']).stdout)[0].NetworkSettings.Ports, {})
  assert.equal(lab.nsx(['rm', '-f', 'e', 'f']).status, 0)
  assertNothingLeft(lab, '10.77.0.', 'after the -P containers went')
})

test('nsx killed by SIGKILL: nsx gc releases the address, the veth, the rules and the namespace', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const r = lab.nsx(['run', '-d', '--name', 'k', '-p', '18083:80', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const dir = join(lab.store, 'run', r.stdout.trim())
  const {readFileSync} = await import('node:fs')
  const supervisor = Number(readFileSync(join(dir, 'pids'), 'utf8').split(' ')[0])
  process.kill(supervisor, 'SIGKILL')
  assert.ok(await eventually(() => lab.nsx(['ps', '-a', '--format', '{{.Status}}']).stdout.startsWith('Exited')))
  const gc = lab.nsx(['gc'])
  assert.equal(gc.status, 0, gc.stderr)
  assertNothingLeft(lab, '10.77.0.', 'after SIGKILL and gc')
})

test('a user-defined network: containers reach each other by name and alias; container:NAME shares a namespace; network ls, inspect, rm', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const c = lab.nsx(['network', 'create', '--subnet', '10.99.5.0/24', 'appnet'])
  assert.equal(c.status, 0, c.stderr)
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/)
  assert.match(lab.nsx(['network', 'ls']).stdout, /^NETWORK ID +NAME +DRIVER +SCOPE\n[0-9a-f]{12} +bridge +bridge +local\n[0-9a-f]{12} +host +host +local\n[0-9a-f]{12} +none +null +local\n[0-9a-f]{12} +appnet +bridge +local\n$/)
  assert.equal(lab.nsx(['network', 'create', 'appnet']).stderr, 'nsx network create: network with name appnet already exists\n')
  const srv = lab.nsx(['run', '-d', '--name', 'srv', '--network', 'appnet', '--network-alias', 'db', '--ip', '10.99.5.50', '--layer', lab.layer, '--', 'httpd', '-f', '-p', '80', '-h', '/www'])
  assert.equal(srv.status, 0, srv.stderr)
  const app = lab.nsx(['run', '--rm', '--name', 'app', '--network', 'appnet', '--layer', lab.layer, '--', 'sh', '-c', 'ping -c 1 -W 5 srv >/dev/null && echo pinged; for i in 1 2 3 4 5 6 7 8 9 10; do wget -O - http://db/ 2>/dev/null && break; sleep 0.5; done'])
  assert.equal(app.status, 0, app.stderr)
  assert.equal(app.stdout, 'pinged\nhello from nsx\n')
  // The network's NAT and forwarding: one rule set of its own (not one per container), each rule once.
  const bridge = `nsx-${JSON.parse(lab.nsx(['network', 'inspect', 'appnet']).stdout)[0].Id.slice(0, 8)}`
  const own = lab.run('iptables-save', []).stdout.split('\n').filter((l) => l.includes(bridge) || l.includes('10.99.5.'))
  assert.deepEqual(own.sort(), [`-A NSX-FORWARD -i ${bridge} -j ACCEPT`, `-A NSX-FORWARD -o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, `-A NSX-POSTROUTING -s 10.99.5.0/24 ! -o ${bridge} -j MASQUERADE`])
  const inspect = JSON.parse(lab.nsx(['network', 'inspect', 'appnet']).stdout)[0]
  assert.equal(inspect.IPAM.Config[0].Subnet, '10.99.5.0/24')
  assert.deepEqual(Object.values(inspect.Containers).map((x) => (x as {Name: string; IPv4Address: string}).IPv4Address), ['10.99.5.50/24'])
  // Another container's network namespace: its loopback is the server's.
  const shared = lab.nsx(['run', '--rm', '--network', 'container:srv', '--layer', lab.layer, '--', 'wget', '-q', '-O', '-', 'http://127.0.0.1/'])
  assert.equal(shared.stdout, 'hello from nsx\n', shared.stderr)
  const rm = lab.nsx(['network', 'rm', 'appnet'])
  assert.equal(rm.status, 1)
  assert.match(rm.stderr, /has active endpoints \(srv\)/)
  assert.equal(lab.nsx(['rm', '-f', 'srv']).status, 0)
  assert.equal(lab.nsx(['network', 'rm', 'appnet']).stdout, 'appnet\n')
  assert.doesNotMatch(lab.run('ip', ['-o', 'link']).stdout, /nsx-/)
  assert.doesNotMatch(lab.run('iptables-save', []).stdout, new RegExp(`${bridge}|10\\.99\\.5\\.`), 'the network\'s rules outlive it')
  assertNothingLeft(lab, '10.99.5.50', 'after the network went')
})

test('peers\' /etc/hosts on a user-defined network: a container started later is seen by those running; one that exits, is stopped or removed leaves no stale line', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  assert.equal(lab.nsx(['network', 'create', '--subnet', '10.99.6.0/24', 'peers']).status, 0)
  const start = (name: string, ip: string, cmd: string[]) => {
    const r = lab.nsx(['run', '-d', '--name', name, '--network', 'peers', '--ip', ip, '--layer', lab.layer, '--', ...cmd])
    assert.equal(r.status, 0, r.stderr)
  }
  // What each container itself sees in /etc/hosts (the file bound into it, rewritten in place).
  const hostsOf = (name: string) => lab.nsx(['exec', name, 'cat', '/etc/hosts']).stdout
  const peersOf = (name: string) => hostsOf(name).split('\n').filter((l) => /^10\.99\.6\./.test(l)).sort()
  start('a', '10.99.6.10', ['sleep', '1000'])
  assert.deepEqual(peersOf('a'), ['10.99.6.10\ta'], 'a alone knows only itself')
  // b and c start later: a, already running, sees them at once, and reaches them by name.
  start('b', '10.99.6.11', ['sleep', '1000'])
  start('c', '10.99.6.12', ['sh', '-c', 'until [ -e /tmp/go ]; do sleep 0.1; done'])
  start('d', '10.99.6.13', ['sleep', '1000'])
  assert.deepEqual(peersOf('a'), ['10.99.6.10\ta', '10.99.6.11\tb', '10.99.6.12\tc', '10.99.6.13\td'])
  assert.deepEqual(peersOf('d'), ['10.99.6.10\ta', '10.99.6.11\tb', '10.99.6.12\tc', '10.99.6.13\td'])
  const ping = lab.nsx(['exec', 'a', 'ping', '-c', '1', '-W', '5', 'd'])
  assert.equal(ping.status, 0, ping.stdout + ping.stderr)
  // c ends by itself: its supervisor's teardown drops it from the others' files.
  assert.equal(lab.nsx(['exec', 'c', 'touch', '/tmp/go']).status, 0)
  assert.ok(await eventually(() => !hostsOf('a').includes('\tc') && !hostsOf('b').includes('\tc')), `c is still in a's /etc/hosts after it exited:\n${hostsOf('a')}`)
  // d is stopped; b is removed (nsx rm -f).
  assert.equal(lab.nsx(['stop', '-t', '0', 'd']).status, 0)
  assert.equal(lab.nsx(['rm', '-f', 'b']).status, 0)
  assert.ok(await eventually(() => peersOf('a').length === 1), `stale lines in a's /etc/hosts:\n${hostsOf('a')}`)
  assert.equal(hostsOf('a').includes('# containers on the same network(s)'), false, 'an empty peers\' part is left')
  // d started again: a sees it again, and d sees a.
  assert.equal(lab.nsx(['start', 'd']).status, 0)
  assert.deepEqual(peersOf('a'), ['10.99.6.10\ta', '10.99.6.13\td'])
  assert.deepEqual(peersOf('d'), ['10.99.6.10\ta', '10.99.6.13\td'])
  lab.nsx(['rm', '-f', 'a', 'c', 'd'])
  assert.equal(lab.nsx(['network', 'rm', 'peers']).status, 0)
  assertNothingLeft(lab, '10.99.6.10', 'after the peers went')
})

/**
 * A CNI_PATH whose portmap plugin (the first DEL of a teardown) holds its DEL while the gate
 * file exists (its pid in del.pid): the teardown of a foreground run can be caught while it runs.
 */
function gatedCni(lab: NetLab): {env: Record<string, string>; gate: string; delPid: string} {
  const gate = join(lab.dir, 'gate')
  const delPid = join(lab.dir, 'del.pid')
  return {...cniWith(lab, 'cni', 'portmap', `if [ "$CNI_COMMAND" = DEL ] && [ -e ${gate} ]; then echo $$ > ${delPid}; while [ -e ${gate} ]; do sleep 0.1; done; fi`), gate, delPid}
}

/** A CNI_PATH (LAB/NAME) of the reference plugins whose PLUGIN runs the shell lines PRELUDE first, then the real one. */
function cniWith(lab: NetLab, name: string, plugin: string, prelude: string): {env: Record<string, string>} {
  const dir = join(lab.dir, name)
  mkdirSync(dir)
  for (const p of readdirSync('/usr/lib/cni')) if (p !== plugin) symlinkSync(join('/usr/lib/cni', p), join(dir, p))
  writeFileSync(join(dir, plugin), `#!/bin/sh\n${prelude}\nexec /usr/lib/cni/${plugin}\n`, {mode: 0o755})
  return {env: {NSX_CNI_PATH: dir}}
}

/** nsx run in the lab with stderr to a file, not a pipe: what a terminal sees (nsx's status, not the teardown's end). */
const runToFile = (lab: NetLab, cni: {env: Record<string, string>}, args: string[], background = false) =>
  lab.run('sh', ['-c', `"$0" "$@" >"$OUT" 2>&1${background ? ' &' : ''}`, process.execPath, NSX_BIN, 'run', ...args], {env: {...process.env, NSX_ROOT: lab.store, NSX_NETWORK: 'bridge', OUT: join(lab.dir, background ? 'bg.out' : 'fg.out'), ...cni.env}})

/** Whether a process waits for the flock of FILE (a "->" line of /proc/locks on its inode). */
function lockAwaited(file: string): boolean {
  const ino = statSync(file).ino
  return readFileSync('/proc/locks', 'utf8').split('\n').some((l) => / -> FLOCK /.test(l) && l.split(/\s+/).some((f) => f.endsWith(`:${ino}`)))
}

test('a foreground run returns before its teardown; a start waits for the teardown holding its port; a killed teardown is undone by nsx gc', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const cni = gatedCni(lab)
  // The teardown held: the run has returned its status, the container's record is still there.
  writeFileSync(cni.gate, '')
  const r = runToFile(lab, cni, ['--rm', '-p', '18090:80', '--layer', lab.layer, '--', 'sh', '-c', 'exit 3'])
  assert.equal(r.status, 3, readFileSync(join(lab.dir, 'fg.out'), 'utf8'))
  assert.ok(await eventually(() => existsSync(cni.delPid)), 'the teardown did not start')
  const [ended] = ls(join(lab.store, 'networks', 'endpoints'))
  assert.ok(ended, 'the record is kept while the teardown runs')
  // A start asking for the same host port waits for that teardown, then has the port's DNAT alone.
  runToFile(lab, cni, ['-d', '--name', 'web', '-p', '18090:80', '--layer', lab.layer, '--', 'httpd', '-f', '-p', '80', '-h', '/www'], true)
  assert.ok(await eventually(() => lockAwaited(join(lab.store, 'networks', 'endpoints', ended, 'teardown'))), 'the start does not wait for the teardown holding its port')
  rmSync(cni.gate)
  assert.ok(await eventually(() => lab.nsx(['ps', '-q']).stdout.trim() !== ''), `the second start did not run: ${readFileSync(join(lab.dir, 'bg.out'), 'utf8')}`)
  assert.ok(await eventually(() => lab.http('http://10.77.0.1:18090/') === 'hello from nsx\n'), 'the port does not reach the new container')
  const dnat = lab.run('iptables-save', ['-t', 'nat']).stdout.split('\n').filter((l) => /--dports? 18090\b.*-j CNI-DN-/.test(l))
  assert.equal(dnat.length, 1, `one DNAT jump for the port:\n${dnat.join('\n')}`)
  assert.equal(lab.nsx(['rm', '-f', 'web']).status, 0)
  assertNothingLeft(lab, '10.77.0.', 'after the second container')
  // The teardown killed by SIGKILL while it runs (with its plugin): its record says what nsx gc undoes.
  rmSync(cni.delPid)
  writeFileSync(cni.gate, '')
  assert.equal(runToFile(lab, cni, ['--rm', '-p', '18091:80', '--layer', lab.layer, '--', 'true']).status, 0)
  assert.ok(await eventually(() => existsSync(cni.delPid)), 'the teardown did not start')
  const plugin = Number(readFileSync(cni.delPid, 'utf8'))
  const script = Number(readFileSync(`/proc/${plugin}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1])
  process.kill(script, 'SIGKILL')
  process.kill(plugin, 'SIGKILL')
  rmSync(cni.gate)
  assert.equal(ls(join(lab.store, 'networks', 'endpoints')).length, 1, 'the killed teardown left its record')
  assert.match(lab.run('ip', ['-o', 'link', 'show', 'type', 'veth']).stdout, /veth/)
  const gc = lab.nsx(['gc'], {env: cni.env})
  assert.equal(gc.status, 0, gc.stderr)
  assertNothingLeft(lab, '10.77.0.', 'after the killed teardown and nsx gc')
})

test('a plugin whose ADD fails: its CNI error in one line, 125, and nothing of the attachment left', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const {env} = cniWith(lab, 'cni-fail', 'portmap', `if [ "$CNI_COMMAND" = ADD ]; then cat > ${join(lab.dir, 'portmap.in')}; echo '{"cniVersion":"1.0.0","code":7,"msg":"no way","details":"on purpose"}'; exit 1; fi`)
  const r = lab.nsx(['run', '--rm', '-p', '18092:80', '--layer', lab.layer, '--', 'true'], {env})
  assert.equal(r.stderr, 'nsx run: CNI plugin portmap ADD failed: no way: on purpose\n')
  assert.equal(r.status, 125)
  // portmap was given bridge's result as its prevResult, and the published port.
  const input = JSON.parse(readFileSync(join(lab.dir, 'portmap.in'), 'utf8'))
  assert.match(input.prevResult.ips[0].address, /^10\.77\./)
  assert.deepEqual(input.runtimeConfig.portMappings, [{hostIP: '', hostPort: 18092, containerPort: 80, protocol: 'tcp'}])
  assertNothingLeft(lab, '10.77.0.', 'after a failed ADD')
  // Detached: the same line (the ADD ends after the start has handed over: its init says it, instead of running the command).
  const d = lab.nsx(['run', '-d', '--name', 'nope', '-p', '18092:80', '--layer', lab.layer, '--', 'sleep', '100'], {env})
  assert.equal(d.stderr, 'nsx run: CNI plugin portmap ADD failed: no way: on purpose\n')
  assert.equal(d.status, 125)
  assert.equal(lab.nsx(['rm', 'nope'], {env}).status, 0)
  assertNothingLeft(lab, '10.77.0.', 'after a failed ADD of a detached run')
})

test('the ADD runs on while the executor sets the root up: the init waits for it before the command, /etc/hosts already has the address; an init killed meanwhile leaves nothing', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  // A bridge plugin whose ADD is held while the gate file exists (its pid in add.pid).
  const gate = join(lab.dir, 'gate')
  const addPid = join(lab.dir, 'add.pid')
  const cni = cniWith(lab, 'cni-slow', 'bridge', `if [ "$CNI_COMMAND" = ADD ] && [ -e ${gate} ]; then echo $$ > ${addPid}; while [ -e ${gate} ]; do sleep 0.1; done; fi`)
  writeFileSync(gate, '')
  runToFile(lab, cni, ['--rm', '--name', 'early', '--layer', lab.layer, '--', 'sh', '-c', 'ip -4 -o addr show eth0; grep early /etc/hosts'], true)
  assert.ok(await eventually(() => existsSync(addPid), 60000), 'the ADD did not start')
  const [id] = ls(join(lab.store, 'networks', 'endpoints'))
  // The container's init is born and waits on the ADD's status (its lock), the command not run yet.
  assert.ok(await eventually(() => lockAwaited(join(lab.store, 'networks', 'endpoints', id, 'add.status')), 60000), 'the init does not wait for the ADD')
  assert.ok(existsSync(join(lab.store, 'run', id, 'pids')), 'the executor has not started the container')
  assert.equal(readFileSync(join(lab.dir, 'bg.out'), 'utf8'), '')
  const ip = /^(10\.77\.\d+\.\d+)\t/m.exec(readFileSync(join(lab.store, 'run', id, 'hosts'), 'utf8'))?.[1]
  assert.ok(ip, 'its /etc/hosts has no address of its own before the ADD')
  rmSync(gate)
  assert.ok(await eventually(() => readFileSync(join(lab.dir, 'bg.out'), 'utf8').includes('early'), 60000), 'the command did not run')
  const out = readFileSync(join(lab.dir, 'bg.out'), 'utf8')
  assert.match(out, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/16 .*\\n${ip.replace(/\./g, '\\.')}\\t`), 'the address asked of host-local is the one in /etc/hosts')
  assert.ok(await eventually(() => ls(join(lab.store, 'networks', 'endpoints')).length === 0, 60000), 'the teardown did not run')
  assertNothingLeft(lab, ip, 'after a run whose ADD was held')
  // Its init killed while the ADD is held (nsx rm would wait for the start, which holds the
  // container's lock): the supervisor's teardown waits for the ADD, then undoes it.
  rmSync(addPid)
  writeFileSync(gate, '')
  runToFile(lab, cni, ['-d', '--name', 'held', '--layer', lab.layer, '--', 'sleep', '1000'], true)
  assert.ok(await eventually(() => existsSync(addPid), 60000), 'the ADD did not start')
  const [held] = ls(join(lab.store, 'networks', 'endpoints'))
  const ep = join(lab.store, 'networks', 'endpoints', held)
  const ino = statSync(join(ep, 'add.status')).ino
  const waiter = () => readFileSync('/proc/locks', 'utf8').split('\n').filter((l) => / -> FLOCK +ADVISORY +READ /.test(l) && l.split(/\s+/).some((f) => f.endsWith(`:${ino}`)))
  assert.ok(await eventually(() => waiter().length > 0, 60000), 'the init does not wait for the ADD')
  const init = Number(waiter()[0].trim().split(/\s+/)[5])
  assert.match(readFileSync(join(lab.store, 'run', held, 'pids'), 'utf8'), new RegExp(`^\\d+ \\d+ ${init} `), 'the process waiting is not the container\'s init')
  process.kill(init, 'SIGKILL')
  // The teardown has begun and waits for the ADD's lock.
  assert.ok(await eventually(() => existsSync(join(ep, 'ended')) && lockAwaited(join(ep, 'add.status')), 60000), 'the teardown does not wait for the ADD')
  rmSync(gate)
  assert.ok(await eventually(() => ls(join(lab.store, 'networks', 'endpoints')).length === 0, 60000), `the held container was not torn down: ${readFileSync(join(lab.dir, 'bg.out'), 'utf8')}`)
  assert.equal(lab.nsx(['rm', '-f', 'held']).status, 0)
  assertNothingLeft(lab, '10.77.0.', 'after an init killed while its ADD ran')
})
