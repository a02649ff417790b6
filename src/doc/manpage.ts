import {exitStatusOf, ExitStatusEntry} from '../cli/exit-status.js'

/**
 * Render troff man pages from oclif command definitions, so man/ never drifts from --help.
 * Deterministic output: no dates, sorted flags, so a test can compare byte for byte.
 */
export interface ManFlag {
  name: string
  char?: string
  description?: string
  type: 'boolean' | 'option'
  helpValue?: string | string[]
  options?: readonly string[]
  default?: unknown
  hidden?: boolean
}

export interface ManArg {
  name: string
  description?: string
  required?: boolean
}

export interface ManCommand {
  id: string
  summary?: string
  description?: string
  usage?: string | string[]
  examples?: (string | {command: string; description: string})[]
  flags: Record<string, ManFlag>
  args: Record<string, ManArg>
  hidden?: boolean
  /** What its exit status means (src/cli/exit-status.ts); the inspection commands' 0/1 when absent. */
  exitStatus?: readonly ExitStatusEntry[]
}

const esc = (s: string) =>
  s
    .replace(/\\/g, '\\e')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/-/g, '\\-')

function flagSynopsis(f: ManFlag): string {
  const long = `\\fB\\-\\-${f.name.replace(/-/g, '\\-')}\\fR`
  const short = f.char ? `\\fB\\-${f.char}\\fR, ` : ''
  if (f.type === 'boolean') return short + long
  const hv = Array.isArray(f.helpValue) ? f.helpValue.join(' ') : f.helpValue
  const value = hv ?? (f.options ? f.options.join('|') : 'VALUE')
  return `${short}${long}=\\fI${esc(value)}\\fR`
}

function paragraphs(text: string): string {
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((p) => esc(p.trim()))
    .join('\n.PP\n')
}

export function renderManPage(cmd: ManCommand, bin: string, version: string): string {
  const name = `${bin}-${cmd.id.replace(/:/g, '-')}`
  const words = cmd.id.replace(/:/g, ' ')
  const out: string[] = []
  out.push(`.TH ${name.toUpperCase().replace(/-/g, '\\-')} 1 "" "${bin} ${version}" "User Commands"`)
  out.push('.SH NAME')
  out.push(`${esc(name)} \\- ${esc(cmd.summary ?? (cmd.description ?? '').split('\n')[0])}`)
  out.push('.SH SYNOPSIS')
  const usage = cmd.usage ? (Array.isArray(cmd.usage) ? cmd.usage : [cmd.usage]) : [defaultUsage(cmd)]
  for (const u of usage) out.push(`.B ${esc(bin)} ${esc(u.startsWith(words) ? u : `${words} ${u}`.trim())}`, '.br')
  if (cmd.description) out.push('.SH DESCRIPTION', paragraphs(cmd.description))
  const args = Object.values(cmd.args)
  if (args.length > 0) {
    out.push('.SH ARGUMENTS')
    for (const a of args) out.push('.TP', `\\fI${esc(a.name.toUpperCase())}\\fR`, esc(a.description ?? ''))
  }
  const flags = Object.values(cmd.flags)
    .filter((f) => !f.hidden)
    .sort((a, b) => a.name.localeCompare(b.name))
  if (flags.length > 0) {
    out.push('.SH OPTIONS')
    for (const f of flags) {
      let d = f.description ?? ''
      if (f.options && f.options.length > 0) d += ` One of: ${f.options.join(', ')}.`
      if (f.default !== undefined && f.type === 'option' && typeof f.default !== 'function') d += ` Default: ${String(f.default)}.`
      out.push('.TP', flagSynopsis(f), esc(d.trim()))
    }
  }
  if (cmd.examples && cmd.examples.length > 0) {
    out.push('.SH EXAMPLES')
    for (const ex of cmd.examples) {
      const e = typeof ex === 'string' ? {command: ex, description: ''} : ex
      const command = e.command.replace(/<%= config.bin %>/g, bin).replace(/<%= command.id %>/g, words)
      if (e.description) out.push('.PP', esc(e.description))
      out.push('.PP', '.nf', `.RS 4`, esc(command), '.RE', '.fi')
    }
  }
  out.push('.SH EXIT STATUS')
  for (const e of exitStatusOf(cmd)) out.push('.TP', `\\fB${esc(e.code)}\\fR`, esc(`${e.meaning}.`))
  out.push('.SH SEE ALSO', `\\fB${bin}\\fR(1)`)
  return out.join('\n') + '\n'
}

