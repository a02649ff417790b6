import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {checkName} from '../container/spec.js'
import {claimName, releaseName, withContainer, writeConfig} from '../container/state.js'
import {recordContainerEvent} from '../container/events.js'
import {renameEndpoint} from '../network/records.js'

/**
 * docker rename OLD NEW: the new name is taken (atomically) before the old is released,
 * so no other container can slip in between. The hostname stays (docker's rule), and the
 * cgroups of a running container keep their names until its next start. A running
 * container's peers on user-defined networks reach it by its new name from now on (their
 * /etc/hosts are rewritten), as docker's embedded DNS answers.
 */
export async function renameContainer(store: Store, ref: string, newName: string): Promise<{id: string; oldName: string; name: string}> {
  checkName(newName)
  return withContainer(store, ref, (c) => {
    const oldName = c.config.name
    if (oldName === newName) throw NsxError.invalid(`renaming a container with the same name as its current name: ${newName}`, 1)
    claimName(store, newName, c.config.id, 1)
    writeConfig(c.dir, {...c.config, name: newName, spec: {...c.config.spec, name: newName}})
    releaseName(store, oldName, c.config.id)
    recordContainerEvent(store, {config: {...c.config, name: newName}}, 'rename', {oldName: `/${oldName}`})
    renameEndpoint(store, c.config.id, newName)
    return {id: c.config.id, oldName, name: newName}
  })
}
