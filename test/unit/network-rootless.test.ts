import {test} from 'node:test'
import assert from 'node:assert/strict'
import {buildRunPlan, containerPaths} from '../../src/container/plan.js'
import type {RunSpec} from '../../src/container/spec.js'
import {attachScript, pastaArgs, pastaPortArgs, pickStack, slirpForwards, teardownScript} from '../../src/network/rootless.js'
import {validatePlan} from '../../src/plan/validate.js'

const tcp = (hostPort: number, containerPort: number, hostIP = '') => ({hostIP, hostPort, containerPort, protocol: 'tcp' as const})

test('pasta: published ports as -t/-u HOST:CTR (an address as ADDR/), none for a protocol without any, nothing forwarded from the container loopback', () => {
  assert.deepEqual(pastaPortArgs([]), ['-t', 'none', '-u', 'none'])
  assert.deepEqual(pastaPortArgs([tcp(8080, 80), tcp(8443, 443, '127.0.0.1'), {hostIP: '0.0.0.0', hostPort: 5353, containerPort: 53, protocol: 'udp'}]), ['-t', '8080:80', '-t', '127.0.0.1/8443:443', '-u', '5353:53'])
  const args = pastaArgs([tcp(8080, 80)])
  assert.ok(args.includes('--config-net'))
  assert.deepEqual(args.slice(args.indexOf('-T'), args.indexOf('-T') + 4), ['-T', 'none', '-U', 'none'])
  assert.ok(!args.includes('--no-map-gw'), "pasta's default kept: the gateway address reaches the host's loopback")
})

test('slirp4netns: one add_hostfwd request per published port, on 0.0.0.0 unless an address was given', () => {
  assert.deepEqual(slirpForwards([tcp(8080, 80), tcp(9000, 90, '127.0.0.1')]), [
    {execute: 'add_hostfwd', arguments: {proto: 'tcp', host_addr: '0.0.0.0', host_port: 8080, guest_port: 80}},
    {execute: 'add_hostfwd', arguments: {proto: 'tcp', host_addr: '127.0.0.1', host_port: 9000, guest_port: 90}},
  ])
})

test('the stack: pasta first, slirp4netns when there is no pasta, a named one only; none installed is one line naming the packages', () => {
  const have = (list: string[]) => (cmd: string) => (list.includes(cmd) ? `/usr/bin/${cmd}` : undefined)
  assert.deepEqual(pickStack('bridge', have(['pasta', 'slirp4netns'])), {stack: 'pasta', path: '/usr/bin/pasta'})
  assert.deepEqual(pickStack('bridge', have(['slirp4netns'])), {stack: 'slirp4netns', path: '/usr/bin/slirp4netns'})
  assert.deepEqual(pickStack('slirp4netns', have(['pasta', 'slirp4netns'])), {stack: 'slirp4netns', path: '/usr/bin/slirp4netns'})
  assert.throws(() => pickStack('pasta', have(['slirp4netns'])), /needs pasta \(Debian package passt\): none is installed/)
  assert.throws(() => pickStack('bridge', have([])), /pasta \(Debian package passt\) or slirp4netns \(Debian package slirp4netns\)/)
})

test('the attach stops a previous helper first (a --restart), starts the stack on the pid it is given; the teardown signals only a helper', () => {
  const a = attachScript({name: 'web', id: 'abc', dir: '/s/networks/endpoints/abc', stack: 'pasta', path: '/usr/bin/pasta', ports: [tcp(8080, 80)]})
  const lines = a.split('\n')
  assert.ok(lines.findIndex((l) => l.includes('teardown" --helper-only')) < lines.findIndex((l) => l.startsWith("'/usr/bin/pasta'")))
  assert.match(a, /'-t' '8080:80' .*--pid "\$D\/helper.pid" "\$1"/)
  const s = attachScript({name: 'web', id: 'abc', dir: '/s/e/abc', stack: 'slirp4netns', path: '/usr/bin/slirp4netns', ports: [tcp(8080, 80)]})
  assert.match(s, /--api-socket api\.sock --ready-fd=3 "\$1" eth0/)
  assert.match(s, /add_hostfwd/)
  const t = teardownScript({name: 'web', id: 'abc', dir: '/s/e/abc'})
  assert.match(t, /pasta\|pasta\.avx2\|passt\|passt\.avx2\|slirp4netns\)/)
  assert.match(t, /\[ "\$1" = --helper-only \] \|\| rm -rf "\$D"/)
})

test("the plan: the supervisor registers the network hook; the init hands over right after making its network namespace", () => {
  const spec = {name: 'w', hostname: 'w', argv: ['true'], env: [], workdir: '/', uid: 0, gid: 0, groups: [], caps: [], privileged: false, network: 'bridge', volumes: [], interactive: false, tty: false, detach: false, security: {readOnly: false, tmpfs: [], devices: [], deviceRules: [], ulimits: []},
    userns: {uidMap: [{inside: 0, outside: 1000, count: 1}], gidMap: [{inside: 0, outside: 1000, count: 1}], setgroups: 'deny', rootless: true}} as unknown as RunSpec
  const paths = {...containerPaths('/s/run/w', '/s/pin'), netHook: '/s/networks/endpoints/w/attach', exitHook: '/s/networks/endpoints/w/teardown'}
  const ops = validatePlan(buildRunPlan(spec, ['/l'], paths, {places: [], enable: [], writes: []})).ops
  const names = ops.map((o) => o.op)
  assert.ok(names.indexOf('ctr-net-hook') < names.indexOf('ctr-supervise'))
  const unshare = ops.findIndex((o) => o.op === 'unshare' && o.ns.includes('net'))
  assert.ok(unshare > names.indexOf('ctr-supervise'))
  assert.equal(names[unshare + 1], 'ctr-net-ready')
  // Without a hook, no hand-over.
  const plain = buildRunPlan(spec, ['/l'], containerPaths('/s/run/w', '/s/pin'), {places: [], enable: [], writes: []}).ops.map((o) => o.op)
  assert.ok(!plain.includes('ctr-net-ready') && !plain.includes('ctr-net-hook'))
})
