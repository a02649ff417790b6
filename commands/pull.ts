import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {pullAllTags, pullImage, PullResult} from '../src/registry/pull.js'
import {shortId, Store} from '../src/store/store.js'

export default class Pull extends NsxCommand {
  static override summary = 'Pull an image from a registry into the layer store'
  static override description = `REF is docker's reference: [REGISTRY[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST]. Without a registry it is docker.io, where a one-word name is an official image (busybox is docker.io/library/busybox); the tag defaults to latest. From an image index or docker manifest list, the image for this machine's platform is chosen (or --platform's). Layers (gzip, zstd or plain) are fetched in parallel and extracted into the store as they arrive, each verified against its digest before it is stored; layers the store has are not fetched, and an interrupted pull leaves no partial layer.

Mirrors come from containers-registries.conf(5), the file podman and skopeo read ($CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf, else /etc/containers/registries.conf, and their registries.conf.d/ drop-ins): each [[registry.mirror]] of the name's [[registry]] is tried in turn, then the registry itself; the image keeps its own name. A failure is told in docker's words: "pull access denied for NAME, repository does not exist or may require 'docker login': ...", "manifest for NAME:TAG not found: ...", or Go's dial error for a registry not reached.

Credentials come from the files nsx login, podman login and docker login write ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json). HTTPS is used, plain HTTP only for a loopback registry (localhost, 127.0.0.0/8, ::1) or with --tls-verify=false. Progress goes to stderr: a bar per layer on a terminal, one line per layer otherwise.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> localhost:5000/app:1.0', description: 'Pull from a local registry.'},
    {command: '<%= config.bin %> <%= command.id %> --platform linux/arm64 alpine', description: 'Pull the arm64 image of a multi-platform index.'},
    {command: 'CONTAINERS_REGISTRIES_CONF=./registries.conf <%= config.bin %> <%= command.id %> alpine:3.10', description: 'Pull docker.io\'s alpine through the mirrors a registries.conf names.'},
  ]

  static override args = {
    reference: Args.string({description: 'The image: [REGISTRY/]REPOSITORY[:TAG][@DIGEST]', required: true}),
  }

  static override flags = {
    platform: Flags.string({description: 'The platform to choose from an index (default: this machine\'s)', helpValue: 'OS/ARCH[/VARIANT]'}),
    'tls-verify': Flags.boolean({description: 'Require HTTPS with a verified certificate (--tls-verify=false allows plain HTTP and any certificate)', allowNo: true, default: true}),
    authfile: Flags.string({description: 'Read credentials from this file only', helpValue: 'FILE'}),
    quiet: Flags.boolean({char: 'q', description: 'No progress output; print only the image id'}),
    'all-tags': Flags.boolean({char: 'a', description: 'Pull every tag of the repository (REF names none); --json prints an array'}),
  }

  async run(): Promise<PullResult | PullResult[]> {
    const {args, flags} = await this.parse(Pull)
    const store = Store.open()
    store.lock('shared')
    const opts = {reference: args.reference, platform: flags.platform, tlsVerify: flags['tls-verify'], authFile: flags.authfile, quiet: flags.quiet || this.jsonEnabled()}
    const results = flags['all-tags'] ? await pullAllTags(store, opts) : [await pullImage(store, opts)]
    if (!this.jsonEnabled())
      for (const r of results) {
        if (flags.quiet) process.stdout.write(`${r.id}\n`)
        else process.stdout.write(`Pulled ${r.name ?? r.reference} (image ${shortId(r.id)}, digest ${r.digest})\n`)
      }
    return flags['all-tags'] ? results : results[0]
  }
}
