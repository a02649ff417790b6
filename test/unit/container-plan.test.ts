import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {REPO, run} from '../helpers/env.js'
import {buildRunPlan, containerPaths, encodeEnv} from '../../src/container/plan.js'
import type {RunSpec} from '../../src/container/spec.js'
import {encodeOp, encodePlan, opArity} from '../../src/plan/encode.js'
import {describePlan} from '../../src/plan/describe.js'
import {validatePlan} from '../../src/plan/validate.js'
import {DEFAULT_DEVICE_RULES} from '../../src/security/devices.js'
import {DEFAULT_SECCOMP_PROFILE} from '../../src/security/seccomp-default.js'
import {resolveSeccomp} from '../../src/security/seccomp-plan.js'

const spec: RunSpec = {
  name: 'web',
  hostname: 'web',
  argv: ['sh', '-c', 'echo hi'],
  env: ['PATH=/bin'],
  workdir: '/srv',
  uid: 1000,
  gid: 1000,
  groups: [2000],
  caps: [0, 1, 21],
  privileged: false,
  network: 'none',
  volumes: [{source: '/data', target: '/mnt', readOnly: true}],
  interactive: false,
  tty: false,
  detach: false,
  security: {
    seccomp: resolveSeccomp(DEFAULT_SECCOMP_PROFILE, {caps: ['CAP_CHOWN'], goArch: 'amd64', kernel: [6, 1]}, 'default'),
    readOnly: true,
    tmpfs: [{path: '/run', flags: ['nosuid'], data: 'size=1m'}],
    devices: [{host: '/dev/fuse', path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o666, uid: 0, gid: 0, access: 'rwm'}],
    deviceRules: DEFAULT_DEVICE_RULES,
    ulimits: [{name: 'nofile', soft: 10, hard: 20}],
    oomScoreAdj: 100,
    shmSize: 1 << 20,
  },
  etc: {hostname: 'web', name: 'web', network: 'none', addresses: [], extraHosts: [], dns: [], dnsSearch: [], dnsOptions: []},
}
const cgroups = {places: [{hierarchy: 'memory', version: 1 as const, parentDir: '/sys/fs/cgroup/memory', dir: '/sys/fs/cgroup/memory/nsx-web-12345678'}], enable: [], writes: []}
const paths = containerPaths('/store/run/web', '/store/containers/web.json')

test('the plan: supervisor, then the init sets up the root, then the command drops privileges and execs', () => {
  const plan = validatePlan(buildRunPlan(spec, ['/l/low', '/l/high'], paths, cgroups))
  const names = plan.ops.map((o) => o.op)
  const at = (n: string) => names.indexOf(n as never)
  // The cgroup is opened by the supervisor and joined by the init before any namespace or mount.
  assert.deepEqual(names.slice(0, 7), ['cgroup-open', 'ctr-cleanup-cgroup', 'ctr-cleanup-path', 'ctr-cleanup-path', 'unshare', 'ctr-init-title', 'ctr-supervise'])
  const order = ['seccomp', 'cgroup-join', 'propagation', 'ctr-rootfs', 'ctr-bind', 'env-from', 'ctr-proc', 'ctr-dev', 'ctr-sys', 'ctr-hostname', 'ctr-loopback', 'ctr-pivot', 'ctr-mask', 'ctr-readonly', 'shm-size', 'tmpfs', 'device', 'oom-score-adj', 'rootfs-readonly', 'ctr-init', 'ctr-stdin-null', 'ctr-workdir', 'rlimit', 'cap-bound', 'ctr-groups', 'setgid', 'setuid', 'cap-set', 'no-new-privs', 'close-fds', 'seccomp-load', 'ctr-exec']
  const idx = order.map(at)
  assert.ok(idx.every((v) => v >= 0), `missing: ${order.filter((_, i) => idx[i] < 0)}`)
  assert.deepEqual([...idx].sort((a, b) => a - b), idx, 'ops out of order')
  const argv = encodePlan(plan)
  // overlayfs wants lowerdir top first; --layer is lowest first.
  assert.deepEqual(argv.slice(argv.indexOf('ctr-rootfs'), argv.indexOf('ctr-rootfs') + 5), ['ctr-rootfs', '/l/high:/l/low', '/store/run/web/upper', '/store/run/web/work', '/store/run/web/rootfs'])
  assert.deepEqual(argv.slice(argv.indexOf('cap-bound'), argv.indexOf('cap-bound') + 2), ['cap-bound', '200003'])
  assert.deepEqual(argv.slice(-4), ['ctr-exec', 'sh', '-c', 'echo hi'])
  assert.ok(argv.includes('/proc/kcore') && argv.includes('/proc/sys'), 'masked and read-only paths')
})

