import {Plugin} from '@oclif/core'
import {renderJsonPage} from './json-page.js'
import {ManCommand, renderIndexPage, renderManPage} from './manpage.js'
import {SCHEMAS} from './schemas.js'

/**
 * All man pages (file name -> troff text) for the commands of the package at root, and
 * nsx-json(5) for the JSON they print.
 * Reads the command classes themselves, never oclif.manifest.json, so a stale manifest
 * cannot make stale pages.
 */
export async function renderManPages(root: string): Promise<Map<string, string>> {
  const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
  await plugin.load()
  const cmds = Object.values(plugin.manifest.commands)
    .filter((c) => !c.hidden)
    .sort((a, b) => a.id.localeCompare(b.id)) as unknown as ManCommand[]
  const bin = plugin.pjson.oclif.bin ?? 'nsx'
  const version = plugin.version
  const pages = new Map<string, string>()
  pages.set(`${bin}.1`, renderIndexPage(cmds, bin, version, plugin.pjson.description ?? ''))
  for (const c of cmds) pages.set(`${bin}-${c.id.replace(/:/g, '-')}.1`, renderManPage(c, bin, version))
  pages.set(`${bin}-json.5`, renderJsonPage(root, SCHEMAS, bin, version))
  return pages
}
