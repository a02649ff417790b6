import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ipv6Text, netAddresses} from '../../src/ns/net-addresses.js'

test('netAddresses: fib_trie\'s local /32 entries but loopback, once; if_inet6\'s global ones', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nsx-netaddr-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  mkdirSync(join(root, '7', 'net'), {recursive: true})
  const trie = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.99.50.0
        /24 link UNICAST
     |-- 10.99.50.3
        /32 host LOCAL
     |-- 127.0.0.1
        /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.99.50.3
        /32 host LOCAL
     |-- 10.99.50.255
        /32 link BROADCAST
`
  writeFileSync(join(root, '7', 'net', 'fib_trie'), trie)
  writeFileSync(join(root, '7', 'net', 'if_inet6'), '00000000000000000000000000000001 01 80 10 80       lo\nfe80000000000000e42f3ffffe635d22 02 40 20 80     eth0\nfd000000000000000000000000000002 02 40 00 80     eth0\n')
  assert.deepEqual(netAddresses(7, root), ['10.99.50.3', 'fd00::2'])
  assert.deepEqual(netAddresses(8, root), [], 'a process gone: nothing')
})

test('ipv6Text: RFC 5952 (the longest run of two or more zero groups as ::)', () => {
  assert.equal(ipv6Text('20010db8000000000000000000000001'), '2001:db8::1')
  assert.equal(ipv6Text('20010db8000100000001000000000000'), '2001:db8:1:0:1::')
  assert.equal(ipv6Text('20010db8000000010001000100010001'), '2001:db8:0:1:1:1:1:1')
})
