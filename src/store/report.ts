import {formatBytes} from '../image/size.js'
import type {Freed} from './gc.js'

/** The text report of rmi and gc: one line per thing removed, then the total. */
export function renderFreed(f: Freed, dryRun: boolean): string {
  const verb = dryRun ? 'Would delete' : 'Deleted'
  const out: string[] = []
  for (const n of f.untagged) out.push(`${dryRun ? 'Would untag' : 'Untagged'}: ${n}`)
  for (const i of f.images) out.push(`${verb} image: ${i}`)
  for (const l of f.layers) out.push(`${verb} layer: ${l}`)
  if (f.temporaries > 0) out.push(`${verb} ${f.temporaries} leftover(s) of interrupted imports`)
  if (out.length === 0) out.push('Nothing to remove')
  else out.push(`${dryRun ? 'Would free' : 'Freed'} ${formatBytes(f.bytes)}`)
  return out.join('\n') + '\n'
}
