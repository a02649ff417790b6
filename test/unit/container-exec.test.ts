import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO, run} from '../helpers/env.js'
import {buildExecPlan, ExecRestrictions} from '../../src/plan/exec.js'
import {encodeOp, encodePlan, opArity} from '../../src/plan/encode.js'
import {describePlan} from '../../src/plan/describe.js'
import {validatePlan} from '../../src/plan/validate.js'
import {execEnv} from '../../src/container/exec.js'
import {parseExecArgs} from '../../src/container/exec-main.js'
import {freezerOf, isFrozenOrFreezing, readFreezerState, setFrozen} from '../../src/container/freezer.js'
import {NsxError} from '../../src/cli/errors.js'

const facts = {init: {pid: 42, startTime: 7}, namespaces: ['ipc', 'uts', 'net', 'pid', 'mnt', 'cgroup'] as const, cgroupProcs: ['/sys/fs/cgroup/freezer/nsx-web-1/cgroup.procs']}
const restrictions: ExecRestrictions = {uid: 1000, gid: 1000, groups: [2000], caps: [0, 1, 21], noNewPrivs: true, env: ['PATH=/bin', 'A=x=y'], workdir: '/srv', seccomp: []}
const names = (p: {ops: {op: string}[]}) => p.ops.map((o) => o.op)

test('exec plan: pin, cgroups opened, namespaces entered, fork; the child joins the cgroup, then drops to the container\'s restrictions', () => {
  const plan = validatePlan(buildExecPlan({...facts, namespaces: [...facts.namespaces]}, restrictions, {argv: ['ps', 'aux'], interactive: false, detach: false}))
  assert.deepEqual(names(plan), [
    'pin', 'cgroup-open', 'pin-check',
    'setns', 'setns', 'setns', 'setns', 'setns', 'fork',
    'cgroup-join', 'setns', 'release-target', 'ctr-stdin-null', 'env-clear', 'setenv', 'setenv', 'exec-chdir',
    'cap-bound', 'ctr-groups', 'setgid', 'setuid', 'cap-set', 'no-new-privs', 'exec-run',
  ])
  // The mount namespace last on the host side (paths change with it); cgroup after the join, in the child.
  assert.deepEqual(plan.ops.filter((o) => o.op === 'setns').map((o) => (o as {ns: string}).ns), ['ipc', 'uts', 'net', 'pid', 'mnt', 'cgroup'])
  assert.deepEqual(encodePlan(plan).slice(-3), ['exec-run', 'ps', 'aux'])
  assert.deepEqual(plan.ops.filter((o) => o.op === 'setenv'), [{op: 'setenv', name: 'PATH', value: '/bin'}, {op: 'setenv', name: 'A', value: 'x=y'}])
})

test('exec plan: a user namespace is entered first; -i keeps stdin; -d forks away instead of waiting; seccomp ops come last before exec', () => {
  const seccomp = [{op: 'no-new-privs' as const}]
  const plan = validatePlan(
    buildExecPlan({...facts, namespaces: ['user', 'mnt', 'pid']}, {...restrictions, groups: undefined, noNewPrivs: false, seccomp}, {argv: ['sh'], interactive: true, detach: true}),
  )
  const n = names(plan)
  assert.equal(n[n.indexOf('pin-check') + 1], 'setns')
  assert.equal((plan.ops[n.indexOf('pin-check') + 1] as {ns: string}).ns, 'user')
  assert.ok(n.includes('exec-detach') && !n.includes('fork'))
  assert.ok(!n.includes('ctr-stdin-null') && !n.includes('ctr-groups'))
  assert.deepEqual(n.slice(-2), ['no-new-privs', 'exec-run'])
  assert.ok(!n.includes('nsfd-pinned'), 'without openFiles (an ordinary user) the others are entered by the pidfd')
})

