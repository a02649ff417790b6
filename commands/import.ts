import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {importRootfs, ImportResult} from '../src/store/import-rootfs.js'
import {Store} from '../src/store/store.js'

export default class Import extends NsxCommand {
  static override summary = 'Make an image from a root filesystem tar (mmdebstrap, debootstrap, docker export), as docker import'
  static override description = `Stores FILE (a tar of a whole root filesystem: plain, gzip or zstd; - reads it from stdin) as the single layer of a new image, whose configuration is made here: this machine's architecture, os linux, and the Dockerfile instructions given with -c (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR), as docker import does. With NAME[:TAG] the image is given that name (the tag defaults to latest). Prints the image id. nsx images lists it; nsx run --image NAME runs it; nsx rmi removes it.`

  static override enableJsonFlag = true

  static override usage = ['import [-c INSTRUCTION]... [-m MESSAGE] FILE|- [NAME[:TAG]]']

  static override examples = [
    {command: 'mmdebstrap --variant=apt bookworm bookworm.tar && <%= config.bin %> <%= command.id %> bookworm.tar debian:bookworm', description: 'A Debian root filesystem as an image.'},
    {command: 'docker export web | <%= config.bin %> <%= command.id %> -c \'CMD ["/bin/sh"]\' - web:snapshot', description: "A container's filesystem from stdin, with a default command."},
  ]

  static override args = {
    file: Args.string({description: 'The root filesystem tar (tar, tar.gz, tar.zst), or - for stdin', required: true, ignoreStdin: true}),
    reference: Args.string({description: 'NAME[:TAG] for the new image', ignoreStdin: true}),
  }

  static override flags = {
    change: Flags.string({char: 'c', description: 'A Dockerfile instruction for the image configuration, e.g. CMD ["/bin/bash"] or ENV LANG=C.UTF-8 (repeatable)', multiple: true, helpValue: 'INSTRUCTION', multipleNonGreedy: true}),
    message: Flags.string({char: 'm', description: "A comment for the image's history", helpValue: 'MESSAGE'}),
  }

  async run(): Promise<ImportResult> {
    const {args, flags} = await this.parse(Import)
    const store = Store.open()
    store.lock('shared')
    const r = await importRootfs(store, {source: args.file, reference: args.reference, changes: flags.change ?? [], message: flags.message})
    if (!this.jsonEnabled()) process.stdout.write(`${r.id}\n`)
    return r
  }
}
