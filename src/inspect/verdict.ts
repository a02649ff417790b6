import {NsType} from '../ns/types.js'
import type {NamespaceEntry} from './namespaces.js'

/** The order a container engineer reads isolation in (docker's: user first, then the rest). */
const VERDICT_ORDER: readonly NsType[] = ['user', 'pid', 'net', 'mnt', 'uts', 'ipc', 'cgroup', 'time']

export interface Verdict {
  /** One line: "host process", or "isolated: pid, net, mnt, uts, ipc". */
  line: string
  /** Types whose namespace is not the host's. */
  isolated: NsType[]
  /** Types that could not be compared with the host's. */
  undetermined: NsType[]
}

export function verdictFor(namespaces: NamespaceEntry[]): Verdict {
  const byType = new Map(namespaces.map((n) => [n.type, n]))
  const ordered = VERDICT_ORDER.filter((t) => byType.has(t))
  const isolated = ordered.filter((t) => byType.get(t)!.host === false)
  const undetermined = ordered.filter((t) => byType.get(t)!.host === null)
  let line = isolated.length === 0 ? 'host process' : `isolated: ${isolated.join(', ')}`
  if (undetermined.length > 0) line += ` (not determined: ${undetermined.join(', ')})`
  return {line, isolated, undetermined}
}
