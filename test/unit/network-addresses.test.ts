import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {chooseAddresses} from '../../src/network/addresses.js'
import {buildConfList, ipamDir} from '../../src/network/networks.js'
import {endpointDir} from '../../src/network/records.js'
import {Store} from '../../src/store/store.js'
import type {NetworkConfList} from '../../src/network/types.js'

const dir = mkdtempSync(join(tmpdir(), 'nsx-addresses-'))
after(() => rmSync(dir, {recursive: true, force: true}))
const store = new Store(join(dir, 'store'))
const net = (name: string, subnet: string, gateway: string) => buildConfList(store, name, {id: name.padEnd(64, '0'), bridge: `br-${name}`, subnet, gateway, internal: false, created: '', labels: {}, options: {}} as unknown as NetworkConfList['nsx'])

test('nsx chooses an address as host-local would: after its last reservation, past its leases, the gateway and the addresses other records hold', () => {
  const a = net('a', '10.9.0.0/29', '10.9.0.1')
  const leases = join(ipamDir(store), 'a')
  mkdirSync(leases, {recursive: true})
  // Nothing reserved yet: the first address after the gateway.
  assert.deepEqual(chooseAddresses(store, [a], [undefined], 'me', (c) => c), ['10.9.0.2/29'])
  writeFileSync(join(leases, 'last_reserved_ip.0'), '10.9.0.2')
  writeFileSync(join(leases, '10.9.0.3'), 'other\r\neth0')
  // Another container's record holds .4 (chosen, its ADD not run yet).
  mkdirSync(endpointDir(store, 'other'), {recursive: true})
  writeFileSync(join(endpointDir(store, 'other'), 'endpoint.json'), JSON.stringify({id: 'other', name: 'o', hostname: 'o', netns: '', attachments: [{network: 'a', networkId: '', ifname: 'eth0', address: '10.9.0.4/29', aliases: [], ports: [], plugins: [], result: {}, cniVersion: '1.0.0'}]}))
  assert.deepEqual(chooseAddresses(store, [a], [undefined], 'me', (c) => c), ['10.9.0.5/29'])
  // Round robin: after .6 (the last of the range; .7 is the broadcast) it wraps to .2.
  writeFileSync(join(leases, 'last_reserved_ip.0'), '10.9.0.6')
  assert.deepEqual(chooseAddresses(store, [a], [undefined], 'me', (c) => c), ['10.9.0.2/29'])
  // The container's own record does not hold an address against it; --ip is taken as asked.
  assert.deepEqual(chooseAddresses(store, [a], [undefined], 'other', (c) => c), ['10.9.0.2/29'])
  assert.deepEqual(chooseAddresses(store, [a, net('b', '10.9.1.0/24', '10.9.1.1')], ['10.9.0.6', undefined], 'me', (c) => c), ['10.9.0.6/29', '10.9.1.2/24'])
  // Full: one line.
  for (const ip of ['10.9.0.2', '10.9.0.5', '10.9.0.6']) writeFileSync(join(leases, ip), 'x')
  assert.throws(() => chooseAddresses(store, [a], [undefined], 'me', (c) => c), {message: 'no free address left on network a'})
})

test('a network whose IPAM is not host-local with one range: no address chosen (the ADD chooses, and is waited for)', () => {
  const a = net('c', '10.9.2.0/24', '10.9.2.1')
  const dhcp = {...a, plugins: [{...a.plugins[0], ipam: {type: 'dhcp'}}, a.plugins[1]]}
  const two = {...a, plugins: [{...a.plugins[0], ipam: {type: 'host-local', dataDir: ipamDir(store), ranges: [[{subnet: '10.9.2.0/24'}], [{subnet: '10.9.3.0/24'}]]}}]}
  assert.deepEqual(chooseAddresses(store, [dhcp, two, a], [undefined, undefined, undefined], 'me', (c) => c), [undefined, undefined, '10.9.2.2/24'])
})

test('a network cut around --aux-address (one range set of several ranges): the walk goes through them in order, round', () => {
  const d = buildConfList(store, 'd', {id: 'd'.padEnd(64, '0'), bridge: 'br-d', subnet: '10.9.4.0/29', gateway: '10.9.4.1', internal: false, created: '', labels: {}, options: {}, auxAddresses: {x: '10.9.4.3', y: '10.9.4.5'}} as unknown as NetworkConfList['nsx'])
  const leases = join(ipamDir(store), 'd')
  mkdirSync(leases, {recursive: true})
  assert.deepEqual(chooseAddresses(store, [d], [undefined], 'me', (c) => c), ['10.9.4.2/29'])
  writeFileSync(join(leases, 'last_reserved_ip.0'), '10.9.4.2')
  assert.deepEqual(chooseAddresses(store, [d], [undefined], 'me', (c) => c), ['10.9.4.4/29'])
  writeFileSync(join(leases, 'last_reserved_ip.0'), '10.9.4.4')
  assert.deepEqual(chooseAddresses(store, [d], [undefined], 'me', (c) => c), ['10.9.4.6/29'])
  writeFileSync(join(leases, 'last_reserved_ip.0'), '10.9.4.6')
  writeFileSync(join(leases, '10.9.4.2'), 'x')
  assert.deepEqual(chooseAddresses(store, [d], [undefined], 'me', (c) => c), ['10.9.4.4/29'])
})
