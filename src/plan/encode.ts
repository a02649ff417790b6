import type {Op, OpName, Plan} from './ops.js'
import {UNSHARE_ENCODERS} from '../unshare/ops.js'

type Encoder<N extends OpName> = (op: Extract<Op, {op: N}>) => string[]

/** Arguments of each op, in the order the executor's op table takes them. */
const ENCODERS: {[N in OpName]: Encoder<N>} = {
  pin: (o) => [String(o.pid), String(o.startTime)],
  'pin-check': () => [],
  nsfd: (o) => [o.ns, o.path],
  'user-parent': () => [],
  setns: (o) => [o.ns],
  'setns-try': (o) => [o.ns],
  unshare: (o) => [o.ns.join(',')],
  'release-target': () => [],
  'open-root': (o) => [o.path],
  'open-wd': (o) => [o.path],
  chroot: () => [],
  'chdir-fd': () => [],
  chdir: (o) => [o.path],
  propagation: (o) => [o.mode, o.path],
  'mount-proc': (o) => [o.path],
  'setgroups-try': () => [],
  setgroups: () => [],
  setgid: (o) => [String(o.gid)],
  setuid: (o) => [String(o.uid)],
  'keep-caps': () => [],
  'cgroup-open': (o) => [o.path],
  'cgroup-join': () => [],
  'env-from': (o) => [o.path],
  setenv: (o) => [o.name, o.value],
  unsetenv: (o) => [o.name],
  fork: () => [],
  exec: (o) => o.argv,
  'exec-shell': () => [],
  ...UNSHARE_ENCODERS,
}

/** Number of arguments each op takes (exec: -1, the rest); must match native/exec.c's table. */
export function opArity(op: Op): number {
  return op.op === 'exec' ? -1 : encodeOp(op).length - 1
}

export function encodeOp(op: Op): string[] {
  const enc = ENCODERS[op.op] as Encoder<typeof op.op>
  return [op.op, ...enc(op as never)]
}

/** The executor's argv: argv[0] is the message prefix, then each op and its arguments. */
export function encodePlan(plan: Plan): string[] {
  return [plan.command, ...plan.ops.flatMap(encodeOp)]
}
