import type {Hook} from '@oclif/core'
import {NsxError} from './errors.js'
import {unknownCommandLine} from './suggest.js'

/**
 * oclif's command_not_found hook (package.json oclif.hooks): one line naming the words that
 * are no command, with the closest commands (src/cli/suggest.ts).
 */
const hook: Hook.CommandNotFound = async function (opts) {
  throw new NsxError(unknownCommandLine(opts.id, opts.config.commandIDs, opts.config.bin))
}

export default hook
