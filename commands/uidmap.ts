import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {gatherUidmap, IdRequest, UidmapReport} from '../src/inspect/uidmap.js'
import {resolvePidArg} from '../src/enter/target.js'
import {renderUidmap} from '../src/inspect/render-uidmap.js'
import {palette} from '../src/render/colour.js'

export default class Uidmap extends NsxCommand {
  static override summary = 'User-namespace id maps of a process, and translation of ids through them'
  static override description = `Shows the user-namespace chain of a process, from its own user namespace up to the initial one, with uid_map, gid_map and setgroups at each level. Each level's maps are read through a process that lives in it; a level no visible process lives in says so. Maps are shown relative to each level's parent, as they were written.

With --uid or --gid, translates an id inside the process's user namespace to the host through every level; with --to-inside, a host id into the process's namespace. An id no map line covers is unmapped: it has no id on the other side, and the kernel shows it there as the overflow id (/proc/sys/kernel/overflowuid, usually 65534).`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> 1234', description: 'The maps of every user namespace above process 1234.'},
    {command: '<%= config.bin %> <%= command.id %> 1234 --uid 0', description: 'Which host uid root inside process 1234\'s namespace is.'},
    {command: '<%= config.bin %> <%= command.id %> 1234 --uid 100000 --to-inside', description: 'Which uid host uid 100000 is inside it.'},
  ]

  static override args = {
    pid: Args.string({description: 'The process whose user namespaces to show: a pid, or a running container\'s name or id prefix (its init)', required: true}),
  }

  static override flags = {
    uid: Flags.string({description: 'Translate this uid (inside the process\'s user namespace; with --to-inside, on the host); repeatable', helpValue: 'N', multiple: true}),
    gid: Flags.string({description: 'Translate this gid, as --uid does; repeatable', helpValue: 'N', multiple: true}),
    'to-inside': Flags.boolean({description: 'Translate from the host into the process\'s user namespace instead'}),
  }

  async run(): Promise<UidmapReport> {
    const {args, flags, raw} = await this.parse(Uidmap)
    // One translation per --uid/--gid, in command-line order (flags.uid and flags.gid lose the interleaving).
    const ids = raw.flatMap<IdRequest>((t) => (t.type === 'flag' && (t.flag === 'uid' || t.flag === 'gid') ? [{kind: t.flag, arg: t.input}] : []))
    const report = gatherUidmap(args.pid, {ids, toInside: flags['to-inside'], resolvePid: resolvePidArg})
    if (!this.jsonEnabled()) process.stdout.write(renderUidmap(report, palette()))
    return report
  }
}
