import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {loadIntoStore, LoadOutput} from '../src/store/load.js'

export default class Load extends NsxCommand {
  static override summary = 'Load an image (OCI layout or docker archive) or single layers into the layer store'
  static override description = `Reads an OCI image layout directory (what umoci and skopeo copy oci: write) or a docker-archive tarball (what docker save and skopeo copy docker-archive: write) or an oci-archive tarball (an OCI layout in a tar: nsx save --format oci-archive, podman save --format oci-archive, skopeo copy oci-archive:), either also gzip- or zstd-compressed; checks every blob against its digest, and extracts each layer once into the content-addressed store, where images share the layers they have in common. Extraction converts whiteouts and opaque directories to the form overlayfs reads, keeps hard links, symlinks, modes, ownership (as root) and extended attributes, and refuses entries that would land outside the layer (absolute names, "..", paths through symlinks) and device nodes when not root. An interrupted load leaves nothing behind.

With --layer, loads single layer files (tar, tar.gz, tar.zst) instead; each is kept until nsx rmi DIGEST removes it, and nsx run --layer DIGEST (or a unique prefix of it) uses it (nsx run --layer FILE stores one on the fly, for gc to remove when unused). A tar of a whole root filesystem (mmdebstrap, docker export) becomes an image with nsx import. The store is $NSX_ROOT, else /var/lib/nsx as root and $XDG_DATA_HOME/nsx otherwise.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> ./busybox-oci:latest', description: 'Load the image tagged latest from an OCI layout.'},
    {command: 'docker save alpine:3.20 -o alpine.tar && <%= config.bin %> <%= command.id %> alpine.tar', description: 'Load a docker archive.'},
    {command: '<%= config.bin %> <%= command.id %> --layer rootfs.tar.zst --layer extra.tar.gz', description: 'Store single layers.'},
  ]

  static override args = {
    image: Args.string({description: 'PATH[:TAG] of an OCI layout directory, or a docker-archive or oci-archive tar'}),
  }

  static override flags = {
    input: Flags.string({char: 'i', description: 'The image PATH[:TAG], as docker load -i takes it (same as the argument)', helpValue: 'PATH[:TAG]', }),
    layer: Flags.string({description: 'A layer file (tar, tar.gz or tar.zst) to store; repeatable', multiple: true, helpValue: 'PATH'}),
  }

  async run(): Promise<LoadOutput> {
    const {args, flags} = await this.parse(Load)
    return loadIntoStore({image: args.image, input: flags.input, layers: flags.layer ?? []}, (line) => {
      if (!this.jsonEnabled()) process.stdout.write(line)
    })
  }
}
