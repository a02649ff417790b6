import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Store} from '../store/store.js'
import type {Limits} from './limits.js'

/**
 * A named group's record in the store (ROOT/groups/NAME.json): what nsx run --group reads to
 * place a container, and what src/group/ (nsx group) writes.
 */

export interface Group {
  name: string
  parent?: string
  created: string
  /** Every limit in force, absolute (bytes, CPUs, ...). */
  limits: Limits
  /** Limits given as a share of the host, as given ("50%"), beside their absolute values in limits. */
  percent: {memory?: string; cpus?: string}
  /** Its cgroup in each hierarchy. */
  cgroups: string[]
}

export const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/
export const groupsDir = (store: Store) => join(store.root, 'groups')
export const groupFile = (store: Store, name: string) => join(groupsDir(store), `${name}.json`)

export function readGroup(store: Store, name: string): Group | undefined {
  if (!NAME.test(name)) return undefined
  try {
    return JSON.parse(readFileSync(groupFile(store, name), 'utf8')) as Group
  } catch {
    return undefined
  }
}
