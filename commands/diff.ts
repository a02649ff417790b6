import {Args} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {diffIsolation, DiffReport} from '../src/diff/diff.js'
import {DIFF_ERROR} from '../src/diff/operand.js'
import {renderDiff, renderNotCompared} from '../src/diff/render.js'
import {palette} from '../src/render/colour.js'
import {type Change, containerChanges, renderChanges} from '../src/container/changes.js'
import {Store} from '../src/store/store.js'

export default class Diff extends NsxCommand {
  static override failureExitCode = DIFF_ERROR

  static override summary = 'Compare the isolation of two processes, containers or saved inspect reports; with one container, docker diff'
  static override description = `Compares what nsx inspect reports of A and B: each namespace (the same one or not), the uid and gid maps of their user namespaces, credentials, cgroups and the limits enforced on them (memory, pids, cpu, cpuset; and for two nsx containers the limits nsx set), each capability set, seccomp (mode, number of filters, their lengths and answers), no_new_privs, device rules, the root and whether it is read-only, the mounts (matched by mount point: added, removed, changed), the hostname and the names (never the values) of environment variables. Who the process is (pid, command) is not isolation and is not compared.

A and B are each a pid, the name or id of a running nsx container, or a file saved with nsx inspect --json (- for standard input). Digits are a pid; a word with a slash or ending in .json is a file; another word is a container when one has that name, else a file.

The output reads like diff -u: "-" lines are A's, "+" lines B's, one @@ hunk per area; nothing when they are the same. Areas one side cannot speak for (a report saved before nsx recorded mounts, an unreadable hostname) are named on standard error.

Exit status, as diff(1): 0 when the isolation is the same, 1 when it differs, 2 on an error (no such process, an unreadable file, a file that is not an inspect report).

With one argument, nsx diff CONTAINER is docker diff (nsx container diff): the files the container added (A), changed (C) or deleted (D) in its root, running or stopped; exit status 0, or 1 when the container does not exist.`

  static override enableJsonFlag = true

  static override usage = ['diff A B', 'diff CONTAINER']

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: "docker diff: the files container web added, changed or deleted."},
    {command: '<%= config.bin %> <%= command.id %> 1 $(pgrep -n sleep)', description: 'How the newest sleep is isolated from init.'},
    {command: '<%= config.bin %> inspect --json web > web.json; <%= config.bin %> <%= command.id %> web.json web', description: 'What changed in container web since the report was saved.'},
    {command: '<%= config.bin %> <%= command.id %> --json web db | jq \'.differences[] | select(.area == "capabilities")\'', description: 'The capabilities that differ between two containers, for a script.'},
  ]

  static override args = {
    a: Args.string({description: 'A pid, a running nsx container\'s name or id, or a saved nsx inspect --json file', required: true}),
    b: Args.string({description: 'The same, for the other side; without it, A is a container and its file changes are listed (docker diff)'}),
  }

  async run(): Promise<DiffReport | Change[]> {
    const {args} = await this.parse(Diff)
    if (args.b === undefined) {
      // docker diff CONTAINER: its exit status is docker's (1 for no such container), not diff(1)'s.
      const changes = containerChanges(Store.open(undefined, {create: false}), args.a)
      if (!this.jsonEnabled()) process.stdout.write(renderChanges(changes))
      return changes
    }
    const result = diffIsolation(args.a, args.b)
    if (!this.jsonEnabled()) {
      process.stdout.write(renderDiff(result, palette()))
      for (const line of renderNotCompared(result)) process.stderr.write(`nsx diff: ${line}\n`)
    }
    process.exitCode = result.same ? 0 : 1
    return result
  }
}
