import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'

/**
 * Which terminfo entry to give blessed. blessed only parses the legacy terminfo format;
 * Debian compiles xterm-256color, tmux-256color and screen-256color in ncurses 6's extended
 * number format, which blessed misreads (wrong capabilities, 8 colours, or a dump of its
 * compiled code on stderr). blessed ships legacy-format xterm, xterm-256color and linux
 * entries, so every TERM is mapped to the one of those whose escape sequences it understands:
 * tmux and screen emulate xterm's, the Linux console is its own.
 */
export interface TerminalChoice {
  /** The entry's name, as blessed should report it (program.term('xterm') checks it). */
  name: 'xterm-256color' | 'xterm' | 'linux'
  /** Absolute path of the compiled entry blessed reads. */
  file: string
  colours: 256 | 8
}

export function chooseTerminal(term: string | undefined, colorterm = process.env.COLORTERM): TerminalChoice | {error: string} {
  const t = (term ?? '').toLowerCase()
  if (t === '' || t === 'dumb' || t === 'unknown') {
    return {error: `the dashboard needs a terminal that can move the cursor (TERM is '${term ?? ''}'); use --batch`}
  }
  const dir = blessedTerminfoDir()
  if (t === 'linux' || t.startsWith('linux-')) return {name: 'linux', file: join(dir, 'linux'), colours: 8}
  const many = /256col|direct|truecolor|24bit/.test(t) || /truecolor|24bit/i.test(colorterm ?? '')
  if (many) return {name: 'xterm-256color', file: join(dir, 'xterm-256color'), colours: 256}
  return {name: 'xterm', file: join(dir, 'xterm'), colours: 8}
}

function blessedTerminfoDir(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('blessed/package.json')), 'usr')
}
