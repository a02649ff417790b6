import type {Hook} from '@oclif/core'
import {NsxError} from './errors.js'
import {unknownCommandMessage} from './suggest.js'

/**
 * oclif's command_not_found hook (package.json oclif.hooks): one line naming the word that is
 * no command, with the closest commands. oclif joins the words of the line into an id
 * ("stpo web" -> "stpo:web"); the first one is what was mistyped.
 */
const hook: Hook.CommandNotFound = async function (opts) {
  const typed = opts.id.split(':')[0]
  const commands = opts.config.commandIDs.map((id) => id.split(':')[0])
  throw new NsxError(unknownCommandMessage(typed, [...new Set(commands)], opts.config.bin))
}

export default hook
