import {Config} from '@oclif/core'
import {ManCommand, renderIndexPage, renderManPage} from './manpage.js'

/** All man pages (file name -> troff text) for the commands of the package at root. */
export async function renderManPages(root: string): Promise<Map<string, string>> {
  const config = await Config.load(root)
  const cmds = config.commands.filter((c) => !c.hidden) as unknown as ManCommand[]
  const pages = new Map<string, string>()
  const version = config.version
  pages.set('nsx.1', renderIndexPage(cmds, config.bin, version, config.pjson.description ?? ''))
  for (const c of cmds) pages.set(`${config.bin}-${c.id.replace(/:/g, '-')}.1`, renderManPage(c, config.bin, version))
  return pages
}
