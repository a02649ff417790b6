import {NsxError} from '../cli/errors.js'
import {formatJson} from '../ns/json-output.js'
import {palette} from '../render/colour.js'
import {ASCII_GLYPHS, glyphsFor} from '../render/tree.js'
import {PidResolver, pidOrOclif, requireProcess} from '../proc/target.js'
import {ProcSnapshot} from './snapshot.js'
import {ProcessTree, buildTree, parsePidNsArg} from './tree.js'
import {describeByIoctl} from './relations.js'
import {renderProcessTree} from './render.js'

/** `nsx pstree` from parsed options to output, shared by the oclif command and the fast path. */
export interface PstreeOptions {
  pid?: string
  /** pid or container name -> pid (the commands layer's resolver); default: a pid as typed. */
  resolvePid?: PidResolver
  ns?: string
  arguments?: boolean
  uidChanges?: boolean
  showParents?: boolean
  threads?: boolean
  ascii?: boolean
  json?: boolean
  /** Say what could not be read even as root, where it hides nothing asked for. */
  verbose?: boolean
}

export interface PstreeOutcome {
  tree: ProcessTree
  /** What to print on stdout: the JSON document or the drawn tree. */
  stdout: string
  /** The one-line summary of what could not be read, if anything. */
  warning?: string
}

export function executePstree(o: PstreeOptions): PstreeOutcome {
  if (o.pid !== undefined && o.ns !== undefined) throw new NsxError('give a PID or --ns, not both')
  if (o.showParents && o.pid === undefined) throw new NsxError('--show-parents needs a PID')
  const pid = o.pid === undefined ? undefined : requireProcess((o.resolvePid ?? pidOrOclif)(o.pid)).pid
  const ns = o.ns === undefined ? undefined : parsePidNsArg(o.ns)

  const snap = ProcSnapshot.read()
  if (snap.processes.size === 0) throw new NsxError(`no processes in ${snap.root}: is procfs mounted there?`)
  if (pid !== undefined && (snap.nsLinks(pid) === undefined || snap.denied(pid))) {
    if (!snap.processes.has(pid)) throw new NsxError(`no such process: ${pid}`)
    const hint = process.geteuid?.() === 0 ? '' : ' (run as root or as its owner)'
    throw new NsxError(`process ${pid}: permission denied reading /proc/${pid}/ns${hint}`)
  }
  const tree = buildTree(snap, {
    pid,
    ns,
    showParents: o.showParents,
    args: o.arguments || o.json,
    threads: o.threads,
    describe: describeByIoctl(snap.root),
  })
  const stdout = o.json
    ? `${formatJson(tree)}\n`
    : renderProcessTree(tree, {
        palette: palette(process.stdout),
        glyphs: o.ascii ? ASCII_GLYPHS : glyphsFor(),
        uidChanges: o.uidChanges,
        args: o.arguments,
      })
  return {tree, stdout, warning: snap.log.report({verbose: o.verbose})}
}
