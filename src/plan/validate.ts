import {NsxError} from '../cli/errors.js'
import type {Op, Plan} from './ops.js'

/**
 * Structural checks a builder can get wrong; the executor checks arity and names,
 * this checks order and preconditions, so a bad plan fails before anything runs.
 */
export function validatePlan(plan: Plan): Plan {
  const fail = (why: string): never => {
    throw NsxError.internal(`internal error: invalid plan: ${why}`, 125)
  }
  const ops = plan.ops
  if (ops.length === 0) fail('empty')
  const last = ops[ops.length - 1]
  const isExec = (op: Op) => op.op === 'exec' || op.op === 'exec-shell' || op.op === 'ctr-exec' || op.op === 'exec-run'
  if (!isExec(last) && last.op !== 'end') fail('it must end with exec or exec-shell')
  if (ops.slice(0, -1).some((op) => op.op === 'end')) fail('end before the end')
  let pinned = false
  let released = false
  const files = new Set<string>()
  let root = false
  let wd = false
  ops.forEach((op: Op, i) => {
    if (isExec(op) && i !== ops.length - 1) fail(`${op.op} before the end`)
    if ((op.op === 'exec' || op.op === 'ctr-exec' || op.op === 'exec-run') && op.argv.length === 0) fail('exec without a command')
    for (const v of Object.values(op)) {
      const strings = Array.isArray(v) ? v : [v]
      for (const s of strings) if (typeof s === 'string' && s.includes('\0')) fail(`${op.op}: an argument holds a NUL byte`)
    }
    switch (op.op) {
      case 'pin':
      case 'pin-thread':
        if (pinned) fail('pinned twice')
        pinned = true
        break
      case 'pin-check':
        if (!pinned) fail('pin-check before pin')
        break
      case 'nsfd':
        files.add(op.ns)
        break
      case 'nsfd-pinned':
        if (!pinned) fail('nsfd-pinned without pin')
        files.add(op.ns)
        break
      case 'setns':
      case 'setns-try':
        if (released) fail(`${op.op} ${op.ns} after release-target`)
        if (!pinned && !files.has(op.ns)) fail(`${op.op} ${op.ns} with neither a target nor a namespace file`)
        break
      case 'net-socket':
        if (!pinned) fail('net-socket without a target')
        files.add('net')
        break
      case 'user-parent':
        if (!pinned && !files.has('user')) fail('user-parent without a target')
        files.add('user')
        break
      case 'release-target':
        released = true
        break
      case 'open-root':
        root = true
        break
      case 'open-wd':
        wd = true
        break
      case 'chroot':
        if (!root) fail('chroot without open-root')
        break
      case 'chdir-fd':
        if (!wd) fail('chdir-fd without open-wd')
        break
      default:
        break
    }
  })
  return plan
}
