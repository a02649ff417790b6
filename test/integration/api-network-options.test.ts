import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {api, ApiService, startApiService, swaggerCall} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {IN_CI} from '../helpers/env.js'
import {makeNetLab, needNetLab, NetLab} from '../helpers/netns.js'

/**
 * What docker-py's network tests ask of a network and of an endpoint, through the Engine API
 * (docker-py itself and raw requests checked against moby's 1.41 swagger) and through nsx
 * network's own flags (docker's names): IPAM's IPRange and AuxiliaryAddresses, the bridge's
 * name, a name with a space, link-local addresses and driver options of an endpoint, the
 * explicit bridge network mode and inspect's scope. Everything runs in the test's own network
 * namespace (test/helpers/netns.ts).
 */

const services: ApiService[] = []
after(async () => {
  for (const s of services) await s.stop()
})

async function serviceInLab(lab: NetLab): Promise<ApiService> {
  mkdirSync(join(lab.dir, 'img'), {recursive: true})
  const l = lab.nsx(['load', '-i', buildBusyboxArchive(join(lab.dir, 'img'))])
  assert.equal(l.status, 0, l.stderr)
  // No NSX_NETWORK: a container that names no network gets nsx's default, the bridge, as docker's.
  const {NSX_NETWORK: _n, ...env} = process.env
  const svc = await startApiService(lab.dir, {...env, NSX_ROOT: lab.store, NO_COLOR: '1'}, lab.pid)
  services.push(svc)
  return svc
}

