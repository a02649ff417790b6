import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {commitContainer, CommitResult} from '../src/build/commit.js'
import {Store} from '../src/store/store.js'

export default class Commit extends NsxCommand {
  static override summary = "Make an image from a container's changes"
  static override description = `The container's changes (its overlay upper directory: added and changed files, deletions as whiteouts) become one new layer on top of its image, with the image's config changed by each -c Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, ONBUILD) and a history entry with -m and -a, in a git style. A running container is paused while its changes are read (--pause=false: not). Prints the new image's id.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -m "add curl" -a "Alice <alice@example.com>" web web:2', description: 'Commit with a message and an author.'},
    {command: '<%= config.bin %> <%= command.id %> -c \'CMD ["nginx", "-g", "daemon off;"]\' -c "EXPOSE 80" web web:3', description: 'Change the config while committing.'},
  ]

  static override args = {
    container: Args.string({description: 'The container: name, id or id prefix', required: true}),
    name: Args.string({description: 'The image name NAME[:TAG] (untagged when absent)'}),
  }

  static override flags = {
    message: Flags.string({char: 'm', description: 'The commit message (the history entry\'s comment)', helpValue: 'TEXT'}),
    author: Flags.string({char: 'a', description: 'The author (e.g. "Alice <alice@example.com>")', helpValue: 'TEXT'}),
    change: Flags.string({char: 'c', description: 'A Dockerfile instruction to apply to the config (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'INSTRUCTION'}),
    pause: Flags.boolean({char: 'p', description: 'Pause a running container while committing', allowNo: true, default: true}),
  }

  async run(): Promise<CommitResult> {
    const {args, flags} = await this.parse(Commit)
    const store = Store.open()
    store.lock('shared')
    const r = await commitContainer(store, {container: args.container, name: args.name, message: flags.message, author: flags.author, changes: flags.change ?? [], pause: flags.pause})
    if (!this.jsonEnabled()) process.stdout.write(`${r.id}\n`)
    return r
  }
}