test('exec plan as root into a user namespace: the other namespace files are opened before it, while the pin holds, and entered after it', () => {
  const plan = validatePlan(buildExecPlan({...facts, namespaces: ['user', 'ipc', 'mnt', 'pid', 'cgroup'], openFiles: true}, restrictions, {argv: ['sh'], interactive: false, detach: false}))
  const steps = plan.ops.map((o) => `${o.op}${'ns' in o ? ` ${o.ns}` : ''}`)
  assert.deepEqual(steps.slice(0, steps.indexOf('fork')), [
    'pin', 'cgroup-open', 'nsfd-pinned ipc', 'nsfd-pinned pid', 'nsfd-pinned mnt', 'nsfd-pinned cgroup', 'pin-check',
    'setns user', 'setns ipc', 'setns pid', 'setns mnt',
  ])
  assert.ok(steps.indexOf('setns cgroup') > steps.indexOf('cgroup-join'))
  assert.deepEqual(encodeOp({op: 'nsfd-pinned', ns: 'ipc'}), ['nsfd-pinned', 'ipc'])
})

test('exec plan: -t forks with a pty (exec-pty) in place of fork, after the mount namespace, and keeps stdin (the pty); -i says whether input is relayed', () => {
  for (const interactive of [false, true]) {
    const plan = validatePlan(buildExecPlan({...facts, namespaces: [...facts.namespaces]}, restrictions, {argv: ['sh'], interactive, tty: true, detach: false}))
    const n = names(plan)
    assert.ok(!n.includes('fork') && !n.includes('ctr-stdin-null'))
    const i = n.indexOf('exec-pty')
    assert.deepEqual(plan.ops[i - 1], {op: 'setns', ns: 'mnt'})
    assert.deepEqual(plan.ops[i], {op: 'exec-pty', stdin: interactive})
    assert.deepEqual(encodeOp(plan.ops[i]), ['exec-pty', interactive ? 'stdin' : 'nostdin'])
    assert.ok(!n.includes('exec-pty-size'), 'the size is the caller terminal\'s')
  }
  // The Engine API's exec: the window size comes from a descriptor (exec resize), set before the fork.
  const api = validatePlan(buildExecPlan({...facts, namespaces: [...facts.namespaces]}, restrictions, {argv: ['sh'], interactive: true, tty: true, detach: false, sizeFd: 3}))
  const n = names(api)
  assert.equal(n.indexOf('exec-pty-size') + 1, n.indexOf('exec-pty'))
  assert.deepEqual(encodeOp(api.ops[n.indexOf('exec-pty-size')]), ['exec-pty-size', '3'])
})

test("every exec op has the arity the executor's op table declares, and a --dry-run line", () => {
  const table = new Map(
    run(join(REPO, 'native', 'build', 'nsx-exec'), ['--ops']).stdout.trim().split('\n').map((l) => {
      const [name, arity] = l.split('\t')
      return [name, Number(arity)] as const
    }),
  )
  const plan = buildExecPlan({...facts, namespaces: ['user', ...facts.namespaces]}, restrictions, {argv: ['true'], interactive: false, detach: true})
  plan.ops.push({op: 'exec-pty-size', fd: 3}, {op: 'exec-pty', stdin: true})
  for (const op of plan.ops) assert.equal(table.get(op.op), opArity(op), `arity of ${op.op}`)
  for (const d of describePlan(plan, encodeOp)) assert.ok(d.action.length > 0, d.op)
})

