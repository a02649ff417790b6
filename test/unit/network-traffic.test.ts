import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ContainerTrafficReader, hostVeths, parseAllLinks} from '../../src/network/traffic.js'
import {Store} from '../../src/store/store.js'
import type {Attachment, Endpoint} from '../../src/network/types.js'

// nsx top's network bytes: the host-side veths named by the endpoint records, their counters
// from one reading of /proc/net/dev, receive and send swapped to the container's view.

const NET_DEV_HEAD = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`
const line = (name: string, rx: number, tx: number) => `${name.padStart(6)}: ${rx} 10 0 0 0 0 0 0 ${tx} 12 0 0 0 0 0 0\n`

function attachment(network: string, bridge: string, veth: string, ifname: string): Attachment {
  return {
    network,
    networkId: 'n'.repeat(64),
    ifname,
    address: '10.99.50.2/24',
    aliases: [],
    ports: [],
    plugins: [{type: 'bridge', bridge}],
    result: {interfaces: [{name: bridge, mac: 'aa'}, {name: veth, mac: 'bb'}, {name: ifname, mac: 'cc', sandbox: '/x/netns/ID'}]},
    cniVersion: '1.0.0',
  }
}

const endpoint = (id: string, attachments: Attachment[]): Endpoint => ({id, name: 'web', hostname: 'web', netns: '/x', attachments})

test('hostVeths: the interface CNI made outside the sandbox that is not the bridge, per attachment; none for a rootless record', () => {
  const ep = endpoint('a'.repeat(64), [attachment('lan', 'nsx-1', 'veth0001', 'eth0'), attachment('back', 'nsx-2', 'veth0002', 'eth1')])
  assert.deepEqual(hostVeths(ep), ['veth0001', 'veth0002'])
  const rootless: Endpoint = {...ep, attachments: [{...ep.attachments[0], network: 'pasta', plugins: [], result: {}}]}
  assert.deepEqual(hostVeths(rootless), [])
})

test('parseAllLinks: each link\'s first (receive) and ninth (send) counters', () => {
  const text = NET_DEV_HEAD + line('lo', 1, 2) + line('veth0001', 123456789012, 42)
  const got = new Map()
  parseAllLinks(text, got)
  assert.deepEqual([...got], [['lo', {rxBytes: 1, txBytes: 2}], ['veth0001', {rxBytes: 123456789012, txBytes: 42}]])
})

test('ContainerTrafficReader: by id prefix, swapped to the container\'s view, summed over its attachments, the record checked for a change every few refreshes', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nsx-traffic-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  const id = '0123456789abcdef'.repeat(4)
  const other = 'fedcba98'.repeat(8)
  const dir = join(root, 'networks', 'endpoints')
  const put = (ep: Endpoint) => {
    mkdirSync(join(dir, ep.id), {recursive: true})
    writeFileSync(join(dir, ep.id, 'endpoint.json'), JSON.stringify(ep))
  }
  const netDev = join(root, 'net-dev')
  put(endpoint(id, [attachment('lan', 'nsx-1', 'veth0001', 'eth0')]))
  // A rootless container's record: no host-side link.
  put({...endpoint(other, [attachment('pasta', 'x', 'y', 'eth0')]), attachments: [{...attachment('pasta', 'x', 'y', 'eth0'), plugins: [], result: {}}]})
  writeFileSync(netDev, NET_DEV_HEAD + line('veth0001', 300, 7000) + line('veth0002', 20, 10))
  const r = new ContainerTrafficReader(new Store(root), netDev)
  r.refresh()
  // The host side sent 7000 bytes to the container: the container received them.
  assert.deepEqual(r.of('01234567'), {rxBytes: 7000, txBytes: 300})
  assert.equal(r.of('fedcba98'), undefined, 'rootless: no counters')
  assert.equal(r.of('99999999'), undefined, 'no record: --network none, host, container:')
  // network connect: the record is rewritten with a second attachment. Seen within five
  // refreshes; the refresh that sees it gives no figure (the sum of more links does not
  // continue the last one), the next the sum.
  put(endpoint(id, [attachment('lan', 'nsx-1', 'veth0001', 'eth0'), attachment('back', 'nsx-2', 'veth0002', 'eth1')]))
  const seen: Array<unknown> = []
  for (let i = 0; i < 5; i++) {
    r.refresh()
    seen.push(r.of('01234567'))
  }
  assert.deepEqual(seen.slice(0, 4), Array(4).fill({rxBytes: 7000, txBytes: 300}))
  assert.equal(seen[4], undefined)
  r.refresh()
  assert.deepEqual(r.of('01234567'), {rxBytes: 7010, txBytes: 320})
  // A container started since is found at once (its prefix is new: the directory is listed again).
  const late = 'abcdef01'.repeat(8)
  put(endpoint(late, [attachment('lan', 'nsx-1', 'veth0002', 'eth0')]))
  r.refresh()
  assert.deepEqual(r.of('abcdef01'), {rxBytes: 10, txBytes: 20})
  t.after(() => r.close())
  // A container whose ADD runs in the background: its record has no result until the
  // plugins' output is there (add-I-J.out); looked at again each refresh until then.
  const bg = '1234abcd'.repeat(8)
  const pending = attachment('lan', 'nsx-1', 'veth0002', 'eth0')
  const result = pending.result
  put(endpoint(bg, [{...pending, result: {}}]))
  r.refresh()
  assert.equal(r.of('1234abcd'), undefined, 'no result yet')
  writeFileSync(join(dir, bg, 'add-0-0.out'), JSON.stringify({...result, ips: [{address: '10.99.50.9/24'}]}))
  r.refresh()
  assert.deepEqual(r.of('1234abcd'), {rxBytes: 10, txBytes: 20})
  // Its links gone (the container ended, its teardown has not removed the record yet): nothing, not zero.
  writeFileSync(netDev, NET_DEV_HEAD + line('lo', 1, 1))
  r.refresh()
  assert.equal(r.of('01234567'), undefined)
  rmSync(join(dir, id), {recursive: true})
  writeFileSync(netDev, NET_DEV_HEAD + line('veth0001', 300, 7000))
  for (let i = 0; i < 5; i++) r.refresh()
  assert.equal(r.of('01234567'), undefined, 'its record removed')
})
