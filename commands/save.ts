import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {saveImages, SaveResult} from '../src/store/save.js'
import {Store} from '../src/store/store.js'

export default class Save extends NsxCommand {
  static override summary = 'Save stored images to an archive file (docker-archive or oci-archive)'
  static override description = `Writes one or more stored images to OUTPUT: a docker-archive (the default, what docker save writes and docker load, podman load and nsx load read: uncompressed layers, manifest.json) or an oci-archive (an OCI image layout in a tar, compressed layers, one index entry per name, as podman save --format oci-archive). An image given by name is saved under that name; by id, under all its names. The file appears only when complete.`

  static override enableJsonFlag = true
  static override strict = false

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -o app.tar app:1.0', description: 'A docker archive, for docker load or podman load.'},
    {command: '<%= config.bin %> <%= command.id %> --format oci-archive -o app-oci.tar app:1.0 app:latest', description: 'An OCI archive with two names.'},
  ]

  static override args = {
    image: Args.string({description: 'The stored images: name[:tag] or id; several may be given'}),
  }

  static override flags = {
    output: Flags.string({char: 'o', description: 'The archive file to write', required: true, helpValue: 'FILE'}),
    format: Flags.string({description: 'docker-archive (default) or oci-archive', options: ['docker-archive', 'oci-archive'], default: 'docker-archive'}),
  }

  async run(): Promise<SaveResult> {
    const {argv, flags} = await this.parse(Save)
    const store = Store.open(undefined, {create: false})
    store.lock('shared')
    return saveImages(store, {images: argv as string[], output: flags.output, format: flags.format as 'docker-archive' | 'oci-archive'})
  }
}
