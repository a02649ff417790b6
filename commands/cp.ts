import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {copy} from '../src/copy/cp.js'
import {Store} from '../src/store/store.js'

export default class Cp extends NsxCommand {
  static override summary = 'Copy files between a container and the host'
  static override description = `docker cp's rules: CONTAINER:SRC_PATH DEST_PATH copies out of a container, SRC_PATH CONTAINER:DEST_PATH into it; - as DEST_PATH writes a tar of the source to stdout, - as SRC_PATH extracts a tar from stdin into a directory of the container. A directory copied to a missing path takes that name; SRC_PATH/. copies the directory's content; a file replaces a file; a directory never replaces a file nor the reverse. Paths in the container are resolved inside its root: its symlinks (absolute ones and ..) never lead to the host. Running and stopped containers alike (a stopped one's root is mounted for the copy in a mount namespace of its own), volumes included. Without -a, files copied in are root's; with it they keep their owners both ways. A missing container or path: "No such container:path", exit 1.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web:/etc/hostname .', description: 'Copy a file out of a container.'},
    {command: '<%= config.bin %> <%= command.id %> ./site/. web:/usr/share/html', description: 'Copy a directory\'s content into one of the container.'},
    {command: '<%= config.bin %> <%= command.id %> web:/var/log - | tar -t', description: 'A tar of a container\'s directory on stdout.'},
  ]

  static override args = {
    src: Args.string({description: 'CONTAINER:SRC_PATH, a host path, or - (a tar on stdin)', required: true}),
    dest: Args.string({description: 'CONTAINER:DEST_PATH, a host path, or - (a tar on stdout)', required: true}),
  }

  static override flags = {
    archive: Flags.boolean({char: 'a', description: 'Archive mode: keep the files\' uid and gid'}),
    'follow-link': Flags.boolean({char: 'L', description: 'Always follow a symbolic link given as SRC_PATH'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Cp)
    await copy(Store.open(undefined, {create: false}), args.src, args.dest, {archive: flags.archive, followLink: flags['follow-link']})
  }
}
