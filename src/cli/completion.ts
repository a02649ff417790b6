/**
 * Shell completion scripts for nsx, made from the command definitions (oclif's manifest):
 * command names, each command's flags (long and short), and the values of flags that
 * have a fixed list (`--sort cpu|memory|...`). The scripts are static, so completing costs
 * the shell nothing: no nsx process runs on <TAB>. Regenerate after upgrading nsx.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

export interface CompletionFlag {
  name: string
  char?: string
  /** Takes a value. */
  value: boolean
  /** The fixed values it takes, when there is such a list. */
  options?: readonly string[]
  summary?: string
}

export interface CompletionCommand {
  id: string
  summary?: string
  flags: CompletionFlag[]
}

/** Commands as oclif's manifest (or config.commands) lists them; hidden ones are left out. */
export function completionCommands(
  commands: ReadonlyArray<{id: string; hidden?: boolean; summary?: string; description?: string; flags: Record<string, {name?: string; char?: string; type: string; options?: readonly string[]; summary?: string; description?: string; hidden?: boolean}>}>,
): CompletionCommand[] {
  return commands
    .filter((c) => !c.hidden)
    .map((c) => ({
      id: c.id,
      summary: firstLine(c.summary ?? c.description),
      flags: Object.entries(c.flags)
        .filter(([, f]) => !f.hidden)
        .map(([name, f]) => ({name, char: f.char, value: f.type === 'option', options: f.options, summary: firstLine(f.summary ?? f.description)})),
    }))
    .sort((a, b) => a.id.localeCompare(b.id))
}

function firstLine(s: string | undefined): string | undefined {
  return s?.split('\n')[0].trim() || undefined
}

export function completionScript(shell: Shell, commands: readonly CompletionCommand[]): string {
  if (shell === 'bash') return bashScript(commands)
  if (shell === 'zsh') return zshScript(commands)
  return fishScript(commands)
}

/** A word safe inside a shell single-quoted string. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

// --help is answered by oclif (and bin/nsx) for every command, without a flag definition.
const flagWords = (c: CompletionCommand) => [...c.flags.flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]), '--help']

function bashScript(commands: readonly CompletionCommand[]): string {
  const cases = commands
    .map((c) => {
      const valued = c.flags.filter((f) => f.value).flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])])
      const lists = c.flags
        .filter((f) => f.value && f.options && f.options.length > 0)
        .map((f) => `        ${[`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])].join('|')}) values=${sq(f.options!.join(' '))} ;;`)
      return [
        `    ${c.id})`,
        `      flags=${sq(flagWords(c).join(' '))}`,
        `      valued=${sq(` ${valued.join(' ')} `)}`,
        ...(lists.length > 0 ? ['      case "$prev" in', ...lists, '      esac'] : []),
        '      ;;',
      ].join('\n')
    })
    .join('\n')
  return `# bash completion for nsx (nsx completion bash). Load it with
#   source <(nsx completion bash)
# or save it as /usr/share/bash-completion/completions/nsx.
_nsx() {
  local cur prev flags valued values
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${sq(commands.map((c) => c.id).join(' '))} -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    *) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [ -n "$values" ]; then
    COMPREPLY=($(compgen -W "$values" -- "$cur"))
  elif [[ "$valued" == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _nsx nsx
`
}

/** A description inside a single-quoted zsh word: in _arguments' [...], brackets are escaped. */
const zshText = (s: string | undefined) => (s ?? '').replace(/\\/g, '\\\\').replace(/([[\]])/g, '\\$1').replace(/'/g, `'\\''`)

function zshScript(commands: readonly CompletionCommand[]): string {
  const cmds = commands.map((c) => `    '${c.id}:${zshText(c.summary)}'`).join('\n')
  const cases = commands
    .map((c) => {
      const specs = c.flags.map((f) => {
        const names = f.char ? `{-${f.char},--${f.name}}` : `--${f.name}`
        const value = f.value ? (f.options && f.options.length > 0 ? `:${f.name}:(${f.options.join(' ')})` : `:${f.name}:_files`) : ''
        return `        '${names}[${zshText(f.summary)}]${value}'`.replace(`'{-${f.char},--${f.name}}`, `{-${f.char},--${f.name}}'`)
      })
      specs.push(`        '--help[Show help]'`)
      return [`    ${c.id})`, '      _arguments -s \\', ...specs.map((s) => `${s} \\`), `        '*:file:_files'`, '      ;;'].join('\n')
    })
    .join('\n')
  return `#compdef nsx
# zsh completion for nsx (nsx completion zsh). Save it as _nsx in a directory of $fpath, or
#   source <(nsx completion zsh)
_nsx() {
  local -a commands
  commands=(
${cmds}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  words=("\${words[@]:1}")
  (( CURRENT-- ))
  case "\${words[1]}" in
${cases}
    *) _files ;;
  esac
}
if [ "$funcstack[1]" = "_nsx" ]; then _nsx "$@"; else compdef _nsx nsx; fi
`
}

function fishScript(commands: readonly CompletionCommand[]): string {
  const lines = [
    '# fish completion for nsx (nsx completion fish). Save it as ~/.config/fish/completions/nsx.fish, or',
    '#   nsx completion fish | source',
    'complete -c nsx -f',
  ]
  for (const c of commands) lines.push(`complete -c nsx -n __fish_use_subcommand -a ${sq(c.id)}${c.summary ? ` -d ${sq(c.summary)}` : ''}`)
  for (const c of commands) {
    for (const f of c.flags) {
      let line = `complete -c nsx -n ${sq(`__fish_seen_subcommand_from ${c.id}`)} -l ${sq(f.name)}`
      if (f.char) line += ` -s ${sq(f.char)}`
      if (f.value) line += f.options && f.options.length > 0 ? ` -x -a ${sq(f.options.join(' '))}` : ' -r -F'
      if (f.summary) line += ` -d ${sq(f.summary)}`
      lines.push(line)
    }
    lines.push(`complete -c nsx -n ${sq(`__fish_seen_subcommand_from ${c.id}`)} -l help -d 'Show help'`)
    lines.push(`complete -c nsx -n ${sq(`__fish_seen_subcommand_from ${c.id}`)} -F`)
  }
  return `${lines.join('\n')}\n`
}