test('--network host keeps the net namespace and lo alone; --privileged drops the masks; -i keeps stdin; -d passes the ready fd', () => {
  const plan = buildRunPlan({...spec, network: 'host', privileged: true, interactive: true}, ['/l'], paths, cgroups, {readyFd: 3})
  const names = plan.ops.map((o) => o.op)
  // No v2 cgroup here: no device program (on v1 the rules are cgroup writes).
  assert.ok(!names.includes('devices-bpf'))
  const unshares = plan.ops.filter((o) => o.op === 'unshare').map((o) => (o as {ns: string[]}).ns.join(','))
  assert.deepEqual(unshares, ['pid', 'mnt,uts,ipc,cgroup'])
  for (const n of ['ctr-loopback', 'ctr-mask', 'ctr-readonly', 'ctr-stdin-null']) assert.ok(!names.includes(n as never), n)
  assert.ok(names.indexOf('ctr-ready-fd') < names.indexOf('ctr-supervise'))
})

test("every container op has the arity the executor's op table declares, and a --dry-run line", () => {
  const table = new Map(
    run(join(REPO, 'native', 'build', 'nsx-exec'), ['--ops']).stdout.trim().split('\n').map((l) => {
      const [name, arity] = l.split('\t')
      return [name, Number(arity)] as const
    }),
  )
  const plan = buildRunPlan(spec, ['/l'], paths, cgroups, {readyFd: 3, keep: true, log: {path: '/c/container.log', maxSize: 1024, maxFiles: 2}, attach: true})
  for (const op of plan.ops) assert.equal(table.get(op.op), opArity(op), `arity of ${op.op}`)
  for (const d of describePlan(plan, encodeOp)) assert.ok(d.action.length > 0, d.op)
})

test('the environment file is NUL-separated, so values may hold newlines', () => {
  assert.equal(encodeEnv(['A=1', 'B=x\ny']), 'A=1\0B=x\ny\0')
})

test('rootless: the init is cloned into new user and pid namespaces with the maps; no setgroups; overlay with userxattr', () => {
  const userns = {uidMap: [{inside: 0, outside: 1000, count: 1}], gidMap: [{inside: 0, outside: 1000, count: 1}], setgroups: 'deny' as const, rootless: true}
  const plan = buildRunPlan({...spec, uid: 0, gid: 0, groups: [], userns}, ['/l'], paths, {places: [], enable: [], writes: []})
  const names = plan.ops.map((o) => o.op)
  assert.ok(!names.some((n, i) => n === 'unshare' && i < names.indexOf('ctr-supervise')), 'no unshare pid: the clone makes it')
  assert.ok(names.indexOf('ctr-rootless') < names.indexOf('ctr-userns') && names.indexOf('ctr-userns') < names.indexOf('ctr-supervise'))
  assert.ok(!names.includes('ctr-groups'), 'setgroups is denied')
  assert.ok(!names.includes('cgroup-open') && !names.includes('ctr-cgroup-fd'))
  const argv = encodePlan(plan)
  assert.deepEqual(argv.slice(argv.indexOf('ctr-userns'), argv.indexOf('ctr-userns') + 4), ['ctr-userns', '0 1000 1', '0 1000 1', 'deny'])
})

