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
