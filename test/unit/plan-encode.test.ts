import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {REPO, run} from '../helpers/env.js'
import {encodedOpNames, encodeOp, encodePlan, opArity} from '../../src/plan/encode.js'
import {describePlan} from '../../src/plan/describe.js'
import {validatePlan} from '../../src/plan/validate.js'
import type {Op} from '../../src/plan/ops.js'

/** One of every op, so a new op without an encoder, describer or C entry fails here. */
const EVERY_OP: Op[] = [
  {op: 'pin', pid: 42, startTime: 7},
  {op: 'pin-check'},
  {op: 'nsfd', ns: 'net', path: '/run/netns/x'},
  {op: 'net-socket', fd: 3},
  {op: 'user-parent'},
  {op: 'setns-try', ns: 'mnt'},
  {op: 'setns', ns: 'user'},
  {op: 'unshare', ns: ['mnt', 'uts']},
  {op: 'release-target'},
  {op: 'open-root', path: '/proc/42/root'},
  {op: 'open-wd', path: '/proc/42/cwd'},
  {op: 'chroot'},
  {op: 'chdir-fd'},
  {op: 'chdir', path: '/srv'},
  {op: 'exec-chdir', path: '/srv'},
  {op: 'propagation', mode: 'private', path: '/'},
  {op: 'mount-proc', path: '/proc'},
  {op: 'setgroups-try'},
  {op: 'setgroups'},
  {op: 'setgid', gid: 5},
  {op: 'setuid', uid: 6},
  {op: 'keep-caps'},
  {op: 'cgroup-open', path: '/sys/fs/cgroup/x/cgroup.procs'},
  {op: 'cgroup-join'},
  {op: 'env-from', path: '/proc/42/environ'},
  {op: 'setenv', name: 'A', value: 'b c'},
  {op: 'unsetenv', name: 'B'},
  {op: 'fork'},
  {op: 'ctr-exit-hook', path: '/var/lib/nsx/networks/endpoints/x/teardown'},
  {op: 'ctr-exit-hook-bg', path: '/var/lib/nsx/networks/endpoints/x/teardown'},
  {op: 'ctr-net-hook', path: '/home/u/.local/share/nsx/networks/endpoints/x/attach'},
  {op: 'ctr-net-ready'},
  {op: 'netns-new', path: '/var/lib/nsx/netns/x'},
  {op: 'cni-chain'},
  {op: 'cni-add', plugin: '/usr/lib/cni/bridge', conf: '/var/lib/nsx/networks/endpoints/x/add-0-0.json', out: '/var/lib/nsx/networks/endpoints/x/add-0-0.out'},
  {op: 'cni-status', path: '/var/lib/nsx/networks/endpoints/x/add.status'},
  {op: 'cni-background', log: '/var/lib/nsx/networks/endpoints/x/add.log'},
  {op: 'cni-done'},
  {op: 'ctr-net-wait-fd', path: '/var/lib/nsx/networks/endpoints/x/add.status'},
  {op: 'ctr-net-wait'},
  {op: 'pin-thread', tid: 43, startTime: 8},
  {op: 'exec', argv: ['ls', '-l', '']},
]

test('every op the encoder knows has the arity the executor\'s op table declares (nsx-exec --ops)', () => {
  const bin = join(REPO, 'native', 'build', 'nsx-exec')
  assert.ok(existsSync(bin), 'native/build/nsx-exec is not built: run npm run build:native')
  const table = new Map(
    run(bin, ['--ops']).stdout.trim().split('\n').map((l) => {
      const [name, arity] = l.split('\t')
      return [name, Number(arity)] as const
    }),
  )
  for (const op of [...EVERY_OP, {op: 'exec-shell'} as Op]) {
    assert.equal(table.get(op.op), opArity(op), `arity of ${op.op}`)
  }
})

test('TypeScript and the executor know the same ops: none encoded that C lacks, none in C that no plan can use', () => {
  const bin = join(REPO, 'native', 'build', 'nsx-exec')
  assert.ok(existsSync(bin), 'native/build/nsx-exec is not built: run npm run build:native')
  const c = run(bin, ['--ops']).stdout.trim().split('\n').map((l) => l.split('\t')[0]).sort()
  assert.deepEqual(encodedOpNames().sort(), c)
})

test('a plan encodes as argv[0] then each op followed by its arguments, exec taking the rest verbatim', () => {
  assert.deepEqual(
    encodePlan({command: 'nsx enter', ops: [{op: 'pin', pid: 42, startTime: 7}, {op: 'setns', ns: 'net'}, {op: 'exec', argv: ['sh', '-c', 'echo "$1"', 'x y']}]}),
    ['nsx enter', 'pin', '42', '7', 'setns', 'net', 'exec', 'sh', '-c', 'echo "$1"', 'x y'],
  )
  assert.deepEqual(encodeOp({op: 'unshare', ns: ['mnt', 'uts']}), ['unshare', 'mnt,uts'])
})

test('the dry-run description names every step with an action and the privilege it needs', () => {
  const steps = describePlan({command: 'nsx enter', ops: EVERY_OP}, encodeOp)
  assert.equal(steps.length, EVERY_OP.length)
  for (const s of steps) {
    assert.ok(s.action.length > 0 && s.needs.length > 0, s.op)
    assert.doesNotMatch(s.action, /undefined/)
  }
  const setnsMnt = steps.find((s) => s.op === 'setns-try')!
  assert.match(setnsMnt.needs, /CAP_SYS_CHROOT/)
  assert.match(steps.find((s) => s.op === 'setns' && s.args[0] === 'user')!.action, /user namespace of pid 42/)
  assert.match(steps.find((s) => s.op === 'chroot')!.needs, /CAP_SYS_CHROOT/)
  assert.match(steps.find((s) => s.op === 'setuid')!.needs, /CAP_SETUID/)
})

test('the validator refuses plans a builder got wrong before anything runs', () => {
  const bad: [Op[], RegExp][] = [
    [[], /empty/],
    [[{op: 'setns', ns: 'net'}, {op: 'exec-shell'}], /neither a target nor a namespace file/],
    [[{op: 'exec-shell'}, {op: 'fork'}], /must end with exec/],
    [[{op: 'exec', argv: []}], /without a command/],
    [[{op: 'chroot'}, {op: 'exec-shell'}], /chroot without open-root/],
    [[{op: 'pin', pid: 1, startTime: 1}, {op: 'release-target'}, {op: 'setns', ns: 'mnt'}, {op: 'exec-shell'}], /after release-target/],
    [[{op: 'exec', argv: ['a\0b']}], /NUL/],
  ]
  for (const [ops, re] of bad) assert.throws(() => validatePlan({command: 'x', ops}), re)
  assert.doesNotThrow(() => validatePlan({command: 'x', ops: [{op: 'nsfd', ns: 'net', path: '/x'}, {op: 'setns', ns: 'net'}, {op: 'exec-shell'}]}))
})
