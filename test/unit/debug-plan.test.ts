import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {REPO, run} from '../helpers/env.js'
import {buildDebugPlan} from '../../src/debug/plan.js'
import {parseDebugArgs} from '../../src/debug/main.js'
import {encodeOp, encodePlan, opArity} from '../../src/plan/encode.js'
import {describePlan} from '../../src/plan/describe.js'
import {validatePlan} from '../../src/plan/validate.js'
import {NsxError} from '../../src/cli/errors.js'

const target = {pid: 42, startTime: 7}

test("debug plan: the target's namespaces but its mount namespace, then a root of our own, then a nested pid namespace for the session", () => {
  const plan = validatePlan(buildDebugPlan({target, namespaces: ['cgroup', 'ipc', 'uts', 'net', 'pid']}, {lowerDirs: [], writable: false, argv: ['ps', 'aux']}))
  assert.deepEqual(
    plan.ops.map((o) => o.op),
    ['pin', 'pin-check', 'setns', 'setns', 'setns', 'setns', 'setns', 'fork', 'die-with-parent', 'unshare', 'propagation', 'debug-root', 'release-target', 'debug-session', 'exec'],
  )
  assert.ok(!plan.ops.some((o) => o.op === 'setns' && (o.ns === 'mnt' || o.ns === 'user')), 'never the target\'s mount or user namespace')
  assert.deepEqual(encodePlan(plan).slice(-8), ['debug-root', 'ro', '-', 'release-target', 'debug-session', 'exec', 'ps', 'aux'])
  assert.deepEqual(encodeOp({op: 'debug-root', writable: true, lowerDirs: ['/l/low', '/l/high']}), ['debug-root', 'rw', '/l/high:/l/low'])
  // No command: the host's $SHELL as a login shell; with a toolbox image, its /bin/sh.
  assert.equal(buildDebugPlan({target, namespaces: []}, {lowerDirs: [], writable: false, argv: []}).ops.at(-1)!.op, 'exec-shell')
  assert.deepEqual(buildDebugPlan({target, namespaces: []}, {lowerDirs: ['/l'], writable: false, argv: []}).ops.at(-1), {op: 'exec', argv: ['/bin/sh']})
})

test("every debug op has the arity the executor's op table declares, and a --dry-run line", () => {
  const table = new Map(
    run(join(REPO, 'native', 'build', 'nsx-exec'), ['--ops']).stdout.trim().split('\n').map((l) => {
      const [name, arity] = l.split('\t')
      return [name, Number(arity)] as const
    }),
  )
  const plan = buildDebugPlan({target, namespaces: ['pid', 'net']}, {lowerDirs: ['/a', '/b'], writable: true, argv: ['sh']})
  for (const op of plan.ops) assert.equal(table.get(op.op), opArity(op), `arity of ${op.op}`)
  for (const d of describePlan(plan, encodeOp)) assert.ok(d.action.length > 0, d.op)
})

test("debug's arguments: options, then the target, then an optional -- and the command", () => {
  assert.deepEqual(parseDebugArgs(['--image', 'busybox', '--rw', 'web', '--', 'ps', '-ef']).options, {target: 'web', image: 'busybox', writable: true, command: ['ps', '-ef']})
  assert.deepEqual(parseDebugArgs(['1234']).options, {target: '1234', writable: false, command: []})
  assert.deepEqual(parseDebugArgs(['web', 'ls', '--', 'x']).options.command, ['ls', '--', 'x'])
  for (const bad of [[], ['--bogus', 'web'], ['--json', 'web']]) {
    assert.throws(() => parseDebugArgs(bad), (e: NsxError) => e instanceof NsxError && e.exitCode === 125, bad.join(' '))
  }
})
