import {Plugin} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

/**
 * Writes oclif.manifest.json, the cached command list oclif reads at start-up. Without it
 * oclif imports every command module (and what they import) on every run just to list them.
 * Run by `npm run build`; the file is build output, not committed.
 */
export async function writeManifest(root: string): Promise<number> {
  const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
  await plugin.load()
  writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest))
  return Object.keys(plugin.manifest.commands).length
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(fileURLToPath(import.meta.url), '..', '..', '..', '..')
  await writeManifest(root)
}
