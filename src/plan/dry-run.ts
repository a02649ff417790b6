import {describePlan, StepDescription} from './describe.js'
import {encodeOp} from './encode.js'
import {executorPath} from './executor.js'
import type {Plan} from './ops.js'

/** --dry-run --json: the executor's path and each step, with its exact argv. */
export function dryRunJson(plan: Plan): {command: string; executor: string; steps: StepDescription[]} {
  let executor = 'native/build/nsx-exec'
  try {
    executor = executorPath()
  } catch {
    // not built: the plan is still worth showing
  }
  return {command: plan.command, executor, steps: describePlan(plan, encodeOp)}
}

export function renderDryRun(plan: Plan): string {
  const steps = describePlan(plan, encodeOp)
  const w = String(steps.length).length
  const opWidth = Math.max(...steps.map((s) => [s.op, ...s.args].join(' ').length))
  const lines = steps.map((s) => {
    const op = [s.op, ...s.args].join(' ')
    const head = `${String(s.step).padStart(w)}  ${op.padEnd(Math.min(opWidth, 28))}  ${s.action}`
    return s.needs === '-' ? head : `${head}\n${' '.repeat(w + 2)}${''.padEnd(Math.min(opWidth, 28))}  needs: ${s.needs}`
  })
  return `${plan.command}: ${steps.length} operations, run in this order by the native executor\n${lines.join('\n')}\n`
}
