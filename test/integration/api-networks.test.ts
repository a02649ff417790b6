import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {api, ApiService, composeRunner, needCompose, needDockerCli, startApiService, swaggerCall} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {eventually, makeNetLab, needNetLab, NetLab} from '../helpers/netns.js'

/**
 * The Engine API's networks, and docker-compose (Debian's 1.29) driving nsx through them. The
 * service runs inside the test's own network lab (test/helpers/netns.ts), so the bridges, veths
 * and rules its containers get live there, never in the host's network namespace.
 */

const services: ApiService[] = []
after(async () => {
  for (const s of services) await s.stop()
})

const ls = (dir: string) => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

async function serviceInLab(lab: NetLab): Promise<ApiService> {
  mkdirSync(join(lab.dir, 'img'), {recursive: true})
  const l = lab.nsx(['load', '-i', buildBusyboxArchive(join(lab.dir, 'img'))])
  assert.equal(l.status, 0, l.stderr)
  const svc = await startApiService(lab.dir, {...process.env, NSX_ROOT: lab.store, NO_COLOR: '1', NSX_NETWORK: 'bridge'}, lab.pid)
  services.push(svc)
  return svc
}

test('Engine API networks: create, list, inspect, connect with aliases, disconnect, remove, prune, as moby 1.41 defines them', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const svc = await serviceInLab(lab)
  const call = await swaggerCall(svc.socket)
  const made = await call('POST', '/networks/create', '/networks/create', {Name: 'apinet', CheckDuplicate: true, Labels: {team: 'x'}, IPAM: {Driver: 'default', Config: [{Subnet: '10.99.20.0/24'}]}}, 201) as {Id: string}
  assert.match(made.Id, /^[0-9a-f]{64}$/)
  const taken = await api(svc.socket, 'POST', '/v1.41/networks/create', JSON.stringify({Name: 'apinet', CheckDuplicate: true}))
  assert.equal(taken.status, 409)
  assert.match(taken.body, /network with name apinet already exists/)
  assert.equal((await api(svc.socket, 'POST', '/v1.41/networks/create', JSON.stringify({Name: 'v6', EnableIPv6: true}))).status, 400)
  const all = await call('GET', '/networks', '/networks') as {Name: string}[]
  assert.deepEqual(all.map((n) => n.Name), ['bridge', 'host', 'none', 'apinet'])
  const byLabel = await call('GET', `/networks?filters=${encodeURIComponent(JSON.stringify({label: ['team=x']}))}`, '/networks') as {Name: string}[]
  assert.deepEqual(byLabel.map((n) => n.Name), ['apinet'])
  const one = await call('GET', `/networks/${made.Id.slice(0, 12)}`, '/networks/{id}') as {Name: string; Labels: Record<string, string>; IPAM: {Config: {Subnet: string}[]}; Options: object}
  assert.deepEqual([one.Name, one.Labels, one.IPAM.Config[0].Subnet, one.Options], ['apinet', {team: 'x'}, '10.99.20.0/24', {}])
  assert.equal((await api(svc.socket, 'GET', '/v1.41/networks/nowhere')).status, 404)

  // A container made on the network with an alias (NetworkingConfig), and a second connected while it runs.
  const srv = await call('POST', '/containers/create?name=srv', '/containers/create', {Image: 'busybox', Cmd: ['busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'], HostConfig: {NetworkMode: 'apinet', PortBindings: {'80/tcp': [{HostPort: '18081'}]}}, NetworkingConfig: {EndpointsConfig: {apinet: {Aliases: ['files']}}}}, 201) as {Id: string}
  const created = await call('GET', '/containers/srv/json', '/containers/{id}/json') as {NetworkSettings: {Networks: Record<string, {Aliases: string[]; NetworkID: string}>}}
  assert.deepEqual(created.NetworkSettings.Networks.apinet.Aliases, ['files'])
  assert.equal(created.NetworkSettings.Networks.apinet.NetworkID, made.Id)
  assert.equal((await api(svc.socket, 'POST', '/v1.41/containers/srv/start')).status, 204)
  // The list (docker ps) has its networks and published ports.
  const listed = await call('GET', '/containers/json', '/containers/json') as {Names: string[]; Ports: object[]; NetworkSettings: {Networks: Record<string, {IPAddress: string}>}}[]
  assert.match(listed[0].NetworkSettings.Networks.apinet.IPAddress, /^10\.99\.20\.\d+$/)
  assert.deepEqual(listed[0].Ports, [{IP: '0.0.0.0', PrivatePort: 80, PublicPort: 18081, Type: 'tcp'}])
  assert.ok(await eventually(() => lab.http('http://127.0.0.1:18081/motd') === 'from the base layer\n'), 'the published port does not answer')
  await call('POST', '/containers/create?name=cli', '/containers/create', {Image: 'busybox', Cmd: ['sleep', '1000']}, 201)
  assert.equal((await api(svc.socket, 'POST', '/v1.41/containers/cli/start')).status, 204)
  await call('POST', '/networks/apinet/connect', '/networks/{id}/connect', {Container: 'cli', EndpointConfig: {Aliases: ['client'], IPAMConfig: {IPv4Address: '10.99.20.77'}}})
  const running = await call('GET', '/containers/cli/json', '/containers/{id}/json') as {NetworkSettings: {Networks: Record<string, {IPAddress: string; Aliases: string[]}>}}
  assert.deepEqual(running.NetworkSettings.Networks.apinet.IPAddress, '10.99.20.77')
  assert.deepEqual(running.NetworkSettings.Networks.apinet.Aliases, ['client'])
  const fetched = lab.nsx(['exec', 'cli', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do busybox wget -q -O - http://files/motd && break; sleep 0.5; done'])
  assert.equal(fetched.stdout, 'from the base layer\n', fetched.stderr)
  const net = await call('GET', '/networks/apinet', '/networks/{id}') as {Containers: Record<string, {Name: string}>}
  assert.deepEqual(Object.values(net.Containers).map((c) => c.Name).sort(), ['cli', 'srv'])
  assert.equal((await api(svc.socket, 'POST', '/v1.41/networks/apinet/connect', JSON.stringify({Container: 'cli'}))).status, 403, 'connected twice')
  assert.equal((await api(svc.socket, 'POST', '/v1.41/networks/apinet/connect', JSON.stringify({Container: 'ghost'}))).status, 404)
  assert.equal((await api(svc.socket, 'DELETE', '/v1.41/networks/apinet')).status, 403, 'removed with active endpoints')
  assert.equal((await api(svc.socket, 'DELETE', '/v1.41/networks/bridge')).status, 403, 'a pre-defined network removed')
  await call('POST', '/networks/apinet/disconnect', '/networks/{id}/disconnect', {Container: 'cli'})
  assert.notEqual(lab.nsx(['exec', 'cli', 'ip', 'link', 'show', 'eth1']).status, 0)
  assert.equal((await api(svc.socket, 'POST', '/v1.41/networks/apinet/disconnect', JSON.stringify({Container: 'cli'}))).status, 403, 'disconnected twice')
  assert.equal((await api(svc.socket, 'DELETE', `/v1.41/containers/${srv.Id}?force=1`)).status, 204)
  assert.equal((await api(svc.socket, 'DELETE', '/v1.41/containers/cli?force=1')).status, 204)
  await call('POST', '/networks/create', '/networks/create', {Name: 'spare'}, 201)
  const pruned = await call('POST', '/networks/prune', '/networks/prune') as {NetworksDeleted: string[]}
  assert.deepEqual(pruned.NetworksDeleted.sort(), ['apinet', 'spare'])
  assert.deepEqual(ls(join(lab.store, 'networks', 'endpoints')), [])
  assert.doesNotMatch(lab.run('ip', ['-o', 'link']).stdout, /nsx-|veth/)
  // Network events from either door: nsx network create in a terminal, removed through the API.
  assert.equal(lab.nsx(['network', 'create', 'evnet']).status, 0)
  assert.equal((await api(svc.socket, 'DELETE', '/v1.41/networks/evnet')).status, 204)
  const events = await api(svc.socket, 'GET', `/v1.41/events?since=0&until=${Math.ceil(Date.now() / 1000)}&filters=${encodeURIComponent(JSON.stringify({type: ['network']}))}`)
  const told = events.body.trim().split('\n').map((l) => JSON.parse(l) as {Action: string; Actor: {Attributes: Record<string, string>}})
  const actions = (name: string) => told.filter((e) => e.Actor.Attributes.name === name).map((e) => e.Action)
  assert.deepEqual(actions('evnet'), ['create', 'destroy'])
  const apinet = actions('apinet')
  assert.ok(apinet[0] === 'create' && apinet.at(-1) === 'destroy' && apinet.includes('connect') && apinet.includes('disconnect'), apinet.join(' '))

  // Without CheckDuplicate (docker-py's default; the docker CLI always sends true) dockerd 20.10
  // makes a second network of a name, with an id of its own and a warning; the name is then
  // ambiguous (moby's "2 matches found based on name"), each id still names its network.
  const d1 = await call('POST', '/networks/create', '/networks/create', {Name: 'twin', CheckDuplicate: true}, 201) as {Id: string; Warning: string}
  assert.equal(d1.Warning, '')
  assert.equal((await api(svc.socket, 'POST', '/v1.41/networks/create', JSON.stringify({Name: 'twin', CheckDuplicate: true}))).status, 409)
  const d2 = await call('POST', '/networks/create', '/networks/create', {Name: 'twin', CheckDuplicate: false}, 201) as {Id: string; Warning: string}
  assert.notEqual(d2.Id, d1.Id)
  assert.equal(d2.Warning, `Network with name twin (id : ${d1.Id}) already exists`)
  const ambiguous = await api(svc.socket, 'GET', '/v1.41/networks/twin')
  assert.equal(ambiguous.status, 400)
  assert.match(ambiguous.body, /network twin is ambiguous \(2 matches found based on name\)/)
  for (const id of [d1.Id, d2.Id]) assert.equal((JSON.parse((await api(svc.socket, 'GET', `/v1.41/networks/${id}`)).body) as {Name: string}).Name, 'twin')
  const cli = lab.nsx(['network', 'inspect', 'twin'])
  assert.equal(cli.status, 1)
  assert.match(cli.stderr, /^[^\n]*network twin is ambiguous \(2 matches found based on name\): give its id\n$/)
  assert.equal(lab.nsx(['network', 'ls']).stdout.match(/\btwin\b/g)?.length, 2)
  assert.equal((await api(svc.socket, 'DELETE', `/v1.41/networks/${d2.Id}`)).status, 204)
  assert.equal((JSON.parse((await api(svc.socket, 'GET', '/v1.41/networks/twin')).body) as {Id: string}).Id, d1.Id)
  assert.equal((await api(svc.socket, 'DELETE', '/v1.41/networks/twin')).status, 204)
  assert.deepEqual(ls(join(lab.store, 'networks')).filter((f) => f.startsWith('twin')), [])
})

test('docker-compose 1.29: a server and its clients on the project network, reached by service name, with a named volume; up -d, up -d --scale, ps, logs, exec, down -v', async (t) => {
  if (!needNetLab(t)) return
  if (!needCompose(t)) return
  const docker = needDockerCli(t)
  if (!docker) return
  const lab = await makeNetLab(t)
  const svc = await serviceInLab(lab)
  const proj = join(lab.dir, 'proj')
  mkdirSync(proj)
  writeFileSync(
    join(proj, 'docker-compose.yml'),
    `version: "3.7"
services:
  web:
    image: busybox
    command: ["sh", "-c", "cp /etc/motd /srv/motd && exec busybox httpd -f -p 80 -h /srv"]
    volumes: ["data:/srv"]
  client:
    image: busybox
    depends_on: [web]
    command: ["sh", "-c", "until busybox wget -q -O - http://web/motd; do sleep 0.5; done; echo fetched by $$(hostname); exec sleep 1000"]
volumes:
  data: {}
`,
  )
  const compose = composeRunner(proj, 'nsxc', svc, docker)
  try {
    const up = compose(['up', '-d'])
    assert.equal(up.status, 0, up.text)
    const ps = compose(['ps'])
    assert.equal(ps.status, 0, ps.text)
    assert.match(ps.stdout, /nsxc_client_1 .* Up/)
    assert.match(ps.stdout, /nsxc_web_1 .* Up/)
    const net = JSON.parse(lab.nsx(['network', 'inspect', 'nsxc_default']).stdout)[0] as {Labels: Record<string, string>; Attachable: boolean; Containers: Record<string, {Name: string}>}
    assert.equal(net.Labels['com.docker.compose.project'], 'nsxc')
    assert.equal(net.Attachable, true)
    assert.deepEqual(Object.values(net.Containers).map((c) => c.Name).sort(), ['nsxc_client_1', 'nsxc_web_1'])
    // client reached web by its service name.
    assert.ok(await eventually(() => /fetched/.test(compose(['logs', '--no-color', 'client']).stdout), 30000), compose(['logs', '--no-color']).text)
    assert.match(compose(['logs', '--no-color', 'client']).stdout, /client_1 +\| from the base layer\n.*client_1 +\| fetched by /s)
    const ex = compose(['exec', '-T', 'client', 'busybox', 'wget', '-q', '-O', '-', 'http://web/motd'])
    assert.equal(ex.stdout, 'from the base layer\n', ex.text)
    // The service name by DNS too (the network's aardvark-dns; busybox's nslookup reads no /etc/hosts).
    const ns = compose(['exec', '-T', 'client', 'busybox', 'nslookup', '-type=a', 'web'])
    assert.equal(ns.status, 0, ns.text)
    assert.match(ns.stdout, /Name:\s+web\nAddress: \d+\.\d+\.\d+\.\d+/)
    // A second up finds everything as it is; --scale adds a client, which reaches web too.
    const again = compose(['up', '-d'])
    assert.equal(again.status, 0, again.text)
    assert.match(again.stderr, /nsxc_web_1 is up-to-date/)
    const scaled = compose(['up', '-d', '--scale', 'client=2'])
    assert.equal(scaled.status, 0, scaled.text)
    assert.match(compose(['ps']).stdout, /nsxc_client_2 .* Up/)
    assert.ok(await eventually(() => (compose(['logs', '--no-color', 'client']).stdout.match(/fetched by/g) ?? []).length === 2, 30000), compose(['logs', '--no-color']).text)
    assert.match(lab.nsx(['volume', 'ls']).stdout, /nsxc_data/)
    const down = compose(['down', '-v'])
    assert.equal(down.status, 0, down.text)
    assert.doesNotMatch(lab.nsx(['volume', 'ls']).stdout, /nsxc_data/)
    assert.equal(lab.nsx(['ps', '-aq']).stdout, '')
    assert.doesNotMatch(lab.nsx(['network', 'ls']).stdout, /nsxc_default/)
    assert.deepEqual(ls(join(lab.store, 'networks', 'endpoints')), [])
    assert.deepEqual(ls(join(lab.store, 'netns')), [])
    assert.doesNotMatch(lab.run('ip', ['-o', 'link']).stdout, /nsx-|veth/)
  } finally {
    compose(['down', '-v', '-t', '0'])
  }
})
