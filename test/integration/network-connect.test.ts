import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {eventually, makeNetLab, needNetLab, NetLab} from '../helpers/netns.js'

// nsx network connect / disconnect / prune; every container runs inside the lab's own network namespace (test/helpers/netns.ts).

const ls = (dir: string) => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

const leases = (lab: NetLab, net: string) => ls(join(lab.store, 'networks', 'ipam', net)).filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip'))
const inspect = (lab: NetLab, what: string) => JSON.parse(lab.nsx(['container', 'inspect', what]).stdout)[0]
const netInspect = (lab: NetLab, what: string) => JSON.parse(lab.nsx(['network', 'inspect', what]).stdout)[0]

test('network connect and disconnect a running container: ethN made and removed by CNI, /etc/hosts of both sides follows, the lease released', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  for (const [name, subnet] of [['front', '10.99.7.0/24'], ['back', '10.99.8.0/24']]) assert.equal(lab.nsx(['network', 'create', '--subnet', subnet, name]).status, 0)
  const db = lab.nsx(['run', '-d', '--name', 'db', '--network', 'back', '--layer', lab.layer, '--', 'httpd', '-f', '-p', '80', '-h', '/www'])
  assert.equal(db.status, 0, db.stderr)
  const app = lab.nsx(['run', '-d', '--name', 'app', '--network', 'front', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(app.status, 0, app.stderr)
  // Not on back yet: db's name is unknown to app.
  assert.notEqual(lab.nsx(['exec', 'app', 'ping', '-c', '1', '-W', '1', 'db']).status, 0)

  const c = lab.nsx(['network', 'connect', '--alias', 'api', '--ip', '10.99.8.40', 'back', 'app'])
  assert.equal(c.status, 0, c.stderr)
  assert.equal(c.stdout, '')
  const addr = lab.nsx(['exec', 'app', 'ip', '-4', '-o', 'addr', 'show', 'eth1'])
  assert.match(addr.stdout, /inet 10\.99\.8\.40\/24/, addr.stderr)
  const got = lab.nsx(['exec', 'app', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://db/ && break; sleep 0.5; done'])
  assert.equal(got.stdout, 'hello from nsx\n', got.stderr)
  // db's /etc/hosts lists app by name and by its alias on back.
  assert.match(lab.nsx(['exec', 'db', 'cat', '/etc/hosts']).stdout, /10\.99\.8\.40\tapp [^\n]*\bapi\b/)
  assert.match(lab.nsx(['exec', 'app', 'cat', '/etc/hosts']).stdout, /10\.99\.8\.40\tapp/)
  const i = inspect(lab, 'app')
  assert.deepEqual(Object.keys(i.NetworkSettings.Networks), ['front', 'back'])
  assert.equal(i.NetworkSettings.Networks.back.IPAddress, '10.99.8.40')
  assert.deepEqual(i.NetworkSettings.Networks.back.Aliases, ['api'])
  assert.deepEqual(i.NetworkSettings.Networks.back.IPAMConfig, {IPv4Address: '10.99.8.40'})
  assert.ok(Object.values(netInspect(lab, 'back').Containers).some((x) => (x as {Name: string}).Name === 'app'))

  // docker's refusals, one line each, exit 1, nothing changed.
  const again = lab.nsx(['network', 'connect', 'back', 'app'])
  assert.equal(again.status, 1)
  assert.equal(again.stderr, 'nsx network connect: endpoint with name app already exists in network back\n')
  assert.equal(lab.nsx(['network', 'connect', 'nowhere', 'app']).stderr, 'nsx network connect: network nowhere not found\n')
  assert.equal(lab.nsx(['network', 'connect', 'back', 'ghost']).stderr, 'nsx network connect: No such container: ghost\n')
  assert.match(lab.nsx(['network', 'connect', '--ip', '10.1.1.1', 'front', 'db']).stderr, /^nsx network connect: Invalid address 10\.1\.1\.1: It does not belong to any of this network's subnets\n$/)
  assert.match(lab.nsx(['network', 'connect', '--alias', 'x', 'bridge', 'db']).stderr, /network-scoped alias is supported only for containers in user defined networks/)
  const hostc = lab.nsx(['run', '-d', '--name', 'h', '--network', 'host', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(hostc.status, 0, hostc.stderr)
  assert.equal(lab.nsx(['network', 'connect', 'back', 'h']).stderr, 'nsx network connect: container cannot be disconnected from host network or connected to host network\n')
  const none = lab.nsx(['create', '--name', 'n', '--network', 'none', '--layer', lab.layer, '--', 'true'])
  assert.equal(none.status, 0, none.stderr)
  assert.equal(lab.nsx(['network', 'connect', 'back', 'n']).stderr, 'nsx network connect: container cannot be connected to multiple networks with one of the networks in private (none) mode\n')
  const uns = lab.nsx(['create', '--name', 'u', '--network', 'front', '--userns', '0:100000:65536', '--layer', lab.layer, '--', 'true'])
  assert.equal(uns.status, 0, uns.stderr)
  assert.equal(lab.nsx(['network', 'connect', 'back', 'u']).stderr, 'nsx network connect: container u runs in a user namespace (--userns): it cannot be connected to nsx networks\n')
  assert.equal(lab.nsx(['network', 'disconnect', 'front', 'db']).stderr, `nsx network disconnect: container ${inspect(lab, 'db').Id} is not connected to network front\n`)

  const d = lab.nsx(['network', 'disconnect', 'back', 'app'])
  assert.equal(d.status, 0, d.stderr)
  assert.notEqual(lab.nsx(['exec', 'app', 'ip', 'link', 'show', 'eth1']).status, 0, 'eth1 is left after disconnect')
  assert.doesNotMatch(lab.nsx(['exec', 'db', 'cat', '/etc/hosts']).stdout, /\bapp\b/)
  assert.deepEqual(leases(lab, 'back').length, 1, 'app\'s lease on back is left')
  assert.deepEqual(Object.keys(inspect(lab, 'app').NetworkSettings.Networks), ['front'])
  // Stays off back across a restart; eth0 on front is untouched.
  assert.equal(lab.nsx(['restart', '-t', '0', 'app']).status, 0)
  assert.ok(await eventually(() => inspect(lab, 'app').State.Running === true))
  assert.deepEqual(Object.keys(inspect(lab, 'app').NetworkSettings.Networks), ['front'])
  assert.equal(lab.nsx(['rm', '-f', 'app', 'db', 'h', 'n', 'u']).status, 0)
  assert.deepEqual(ls(join(lab.store, 'networks', 'endpoints')), [])
  assert.deepEqual([...leases(lab, 'front'), ...leases(lab, 'back')], [])
  assert.equal(lab.run('ip', ['-o', 'link', 'show', 'type', 'veth']).stdout, '')
})

test('network connect and disconnect a created container: its next start joins what its spec says; network prune', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  for (const [name, subnet] of [['one', '10.99.9.0/24'], ['two', '10.99.10.0/24'], ['spare', '10.99.11.0/24']]) assert.equal(lab.nsx(['network', 'create', '--label', `k=${name}`, '--subnet', subnet, name]).status, 0)
  const cr = lab.nsx(['create', '--name', 'c1', '--network', 'one', '--network-alias', 'first', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(cr.status, 0, cr.stderr)
  // A created container shows the networks it will join, with no address yet.
  const before = inspect(lab, 'c1').NetworkSettings.Networks
  assert.deepEqual(Object.keys(before), ['one'])
  assert.deepEqual(before.one.Aliases, ['first'])
  assert.equal(before.one.IPAddress, '')
  assert.equal(before.one.NetworkID, netInspect(lab, 'one').Id)
  // Off its only network and on again (docker-compose does this before each start), then onto a second one.
  assert.equal(lab.nsx(['network', 'disconnect', 'one', 'c1']).status, 0)
  assert.deepEqual(inspect(lab, 'c1').NetworkSettings.Networks, {})
  assert.equal(lab.nsx(['network', 'connect', '--alias', 'again', 'one', 'c1']).status, 0)
  assert.equal(lab.nsx(['network', 'connect', '--ip', '10.99.10.9', 'two', 'c1']).status, 0)
  const st = lab.nsx(['start', 'c1'])
  assert.equal(st.status, 0, st.stderr)
  const addrs = lab.nsx(['exec', 'c1', 'ip', '-4', '-o', 'addr']).stdout
  assert.match(addrs, /eth0 +inet 10\.99\.9\.\d+\/24/)
  assert.match(addrs, /eth1 +inet 10\.99\.10\.9\/24/)
  const n = inspect(lab, 'c1').NetworkSettings.Networks
  assert.deepEqual(n.one.Aliases, ['again'])
  // prune: spare only (one and two have a running container); label filters narrow it.
  assert.equal(lab.nsx(['network', 'prune', '-f', '--filter', 'label=k=none']).stdout, '')
  const p = lab.nsx(['network', 'prune', '-f'])
  assert.equal(p.status, 0, p.stderr)
  assert.equal(p.stdout, 'Deleted Networks:\nspare\n\n')
  assert.doesNotMatch(lab.nsx(['network', 'ls']).stdout, /spare/)
  assert.equal(lab.nsx(['rm', '-f', 'c1']).status, 0)
  assert.equal(lab.nsx(['network', 'prune', '-f']).stdout, 'Deleted Networks:\none\ntwo\n\n')
  assert.equal(lab.run('ip', ['-o', 'link', 'show', 'type', 'bridge']).stdout.includes('nsx-'), false)
})
