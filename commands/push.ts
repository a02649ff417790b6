import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {pushImage, PushResult} from '../src/registry/push.js'
import {Store} from '../src/store/store.js'

export default class Push extends NsxCommand {
  static override summary = 'Push a stored image to a registry'
  static override description = `Sends a stored image's layers, config and an OCI manifest to the registry its name says (docker push NAME), or to DESTINATION (podman push IMAGE DESTINATION). Blobs the registry already has are not sent. Layers keep the compressed blob they were pulled as, so the registry sees the same digests; layers stored from a file are packed and gzipped again. Credentials, TLS and progress as for nsx pull; registries.conf (see nsx pull) can name the registry's real location and allow it plain HTTP (insecure = true), and its mirrors are never pushed to.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> tag app localhost:5000/app:1.0 && <%= config.bin %> <%= command.id %> localhost:5000/app:1.0', description: 'Name an image for a registry and push it.'},
    {command: '<%= config.bin %> <%= command.id %> app registry.example.com/team/app:2', description: 'Push under another name.'},
  ]

  static override args = {
    image: Args.string({description: 'The stored image: name[:tag] or id', required: true}),
    destination: Args.string({description: 'Where to push it: [REGISTRY/]REPOSITORY[:TAG] (default: the image name)'}),
  }

  static override flags = {
    'tls-verify': Flags.boolean({description: 'Require HTTPS with a verified certificate (--tls-verify=false allows plain HTTP and any certificate)', allowNo: true, default: true}),
    authfile: Flags.string({description: 'Read credentials from this file only', helpValue: 'FILE'}),
    quiet: Flags.boolean({char: 'q', description: 'No progress output'}),
  }

  async run(): Promise<PushResult> {
    const {args, flags} = await this.parse(Push)
    const store = Store.open(undefined, {create: false})
    store.lock('shared')
    const r = await pushImage(store, {image: args.image, destination: args.destination, tlsVerify: flags['tls-verify'], authFile: flags.authfile, quiet: flags.quiet || this.jsonEnabled()})
    if (!this.jsonEnabled()) process.stdout.write(`Pushed ${r.reference} (digest ${r.digest})\n`)
    return r
  }
}
