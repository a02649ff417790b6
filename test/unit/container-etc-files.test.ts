import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {EtcSpec, etcFiles, hostResolvConf, hostsFile, parseAddHost, resolvConf} from '../../src/container/etc-files.js'
import {NsxError} from '../../src/cli/errors.js'

const base: EtcSpec = {hostname: 'web', name: 'web', network: 'none', addresses: [], extraHosts: [], dns: [], dnsSearch: [], dnsOptions: []}

test("docker's default /etc/hosts, --add-host lines, the hostname on the container's addresses (or on loopback without any)", () => {
  const none = hostsFile({...base, extraHosts: [{name: 'db', ip: '10.0.0.5'}]}, '1.2.3.4 hostonly\n')
  assert.equal(
    none,
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n10.0.0.5\tdb\n127.0.0.1\tweb\n::1\tweb\n',
  )
  // A bridge network hands the generator its addresses as data; the name is an alias of the hostname.
  const bridge = hostsFile({...base, hostname: 'h1', addresses: ['172.18.0.2', 'fd00::2']}, undefined)
  assert.match(bridge, /^172\.18\.0\.2\th1 web$/m)
  assert.match(bridge, /^fd00::2\th1 web$/m)
  assert.doesNotMatch(bridge, /^127\.0\.0\.1\th1/m)
  const host = hostsFile({...base, network: 'host'}, '127.0.0.1 localhost\n10.1.1.1 build-host\n\n')
  assert.equal(host, '127.0.0.1 localhost\n10.1.1.1 build-host\n127.0.0.1\tweb\n::1\tweb\n')
  assert.equal(etcFiles(base, {}).hostname, 'web\n')
})

test('--add-host NAME:IP and NAME=IP, IPv6 too; bad ones are one clear error', () => {
  assert.deepEqual(parseAddHost('db:10.0.0.5'), {name: 'db', ip: '10.0.0.5'})
  assert.deepEqual(parseAddHost('v6:fd00::1'), {name: 'v6', ip: 'fd00::1'})
  assert.deepEqual(parseAddHost('v6=[::1]'), {name: 'v6', ip: '::1'})
  for (const bad of ['db', ':1.2.3.4', 'db:', 'db:1.2.3', 'a b:1.2.3.4', 'gw:host-gateway']) assert.throws(() => parseAddHost(bad), NsxError, bad)
})

test('resolv.conf: the host resolvers; in a network namespace of its own no loopback resolver (docker defaults stand in); --dns* replace their kind', () => {
  const hostText = '# managed\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0 trust-ad\n'
  const none = resolvConf(base, hostText)
  assert.deepEqual(none.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 10.0.0.2'])
  assert.match(none, /^search corp\.example$/m)
  assert.match(none, /^options edns0 trust-ad$/m)
  assert.deepEqual(resolvConf(base, 'nameserver 127.0.0.1\n').split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 8.8.8.8', 'nameserver 8.8.4.4'])
  const host = resolvConf({...base, network: 'host'}, hostText)
  assert.deepEqual(host.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 127.0.0.53', 'nameserver 10.0.0.2'])
  const flags = resolvConf({...base, dns: ['192.0.2.1'], dnsSearch: ['.'], dnsOptions: ['ndots:3']}, hostText)
  assert.deepEqual(flags.split('\n').filter((l) => /^(nameserver|search|options)/.test(l)), ['nameserver 192.0.2.1', 'options ndots:3'])
})

test("the host's resolv.conf: systemd-resolved's 127.0.0.53 stub is replaced by its upstream file when there is one", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-resolv-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const stub = join(dir, 'stub')
  const upstream = join(dir, 'upstream')
  writeFileSync(stub, 'nameserver 127.0.0.53\noptions edns0\n')
  assert.equal(hostResolvConf(stub, upstream), 'nameserver 127.0.0.53\noptions edns0\n', 'no upstream file: the stub file as it is')
  writeFileSync(upstream, 'nameserver 10.0.0.2\n')
  assert.equal(hostResolvConf(stub, upstream), 'nameserver 10.0.0.2\n')
  writeFileSync(stub, 'nameserver 10.0.0.9\n')
  assert.equal(hostResolvConf(stub, upstream), 'nameserver 10.0.0.9\n', 'not the stub: the file itself')
  assert.equal(hostResolvConf(join(dir, 'missing'), upstream), undefined)
})