function defaultUsage(cmd: ManCommand): string {
  const words = cmd.id.replace(/:/g, ' ')
  const args = Object.values(cmd.args).map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`))
  return [words, '[OPTIONS]', ...args].join(' ')
}

export function renderIndexPage(cmds: ManCommand[], bin: string, version: string, description: string): string {
  const out: string[] = []
  out.push(`.TH ${bin.toUpperCase()} 1 "" "${bin} ${version}" "User Commands"`)
  out.push('.SH NAME', `${bin} \\- ${esc(description)}`)
  out.push('.SH SYNOPSIS', `.B ${bin}`, '\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]')
  out.push('.SH DESCRIPTION', paragraphs(OVERVIEW))
  out.push('.SH COMMANDS')
  for (const c of [...cmds].sort((a, b) => a.id.localeCompare(b.id))) {
    const summary = (c.summary ?? '').replace(/\.?$/, '.')
    out.push('.TP', `\\fB${esc(c.id.replace(/:/g, ' '))}\\fR`, `${esc(summary)} See \\fB${bin}\\-${esc(c.id.replace(/:/g, '-'))}\\fR(1).`)
  }
  out.push(
    '.SH ENVIRONMENT',
    '.TP',
    '\\fBNO_COLOR\\fR',
    'Disable colour even on a terminal.',
    '.TP',
    '\\fBNSX_DEBUG\\fR',
    'Show a stack trace with errors.',
    '.TP',
    '\\fBNSX_NETWORK\\fR',
    'The network a container joins when run or create is given no \\-\\-network (bridge, a network\'s name, none, host, container:NAME). Unset: bridge for root, as docker\'s default; none for an ordinary user and with \\-\\-userns.',
  )
  out.push(
    '.SH EXIT STATUS',
    'Inspection commands exit 0 on success and 1 on failure. \\fBenter\\fR, \\fBunshare\\fR and \\fBrun\\fR exit with the command\'s status, 125 when nsx itself fails, 126 when the command cannot be executed and 127 when it is not found.',
  )
  out.push('.SH FILES', '.TP', '\\fI/var/lib/nsx\\fR', paragraphs(STORE))
  out.push('.SH JSON OUTPUT', paragraphs(`Every inspection command has --json: one JSON document on stdout, with a versioned JSON Schema; ${bin}-json(5) describes them all.`))
  const see = [...cmds].sort((a, b) => a.id.localeCompare(b.id)).map((c) => `\\fB${bin}\\-${esc(c.id.replace(/:/g, '-'))}\\fR(1)`)
  see.push(`\\fB${bin}\\-json\\fR(5)`)
  out.push('.SH SEE ALSO', see.join(',\n'))
  return out.join('\n') + '\n'
}

/** nsx(1)'s DESCRIPTION: what nsx is and how it works, for a reader who has only the man page. */
const OVERVIEW = `nsx shows how a Linux host is partitioned and lets you act on it: every namespace and what holds it (ls), process trees per pid namespace (pstree), one process's isolation in full (inspect), user-namespace id maps (uidmap), live cgroup usage (top); entering a process's namespaces (enter) and making new ones (unshare) with util-linux's flags; and containers from OCI images (run, exec, ps, stop, pause, and the image verbs).

nsx decides in TypeScript and acts in C: Node cannot change its own namespaces (it is multithreaded), so enter, unshare, run and exec build a plan, an ordered list of operations, and exec a small native executor that performs it and then execs the command. No Node process stays between the user and their command; --dry-run prints the plan with the privilege each step needs.

Most commands need root to see or change other users' processes; enter, unshare and run also work for an ordinary user in namespaces of their own (rootless).`

const STORE = `The image and layer store, and the state of containers (as root; otherwise $XDG_DATA_HOME/nsx, and $NSX_ROOT when set): layers/ (extracted layers by the sha256 of their uncompressed tar), images/ (image configs by id), repositories.json (names), run/ (one directory per container), tmp/ (imports in progress).`