test('Engine API network options: IPRange, AuxiliaryAddresses, bridge name, a name with a space, link-local IPs and DriverOpts, scope', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const svc = await serviceInLab(lab)
  const call = await swaggerCall(svc.socket)
  const pool = {Subnet: '10.99.30.0/24', IPRange: '10.99.30.128/29', Gateway: '10.99.30.1', AuxiliaryAddresses: {router: '10.99.30.129', spare: '10.99.30.131'}}
  const made = await call('POST', '/networks/create', '/networks/create', {Name: 'ranged', IPAM: {Driver: 'default', Config: [pool]}, Options: {'com.docker.network.bridge.name': 'br-ranged'}}, 201) as {Id: string}
  const net = await call('GET', `/networks/${made.Id}`, '/networks/{id}') as {IPAM: {Config: object[]; Options?: object}; Options: Record<string, string>}
  assert.deepEqual(net.IPAM.Config, [pool])
  assert.equal(net.IPAM.Options, undefined, 'IPAM options that were not given')
  assert.deepEqual(net.Options, {'com.docker.network.bridge.name': 'br-ranged'})
  // Every network is local: asked in the swarm's scope it is not there.
  await call('GET', '/networks/ranged?scope=local', '/networks/{id}')
  assert.equal((await api(svc.socket, 'GET', '/v1.41/networks/ranged?scope=swarm')).status, 404)
  // The bridge's name is the network's alone; an address outside the subnet is refused as docker does.
  const taken = await api(svc.socket, 'POST', '/v1.41/networks/create', JSON.stringify({Name: 'other', Options: {'com.docker.network.bridge.name': 'br-ranged'}}))
  assert.deepEqual([taken.status, JSON.parse(taken.body).message], [409, 'bridge name br-ranged is already used by network ranged'])
  assert.match((await api(svc.socket, 'POST', '/v1.41/networks/create', JSON.stringify({Name: 'other', IPAM: {Config: [{Subnet: '10.99.31.0/24', IPRange: '10.99.32.0/28'}]}}))).body, /not a part of the subnet 10\.99\.31\.0\/24/)
  assert.match((await api(svc.socket, 'POST', '/v1.41/networks/create', JSON.stringify({Name: 'other', IPAM: {Config: [{Subnet: '10.99.31.0/24', AuxiliaryAddresses: {a: '10.99.32.1'}}]}}))).body, /invalid --aux-address a=10\.99\.32\.1/)

  // A container on it gets an address of the range that is not an auxiliary one; its link-local address and driver options are kept.
  const ep = {IPAMConfig: {LinkLocalIPs: ['169.254.8.8']}, DriverOpts: {'com.example.setting': 'on'}}
  await call('POST', '/containers/create?name=one', '/containers/create', {Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: {NetworkMode: 'ranged'}, NetworkingConfig: {EndpointsConfig: {ranged: ep}}}, 201)
  assert.equal((await api(svc.socket, 'POST', '/v1.41/containers/one/start')).status, 204)
  const one = await call('GET', '/containers/one/json', '/containers/{id}/json') as {NetworkSettings: {Networks: Record<string, {IPAddress: string; IPAMConfig: object; DriverOpts: object; Gateway: string}>}}
  const on = one.NetworkSettings.Networks.ranged
  assert.deepEqual([on.IPAMConfig, on.DriverOpts, on.Gateway], [ep.IPAMConfig, ep.DriverOpts, '10.99.30.1'])
  assert.ok(['10.99.30.128', '10.99.30.130', '10.99.30.132', '10.99.30.133', '10.99.30.134', '10.99.30.135'].includes(on.IPAddress), on.IPAddress)
  const addrs = lab.nsx(['exec', 'one', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])
  assert.match(addrs.stdout, /inet 169\.254\.8\.8\/16/, addrs.stderr)
  assert.match(lab.run('ip', ['-o', 'link', 'show', 'br-ranged']).stdout, /br-ranged/)
  // docker stats has the container's interfaces (lo left out), from its own network namespace.
  const stats = await call('GET', '/containers/one/stats?stream=0', '/containers/{id}/stats') as {networks?: Record<string, {rx_bytes: number; tx_packets: number}>}
  assert.deepEqual(Object.keys(stats.networks ?? {}), ['eth0'])
  assert.ok(stats.networks!.eth0.rx_bytes >= 0 && Number.isInteger(stats.networks!.eth0.tx_packets))
  // A static address outside the range is refused (host-local hands out the range only), one that is in it taken.
  const bad = await api(svc.socket, 'POST', '/v1.41/containers/create?name=two', JSON.stringify({Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: {NetworkMode: 'ranged'}, NetworkingConfig: {EndpointsConfig: {ranged: {IPAMConfig: {IPv4Address: '10.99.30.129'}}}}}))
  assert.equal(bad.status, 201, bad.body)
  const started = await api(svc.socket, 'POST', '/v1.41/containers/two/start')
  assert.equal(started.status, 400, started.body)
  assert.match(started.body, /hands out addresses from 10\.99\.30\.128\/29, less its auxiliary addresses/)
  assert.equal((await api(svc.socket, 'DELETE', '/v1.41/containers/two?force=1')).status, 204)

  // docker's explicit NetworkMode bridge is the bridge, with the endpoint's options.
  await call('POST', '/containers/create?name=onbridge', '/containers/create', {Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: {NetworkMode: 'bridge'}, NetworkingConfig: {EndpointsConfig: {bridge: {DriverOpts: {'com.example.x': '1'}}}}}, 201)
  assert.equal((await api(svc.socket, 'POST', '/v1.41/containers/onbridge/start')).status, 204)
  const b = await call('GET', '/containers/onbridge/json', '/containers/{id}/json') as {NetworkSettings: {Networks: Record<string, {IPAddress: string; DriverOpts: object}>}}
  assert.deepEqual(Object.keys(b.NetworkSettings.Networks), ['bridge'])
  assert.match(b.NetworkSettings.Networks.bridge.IPAddress, /^10\.77\./)
  assert.deepEqual(b.NetworkSettings.Networks.bridge.DriverOpts, {'com.example.x': '1'})

  // docker-py: a network whose name has a space, made, inspected and removed by name; connect with a link-local address.
  const py = spawnSync('python3', ['-c', `
import docker
from docker.types import IPAMConfig, IPAMPool
c = docker.APIClient(base_url='${svc.host}', version='1.41')
n = c.create_network('test 01')
assert c.inspect_network('test 01')['Id'] == n['Id']
c.connect_container_to_network('onbridge', 'test 01', link_local_ips=['169.254.9.9'], aliases=['spaced'])
s = c.inspect_container('onbridge')['NetworkSettings']['Networks']['test 01']
assert s['IPAMConfig'] == {'LinkLocalIPs': ['169.254.9.9']}, s
assert s['Aliases'] == ['spaced'], s
c.disconnect_container_from_network('onbridge', 'test 01')
assert c.remove_network('test 01') is None
print('ok')
`], {encoding: 'utf8', timeout: 60000})
  if (py.error || /No module named/.test(py.stderr)) {
    if (IN_CI) assert.fail(`needs python3-docker: ${py.stderr}`)
  } else assert.equal(py.stdout, 'ok\n', py.stderr)

  for (const c of ['one', 'onbridge']) assert.equal((await api(svc.socket, 'DELETE', `/v1.41/containers/${c}?force=1`)).status, 204)
  assert.equal((await api(svc.socket, 'DELETE', '/v1.41/networks/ranged')).status, 204)
  assert.doesNotMatch(lab.run('ip', ['-o', 'link']).stdout, /br-ranged|veth/)
})

