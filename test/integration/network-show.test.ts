import {test} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {eventually, makeNetLab, needNetLab, NetLab} from '../helpers/netns.js'

// What nsx shows of containers' networks: nsx top's network bytes, nsx ls's addresses, and
// names kept current across a rename. Every container runs inside the lab's own network
// namespace (test/helpers/netns.ts).

interface TopRow {
  path: string
  container: {name: string; id: string} | null
  network: {rxBytes: number; txBytes: number; rxBytesPerSec: number | null; txBytesPerSec: number | null} | null
}

/** Each container's row of `nsx top NAME --json` (the cgroups are the host's: other containers of the same name may run). */
function topRows(lab: NetLab, names: readonly string[]): Map<string, TopRow> {
  const out = new Map<string, TopRow>()
  for (const name of names) {
    const r = lab.nsx(['top', '--json', '--delay', '0.2', name])
    assert.equal(r.status, 0, r.stderr)
    const row = (JSON.parse(r.stdout) as {cgroups: TopRow[]}).cgroups.find((c) => c.container?.name === name)
    assert.ok(row, `${name} has a row: ${r.stdout}`)
    out.set(name, row)
  }
  return out
}

test('nsx top: a bridge container\'s network bytes are what a real transfer moved (its host veth, rx/tx as the container sees them); none for --network none, host and container:', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const SIZE = 2 << 20
  writeFileSync(join(lab.layer, 'www', 'big'), Buffer.alloc(SIZE, 7))
  assert.equal(lab.nsx(['network', 'create', '--subnet', '10.99.60.0/24', 'lan']).status, 0)
  // Links enough that the containers' veths come after the first page /proc/net/dev hands out
  // per read (a busy host's many veths): the reader must read on to the end.
  const dummies = Array.from({length: 30}, (_, i) => `link add nsxpad${i}a type veth peer name nsxpad${i}b`).join('\n')
  assert.equal(lab.run('ip', ['-batch', '-'], {input: `${dummies}\n`}).status, 0)
  const start = (name: string, net: string, ...cmd: string[]) => {
    const r = lab.nsx(['run', '-d', '--name', name, '--network', net, '--layer', lab.layer, '--', ...cmd])
    assert.equal(r.status, 0, r.stderr)
  }
  start('web', 'lan', 'httpd', '-f', '-p', '80', '-h', '/www')
  start('cli', 'lan', 'sleep', '1000')
  start('alone', 'none', 'sleep', '1000')
  start('hosted', 'host', 'sleep', '1000')
  start('side', 'container:web', 'sleep', '1000')
  // The server is up (a small fetch), then the counters before the transfer.
  assert.ok(await eventually(() => lab.nsx(['exec', 'cli', 'wget', '-q', '-O', '/dev/null', 'http://web/index.html']).status === 0))
  const before = topRows(lab, ['web', 'cli', 'alone', 'hosted', 'side'])
  for (const name of ['alone', 'hosted', 'side']) {
    assert.equal(before.get(name)!.network, null, `${name}: no network of its own, so nothing (not zero)`)
  }
  // The transfer, synchronised on its end: wget returns once every byte has arrived.
  const got = lab.nsx(['exec', 'cli', 'wget', '-q', '-O', '/dev/null', 'http://web/big'])
  assert.equal(got.status, 0, got.stderr)
  const after = topRows(lab, ['web', 'cli'])
  const moved = (name: string, dir: 'rxBytes' | 'txBytes') => after.get(name)!.network![dir] - before.get(name)!.network![dir]
  // The file, plus headers and TCP/IP overhead (ACKs, segment headers: a few percent).
  const within = (v: number, what: string) => assert.ok(v >= SIZE && v < SIZE * 1.1, `${what}: ${v} bytes for a ${SIZE}-byte file`)
  within(moved('cli', 'rxBytes'), 'cli received')
  within(moved('web', 'txBytes'), 'web sent')
  // The other way only requests and ACKs.
  assert.ok(moved('cli', 'txBytes') < SIZE / 10, `cli sent ${moved('cli', 'txBytes')}`)
  assert.ok(moved('web', 'rxBytes') < SIZE / 10, `web received ${moved('web', 'rxBytes')}`)
  // What one side sent the other received, give or take the ARP and what crossed meanwhile.
  assert.ok(Math.abs(moved('cli', 'rxBytes') - moved('web', 'txBytes')) < SIZE / 100)
  // Rates: a figure over the interval (the transfer has ended: the counters stood still).
  assert.equal(typeof after.get('cli')!.network!.rxBytesPerSec, 'number')
  // The batch table's columns.
  const b = lab.nsx(['top', '--batch', '--iterations', '1', '--delay', '0.2', '--flat', 'cli'])
  assert.equal(b.status, 0, b.stderr)
  const [head, row] = b.stdout.split('\n').slice(1)
  const cols = head.trim().split(/\s+/)
  const vals = row.trim().split(/\s+/)
  assert.deepEqual(cols.slice(-4), ['NET_RX_BYTES', 'NET_TX_BYTES', 'NET_RX/S', 'NET_TX/S'])
  assert.ok(Number(vals[cols.indexOf('NET_RX_BYTES')]) >= SIZE, row)
})