test("exec's environment: the container's, then --env-file, then -e (a bare NAME unsets it: the CLI gave it the caller's value before), TERM only with -t and only when unset", () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-exec-env-'))
  try {
    writeFileSync(join(dir, 'f'), '# comment\nB=file\nC=file\n')
    const env = execEnv(['PATH=/bin', 'A=ctr', 'B=ctr'], {env: ['C=flag', 'HOSTVAR', 'MISSING', 'A'], envFiles: [join(dir, 'f')], tty: true}, {HOSTVAR: 'h'})
    assert.deepEqual(env, ['PATH=/bin', 'B=file', 'C=flag', 'TERM=xterm'])
    assert.deepEqual(execEnv(['TERM=vt100'], {env: [], envFiles: [], tty: true}, {}), ['TERM=vt100'])
    assert.deepEqual(execEnv([], {env: [], envFiles: [], tty: false}, {}), [])
    assert.throws(() => execEnv([], {env: ['=x'], envFiles: [], tty: false}, {}), (e: NsxError) => e.exitCode === 125)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test("exec's arguments: docker exec's flags, options end at the container; a missing command is a usage error (125)", () => {
  const p = parseExecArgs(['-it', '-u', 'app:extra', '-e', 'A=1', '--env-file', '/f', '-w', '/tmp', '--privileged', 'web', 'sh', '-c', 'ls -l'])
  assert.deepEqual(p.options, {container: 'web', command: ['sh', '-c', 'ls -l'], interactive: true, tty: true, detach: false, user: 'app:extra', env: ['A=1'], envFiles: ['/f'], workdir: '/tmp', privileged: true})
  assert.deepEqual(parseExecArgs(['web', 'ls', '-i']).options.command, ['ls', '-i'])
  assert.equal(parseExecArgs(['--help']).help, true)
  for (const bad of [['web'], [], ['--bogus', 'web', 'x'], ['--json', 'web', 'x']]) {
    assert.throws(() => parseExecArgs(bad), (e: NsxError) => e instanceof NsxError && e.exitCode === 125, bad.join(' '))
  }
})

test('the freezer: a v1 freezer hierarchy wins on hybrid hosts, else the v2 cgroup; none when neither holds the container', () => {
  const dirs = ['/sys/fs/cgroup/memory/nsx-w-1', '/sys/fs/cgroup/freezer/nsx-w-1', '/sys/fs/cgroup/unified/nsx-w-1']
  assert.deepEqual(freezerOf(dirs, ['/sys/fs/cgroup/freezer'], '/sys/fs/cgroup/unified'), {version: 1, dir: '/sys/fs/cgroup/freezer/nsx-w-1'})
  assert.deepEqual(freezerOf(['/sys/fs/cgroup/a/nsx-w-1'], [], '/sys/fs/cgroup'), {version: 2, dir: '/sys/fs/cgroup/a/nsx-w-1'})
  assert.equal(freezerOf(['/sys/fs/cgroup/memory/nsx-w-1'], ['/sys/fs/cgroup/freezer'], undefined), undefined)
  // A sibling mount whose name starts the same is not the freezer's.
  assert.equal(freezerOf(['/sys/fs/cgroup/freezer2/x'], ['/sys/fs/cgroup/freezer'], undefined), undefined)
})

test('the freezer state from fixture trees: v1 FROZEN/FREEZING/THAWED, v2 cgroup.freeze with cgroup.events; a gone cgroup is undefined', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-freezer-'))
  try {
    const v1 = join(dir, 'v1')
    const v2 = join(dir, 'v2')
    mkdirSync(v1)
    mkdirSync(v2)
    for (const [text, want] of [['FROZEN\n', 'frozen'], ['FREEZING\n', 'freezing'], ['THAWED\n', 'thawed']] as const) {
      writeFileSync(join(v1, 'freezer.state'), text)
      assert.equal(readFreezerState({version: 1, dir: v1}), want)
    }
    writeFileSync(join(v2, 'cgroup.freeze'), '1\n')
    writeFileSync(join(v2, 'cgroup.events'), 'populated 1\nfrozen 0\n')
    assert.equal(readFreezerState({version: 2, dir: v2}), 'freezing')
    writeFileSync(join(v2, 'cgroup.events'), 'populated 1\nfrozen 1\n')
    assert.equal(readFreezerState({version: 2, dir: v2}), 'frozen')
    writeFileSync(join(v2, 'cgroup.freeze'), '0\n')
    writeFileSync(join(v2, 'cgroup.events'), 'populated 1\nfrozen 0\n')
    assert.equal(readFreezerState({version: 2, dir: v2}), 'thawed')
    assert.equal(readFreezerState({version: 2, dir: join(dir, 'gone')}), undefined)
    // A cgroup that cannot be read (not mounted in this mount namespace) is not a paused container.
    assert.deepEqual([isFrozenOrFreezing('frozen'), isFrozenOrFreezing('freezing'), isFrozenOrFreezing('thawed'), isFrozenOrFreezing(undefined)], [true, true, false, false])
    // setFrozen writes the request and waits for the kernel's answer: a fixture that never answers is taken back.
    await assert.rejects(setFrozen({version: 2, dir: v2}, true, 100), /did not all freeze within 0.1s.*thawed again/)
    assert.equal(readFileSyncTrim(join(v2, 'cgroup.freeze')), '0')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

function readFileSyncTrim(p: string): string {
  return run('cat', [p]).stdout.trim()
}