test('nsx network create --ip-range --aux-address -o and connect --link-local-ip --driver-opt: docker\'s flags onto the same functions', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const mk = lab.nsx(['network', 'create', '--subnet', '10.99.40.0/24', '--ip-range', '10.99.40.16/30', '--aux-address', 'r=10.99.40.16', '-o', 'com.docker.network.bridge.name=br-cli', '-o', 'com.docker.network.driver.mtu=1400', 'clinet'])
  assert.equal(mk.status, 0, mk.stderr)
  const inspected = JSON.parse(lab.nsx(['network', 'inspect', 'clinet']).stdout)[0]
  assert.deepEqual(inspected.IPAM.Config, [{Subnet: '10.99.40.0/24', IPRange: '10.99.40.16/30', Gateway: '10.99.40.1', AuxiliaryAddresses: {r: '10.99.40.16'}}])
  const run = lab.nsx(['run', '-d', '--name', 'c1', '--network', 'clinet', '--link-local-ip', '169.254.1.1', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(run.status, 0, run.stderr)
  const addr = lab.nsx(['exec', 'c1', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])
  // The range's own first address is handed out, as docker's (only the subnet's are not), but .16 is auxiliary: .17 is the first.
  assert.match(addr.stdout, /inet 10\.99\.40\.17\/24/, addr.stderr)
  assert.match(addr.stdout, /inet 169\.254\.1\.1\/16/)
  assert.match(lab.nsx(['exec', 'c1', 'ip', 'link', 'show', 'eth0']).stdout, /mtu 1400/)
  assert.equal(lab.nsx(['network', 'create', 'bridged']).status, 0)
  const con = lab.nsx(['network', 'connect', '--driver-opt', 'k=v', '--link-local-ip', '169.254.2.2', 'bridged', 'c1'])
  assert.equal(con.status, 0, con.stderr)
  const net = JSON.parse(lab.nsx(['container', 'inspect', 'c1']).stdout)[0].NetworkSettings.Networks
  assert.deepEqual([net.clinet.IPAMConfig, net.bridged.IPAMConfig, net.bridged.DriverOpts], [{LinkLocalIPs: ['169.254.1.1']}, {LinkLocalIPs: ['169.254.2.2']}, {k: 'v'}])
  assert.match(lab.nsx(['exec', 'c1', 'ip', '-4', '-o', 'addr', 'show', 'eth1']).stdout, /inet 169\.254\.2\.2\/16/)
  // Refusals: one line, nothing made.
  const badOpt = lab.nsx(['network', 'connect', '--driver-opt', 'novalue', 'clinet', 'c1'])
  assert.equal(badOpt.stderr, "nsx network connect: invalid --driver-opt 'novalue': expected KEY=VALUE\n")
  const badLl = lab.nsx(['run', '--network', 'clinet', '--link-local-ip', '300.1.1.1', '--layer', lab.layer, '--', 'true'])
  assert.equal(badLl.status, 125)
  assert.match(badLl.stderr, /invalid --link-local-ip '300\.1\.1\.1'/)
  const badStatic = lab.nsx(['run', '--rm', '--network', 'clinet', '--ip', '10.99.40.16', '--layer', lab.layer, '--', 'true'])
  assert.equal(badStatic.status, 125)
  assert.match(badStatic.stderr, /hands out addresses from 10\.99\.40\.16\/30, less its auxiliary addresses/)
  const full = lab.nsx(['network', 'create', '--subnet', '10.99.41.0/24', '--ip-range', '10.99.41.4/30', '--aux-address', 'a=10.99.41.4', '--aux-address', 'b=10.99.41.5', '--aux-address', 'c=10.99.41.6', '--aux-address', 'd=10.99.41.7', 'full'])
  assert.equal(full.status, 1)
  assert.match(full.stderr, /no address of 10\.99\.41\.4\/30 is left to hand out/)
  assert.equal(lab.nsx(['network', 'create', '-o', 'com.docker.network.bridge.name=way-too-long-a-name', 'x']).status, 1)
  assert.equal(lab.nsx(['rm', '-f', 'c1']).status, 0)
  assert.equal(lab.nsx(['network', 'rm', 'clinet', 'bridged']).status, 0)
  assert.doesNotMatch(lab.run('ip', ['-o', 'link']).stdout, /br-cli|veth/)
})

test('IPv6: a network made with --ipv6 (EnableIPv6) gives its containers an IPv6 address too, static with --ip6; without it the pool is kept and shown, an IPv6Address asked is kept, none handed out (docker 20.10)', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const mk = lab.nsx(['network', 'create', '--ipv6', '--subnet', '10.99.50.0/24', '--subnet', 'fd00:99:50::/64', '--ip-range', 'fd00:99:50::100/120', 'six'])
  assert.equal(mk.status, 0, mk.stderr)
  const n = JSON.parse(lab.nsx(['network', 'inspect', 'six']).stdout)[0]
  assert.equal(n.EnableIPv6, true)
  assert.deepEqual(n.IPAM.Config, [{Subnet: '10.99.50.0/24', Gateway: '10.99.50.1'}, {Subnet: 'fd00:99:50::/64', IPRange: 'fd00:99:50::100/120', Gateway: 'fd00:99:50::1'}])
  for (const [name, extra] of [['a', []], ['b', ['--ip6', 'fd00:99:50::1f0']]] as const) {
    const r = lab.nsx(['run', '-d', '--name', name, '--network', 'six', ...extra, '--layer', lab.layer, '--', 'sleep', '1000'])
    assert.equal(r.status, 0, r.stderr)
  }
  const a = JSON.parse(lab.nsx(['container', 'inspect', 'a']).stdout)[0].NetworkSettings.Networks.six
  assert.match(a.GlobalIPv6Address, /^fd00:99:50::1[0-9a-f]{2}$/)
  assert.deepEqual([a.GlobalIPv6PrefixLen, a.IPv6Gateway], [64, 'fd00:99:50::1'])
  const b = JSON.parse(lab.nsx(['container', 'inspect', 'b']).stdout)[0].NetworkSettings.Networks.six
  assert.deepEqual([b.GlobalIPv6Address, b.IPAMConfig], ['fd00:99:50::1f0', {IPv6Address: 'fd00:99:50::1f0'}])
  assert.match(lab.nsx(['exec', 'b', 'ip', '-6', '-o', 'addr', 'show', 'eth0']).stdout, /inet6 fd00:99:50::1f0\/64/)
  // a reaches b over IPv6 through the bridge.
  const ping = lab.nsx(['exec', 'a', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do ping -6 -c 1 -W 1 fd00:99:50::1f0 >/dev/null && echo ok && break; sleep 0.5; done'])
  assert.equal(ping.stdout, 'ok\n', ping.stderr)
  const netC = JSON.parse(lab.nsx(['network', 'inspect', 'six']).stdout)[0].Containers
  assert.deepEqual(Object.values(netC).map((c) => (c as {IPv6Address: string}).IPv6Address).sort(), [`${a.GlobalIPv6Address}/64`, 'fd00:99:50::1f0/64'].sort())
  // Refusals: outside the range, not IPv6, --ipv6 without an IPv6 subnet.
  const out = lab.nsx(['run', '--rm', '--network', 'six', '--ip6', 'fd00:99:50::5', '--layer', lab.layer, '--', 'true'])
  assert.equal(out.status, 125)
  assert.match(out.stderr, /hands out IPv6 addresses of network six from fd00:99:50::100\/120/)
  assert.match(lab.nsx(['run', '--rm', '--network', 'six', '--ip6', '10.0.0.1', '--layer', lab.layer, '--', 'true']).stderr, /invalid --ip6 '10\.0\.0\.1'/)
  assert.match(lab.nsx(['network', 'create', '--ipv6', 'nov6']).stderr, /--ipv6 needs an IPv6 --subnet/)

  // Without EnableIPv6 (docker-py's test_create_with_ipv6_address): the pool is shown, the address asked kept, none given.
  const svc = await serviceInLab(lab)
  const made = await api(svc.socket, 'POST', '/v1.41/networks/create', JSON.stringify({Name: 'v6pool', IPAM: {Driver: 'default', Config: [{Subnet: '2001:389::1/64'}]}}))
  assert.equal(made.status, 201, made.body)
  const created = await api(svc.socket, 'POST', '/v1.41/containers/create?name=c', JSON.stringify({Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: {NetworkMode: 'v6pool'}, NetworkingConfig: {EndpointsConfig: {v6pool: {IPAMConfig: {IPv6Address: '2001:389::f00d'}}}}}))
  assert.equal(created.status, 201, created.body)
  assert.equal((await api(svc.socket, 'POST', '/v1.41/containers/c/start')).status, 204)
  const c = JSON.parse((await api(svc.socket, 'GET', '/v1.41/containers/c/json')).body).NetworkSettings.Networks.v6pool
  assert.deepEqual([c.IPAMConfig, c.GlobalIPv6Address], [{IPv6Address: '2001:389::f00d'}, ''])
  assert.doesNotMatch(lab.nsx(['exec', 'c', 'ip', '-6', '-o', 'addr', 'show', 'eth0']).stdout, /2001:389/)
  const v6 = JSON.parse((await api(svc.socket, 'GET', '/v1.41/networks/v6pool')).body)
  assert.deepEqual([v6.EnableIPv6, v6.IPAM.Config[1]], [false, {Subnet: '2001:389::/64', Gateway: '2001:389::1'}])
  for (const x of ['a', 'b', 'c']) assert.equal(lab.nsx(['rm', '-f', x]).status, 0)
  assert.equal(lab.nsx(['network', 'rm', 'six', 'v6pool']).status, 0)
  assert.doesNotMatch(lab.run('ip', ['-o', 'link']).stdout, /veth/)
})