test('--userns as root: the supervisor mounts the root over idmapped layers; the init becomes container root after the host paths', () => {
  const map = [{inside: 0, outside: 100000, count: 65536}]
  const plan = buildRunPlan({...spec, userns: {uidMap: map, gidMap: map, setgroups: 'allow', rootless: false}}, ['/l/a', '/l/b'], paths, cgroups)
  const names = plan.ops.map((o) => o.op)
  const idmap = plan.ops.find((o) => o.op === 'ctr-idmap-root') as {points: string[]} | undefined
  assert.deepEqual(idmap?.points, ['/store/run/web/lower/0', '/store/run/web/lower/1'])
  assert.ok(names.indexOf('ctr-idmap-root') < names.indexOf('ctr-supervise'))
  const at = (n: string) => names.indexOf(n as never)
  assert.ok(at('ctr-rootfs') < at('ctr-become-root') && at('env-from') < at('ctr-become-root') && at('ctr-become-root') < at('ctr-proc'))
  assert.ok(names.includes('ctr-groups'), 'setgroups is allowed with a range')
})

test("the init: retitled, dropped to the command's capabilities and ids before it waits; the generated /etc files bound before the volumes; TERM grace only in the foreground", () => {
  const plan = validatePlan(buildRunPlan(spec, ['/l'], paths, cgroups, {termGrace: 7}))
  const names = plan.ops.map((o) => o.op)
  assert.ok(names.indexOf('ctr-init-title') < names.indexOf('ctr-supervise'))
  assert.ok(names.indexOf('ctr-term-grace') < names.indexOf('ctr-supervise'))
  const creds = plan.ops.find((o) => o.op === 'ctr-init-creds')
  assert.deepEqual(creds, {op: 'ctr-init-creds', caps: [0, 1, 21], uid: 1000, gid: 1000, groups: [2000], seccomp: true})
  assert.ok(names.indexOf('ctr-init-creds') < names.indexOf('ctr-init'))
  const argv = encodePlan(plan)
  assert.deepEqual(argv.slice(argv.indexOf('ctr-init-creds'), argv.indexOf('ctr-init-creds') + 6), ['ctr-init-creds', '200003', '1000', '1000', '2000', 'seccomp'])
  assert.deepEqual(argv.slice(argv.indexOf('ctr-term-grace'), argv.indexOf('ctr-term-grace') + 2), ['ctr-term-grace', '7'])
  const binds = plan.ops.filter((o) => o.op === 'ctr-bind').map((o) => (o as {target: string}).target)
  assert.deepEqual(binds, ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/mnt'])
  assert.ok(!buildRunPlan(spec, ['/l'], paths, cgroups, {readyFd: 3}).ops.some((o) => o.op === 'ctr-term-grace'), 'detached: nsx stop handles the grace')
  const rootless = buildRunPlan({...spec, userns: {uidMap: [{inside: 0, outside: 1000, count: 1}], gidMap: [{inside: 0, outside: 1000, count: 1}], setgroups: 'deny', rootless: true}}, ['/l'], paths, {places: [], enable: [], writes: []})
  const rc = encodePlan(rootless)
  assert.equal(rc[rc.indexOf('ctr-init-creds') + 4], '-', 'a rootless user namespace denies setgroups: the init leaves its groups')
})

test('exit records: a kept container in its directory; a detached --rm one beside it (wait reads it once the directory is gone); a foreground --rm one none', () => {
  const exitFiles = (o: Parameters<typeof buildRunPlan>[4]) => buildRunPlan(spec, ['/l'], paths, cgroups, o).ops.filter((op) => op.op === 'ctr-exit-file').map((op) => (op as {path: string}).path)
  assert.deepEqual(exitFiles({readyFd: 3, keep: true}), ['/store/run/web/exit'])
  assert.deepEqual(exitFiles({readyFd: 3}), ['/store/run/web.exit'])
  assert.deepEqual(exitFiles({}), [])
})