test('nsx rename: peers on a user-defined network reach a running container by its new name, not the old one; its hostname and aliases stay; one started later sees the new name too', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  assert.equal(lab.nsx(['network', 'create', '--subnet', '10.99.61.0/24', 'lan']).status, 0)
  const start = (...args: string[]) => {
    const r = lab.nsx(['run', '-d', '--network', 'lan', '--layer', lab.layer, ...args])
    assert.equal(r.status, 0, r.stderr)
  }
  start('--name', 'app', '--hostname', 'apphost', '--network-alias', 'api', '--', 'httpd', '-f', '-p', '80', '-h', '/www')
  start('--name', 'peer', '--', 'sleep', '1000')
  const hosts = (name: string) => lab.nsx(['exec', name, 'cat', '/etc/hosts']).stdout
  assert.match(hosts('peer'), /^10\.99\.61\.\d+\tapp apphost api$/m)
  const r = lab.nsx(['rename', 'app', 'front'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(hosts('peer'), /^10\.99\.61\.\d+\tfront apphost api$/m)
  assert.doesNotMatch(hosts('peer'), /\bapp\b/)
  const got = lab.nsx(['exec', 'peer', 'wget', '-q', '-O', '-', 'http://front/'])
  assert.equal(got.stdout, 'hello from nsx\n', got.stderr)
  assert.notEqual(lab.nsx(['exec', 'peer', 'ping', '-c', '1', '-W', '1', 'app']).status, 0, 'the old name still resolves')
  // Its own file is unchanged: its hostname stays (docker's rule).
  assert.match(hosts('front'), /^10\.99\.61\.\d+\tapphost\b/m)
  // A container started since lists it by its new name.
  start('--name', 'late', '--', 'sleep', '1000')
  assert.match(hosts('late'), /^10\.99\.61\.\d+\tfront apphost api$/m)
  // A stopped container: renamed, and known by its new name when it starts again.
  assert.equal(lab.nsx(['stop', '-t', '0', 'peer']).status, 0)
  assert.equal(lab.nsx(['rename', 'peer', 'peer2']).status, 0)
  assert.equal(lab.nsx(['start', 'peer2']).status, 0)
  assert.ok(await eventually(() => /\tpeer2\b/.test(hosts('front'))), hosts('front'))
  assert.doesNotMatch(hosts('front'), /\tpeer\b/)
})

test('nsx ls: a container\'s net namespace shows its addresses (ADDRESSES by -o, --json), read from the kernel', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  assert.equal(lab.nsx(['network', 'create', '--subnet', '10.99.62.0/24', 'lan']).status, 0)
  const r = lab.nsx(['run', '-d', '--name', 'box', '--network', 'lan', '--ip', '10.99.62.7', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const pid = (JSON.parse(lab.nsx(['container', 'inspect', 'box']).stdout) as Array<{State: {Pid: number}}>)[0].State.Pid
  // -p PID: its namespaces; -o with ADDRESSES as lsns's columns are chosen.
  const j = JSON.parse(lab.nsx(['ls', '--json', '-t', 'net', '-p', String(pid), '-o', 'NS,TYPE,ADDRESSES']).stdout) as {namespaces: Array<{type: string; addresses: string[] | null}>}
  assert.deepEqual(j.namespaces, [{ns: (j.namespaces[0] as {ns: number}).ns, type: 'net', addresses: ['10.99.62.7']}])
  // The whole document has it too, and a table with it appended to lsns's -t net defaults (which stay lsns's).
  const full = JSON.parse(lab.nsx(['ls', '--json', '-t', 'net', '-p', String(pid)]).stdout) as {namespaces: Array<{addresses: string[] | null}>}
  assert.deepEqual(full.namespaces[0].addresses, ['10.99.62.7'])
  const table = lab.nsx(['ls', '-l', '-t', 'net', '-p', String(pid), '-o', '+ADDRESSES']).stdout.split('\n')
  assert.match(table[0], /\bNSFS +HOLDERS +COMMAND +ADDRESSES$/)
  assert.match(table[1], /\b10\.99\.62\.7$/)
  // Another type has none (null), and +ADDRESSES appends to lsns's defaults.
  const mnt = JSON.parse(lab.nsx(['ls', '--json', '-t', 'mnt', '-p', String(pid), '-o', '+ADDRESSES']).stdout) as {namespaces: Array<Record<string, unknown>>}
  assert.equal(mnt.namespaces[0].addresses, null)
  assert.deepEqual(Object.keys(mnt.namespaces[0]), ['ns', 'type', 'nprocs', 'pid', 'user', 'holders', 'command', 'addresses'])
})
