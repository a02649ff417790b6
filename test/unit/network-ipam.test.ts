import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cniNetworkName, inRanges, NETWORK_NAME_RE, rangesOf} from '../../src/network/networks.js'

test('rangesOf: the subnet alone, or its --ip-range, cut around the --aux-address ones (host-local ranges of one set)', () => {
  assert.deepEqual(rangesOf({subnet: '10.1.0.0/24', gateway: '10.1.0.1'}), [{subnet: '10.1.0.0/24', gateway: '10.1.0.1'}])
  // docker-py's own: 172.28.0.0/16, range 172.28.5.0/24, gateway .5.254, aux outside the range.
  assert.deepEqual(rangesOf({subnet: '172.28.0.0/16', gateway: '172.28.5.254', ipRange: '172.28.5.0/24', auxAddresses: {a: '172.28.1.5'}}), [
    {subnet: '172.28.0.0/16', rangeStart: '172.28.5.0', rangeEnd: '172.28.5.255', gateway: '172.28.5.254'},
  ])
  assert.deepEqual(rangesOf({subnet: '10.1.0.0/24', gateway: '10.1.0.1', auxAddresses: {a: '10.1.0.1', b: '10.1.0.9', c: '10.1.0.10', d: '10.1.0.254'}}), [
    {subnet: '10.1.0.0/24', rangeStart: '10.1.0.2', rangeEnd: '10.1.0.8', gateway: '10.1.0.1'},
    {subnet: '10.1.0.0/24', rangeStart: '10.1.0.11', rangeEnd: '10.1.0.253', gateway: '10.1.0.1'},
  ])
  // The subnet's own network and broadcast addresses are never handed out, even when the range starts there.
  assert.deepEqual(rangesOf({subnet: '10.1.0.0/24', gateway: '10.1.0.1', ipRange: '10.1.0.0/28'}), [{subnet: '10.1.0.0/24', rangeStart: '10.1.0.1', rangeEnd: '10.1.0.15', gateway: '10.1.0.1'}])
  assert.deepEqual(rangesOf({subnet: '10.1.0.0/30', gateway: '10.1.0.1', auxAddresses: {a: '10.1.0.1', b: '10.1.0.2'}}), [])
  assert.equal(inRanges('10.1.0.9', {subnet: '10.1.0.0/24', gateway: '10.1.0.1', auxAddresses: {b: '10.1.0.9'}}), false)
  assert.equal(inRanges('10.1.0.8', {subnet: '10.1.0.0/24', gateway: '10.1.0.1', auxAddresses: {b: '10.1.0.9'}}), true)
  assert.equal(inRanges('10.1.0.40', {subnet: '10.1.0.0/24', gateway: '10.1.0.1', ipRange: '10.1.0.16/28'}), false)
})

test('network names: docker\'s (a space too), never a path, a --network list or container:NAME; CNI is given a name it takes', () => {
  for (const ok of ['test 01', 'a', 'my_net.v2-x', 'Ünicode']) assert.ok(NETWORK_NAME_RE.test(ok), ok)
  for (const bad of ['', '.', '..', 'a/b', 'a,b', 'container:x', 'tab\there', 'x'.repeat(129)]) assert.ok(!NETWORK_NAME_RE.test(bad), bad)
  assert.equal(cniNetworkName('appnet'), 'appnet')
  assert.match(cniNetworkName('test 01'), /^nsx-[0-9a-f]{16}$/)
  assert.equal(cniNetworkName('test 01'), cniNetworkName('test 01'))
  assert.notEqual(cniNetworkName('test 01'), cniNetworkName('test 02'))
})

test('IPv6 pools: canonical text (RFC 5952), ranges cut around auxiliary addresses, docker\'s flags split by family', async () => {
  const {bigToIp6, ip6ToBig, makeIpv6Pool, ranges6, inRanges6} = await import('../../src/network/ipv6.js')
  const {poolsByFamily} = await import('../../src/network/networks.js')
  for (const [given, canon] of [['2001:389::1', '2001:389::1'], ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], ['::', '::'], ['fd00:0:0:1:0:0:0:0', 'fd00:0:0:1::'], ['1:0:0:2:0:0:0:3', '1:0:0:2::3']]) assert.equal(bigToIp6(ip6ToBig(given)), canon)
  // docker-py's: subnet 2001:389::1/64 (host bits set), range 2001:389::0/96, gateway ::ffff.
  const p = makeIpv6Pool({subnet: '2001:389::1/64', ipRange: '2001:389::0/96', gateway: '2001:389::ffff'}, [])
  assert.deepEqual(p, {subnet: '2001:389::/64', gateway: '2001:389::ffff', ipRange: '2001:389::/96'})
  assert.deepEqual(ranges6(p), [{subnet: '2001:389::/64', rangeStart: '2001:389::1', rangeEnd: '2001:389::ffff:ffff', gateway: '2001:389::ffff'}])
  assert.equal(inRanges6('2001:389::f00d', p), true)
  assert.equal(inRanges6('2001:389::1:0:0', p), false)
  assert.deepEqual(ranges6({subnet: 'fd00::/120', gateway: 'fd00::1', auxAddresses: {a: 'fd00::10'}}), [
    {subnet: 'fd00::/120', rangeStart: 'fd00::1', rangeEnd: 'fd00::f', gateway: 'fd00::1'},
    {subnet: 'fd00::/120', rangeStart: 'fd00::11', rangeEnd: 'fd00::ff', gateway: 'fd00::1'},
  ])
  assert.throws(() => makeIpv6Pool({subnet: 'fd00::/64'}, ['fd00::/48']), /overlaps fd00::\/48/)
  assert.throws(() => makeIpv6Pool({subnet: 'fd00::/64', gateway: 'fd01::1'}, []), /not an address of fd00::\/64/)
  assert.deepEqual(poolsByFamily({subnets: ['10.1.0.0/24', 'fd00:1::/64'], gateways: ['fd00:1::fe'], auxAddresses: {a: '10.1.0.9', b: 'fd00:1::9'}}), {
    subnet: '10.1.0.0/24', gateway: undefined, ipRange: undefined, auxAddresses: {a: '10.1.0.9'},
    ipv6: {subnet: 'fd00:1::/64', gateway: 'fd00:1::fe', ipRange: undefined, auxAddresses: {b: 'fd00:1::9'}},
  })
  assert.throws(() => poolsByFamily({subnets: ['10.1.0.0/24', '10.2.0.0/24']}), /--subnet given twice for IPv4/)
  assert.throws(() => poolsByFamily({gateways: ['fd00::1']}), /needs an IPv6 --subnet/)
})
