/**
 * The README's tour, as tests: every ```console block of README.md is run, and what each
 * command prints must have the shape the README shows.
 *
 * A block is a list of commands, each a line starting with "$ ", followed by the output it
 * prints on stdout (stderr is not compared). The commands of one block run in one
 * `sh`, in order, so a variable set by one (`$ pid=$(...)`) is seen by the next. Every command
 * must exit 0. What "the same shape" means, line by line:
 * - a run of digits matches any run of digits (pids, sizes, inode numbers, times);
 * - a run of 8 or more hex digits (12 or more when all are decimal) matches any such run (ids, digests);
 * - a run of spaces matches any run of spaces (columns widen and narrow with their values);
 * - "…" inside a line matches anything; a line that is only "…" matches any number of lines.
 * Everything else is literal, and the number of lines must agree unless a "…" line says so.
 */

export interface TourCommand {
  command: string
  expected: string[]
  /** Line of the command in the README (1-based), for messages. */
  line: number
}

export interface TourBlock {
  line: number
  commands: TourCommand[]
}

export function extractTour(markdown: string): TourBlock[] {
  const lines = markdown.split('\n')
  const blocks: TourBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```console') continue
    const block: TourBlock = {line: i + 1, commands: []}
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) {
      const l = lines[i]
      if (l.startsWith('$ ')) block.commands.push({command: l.slice(2), expected: [], line: i + 1})
      else if (block.commands.length > 0) block.commands[block.commands.length - 1].expected.push(l)
      else throw new Error(`README.md:${i + 1}: a console block must start with a "$ " command line`)
    }
    blocks.push(block)
  }
  return blocks
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** The regular expression one expected line stands for. */
export function linePattern(expected: string): RegExp {
  const tokens = expected.trimEnd().match(/…|\b[0-9a-f]{8,}\b|\d+| +|./gu) ?? []
  let re = ''
  tokens.forEach((t, i) => {
    if (t === '…') re += '.*'
    else if (/^[0-9a-f]{8,}$/.test(t) && /[a-f]/.test(t)) re += '[0-9a-f]{8,}'
    else if (/^\d{12,}$/.test(t)) re += '[0-9a-f]{12,}' // an id that happened to have no letter
    else if (/^\d+$/.test(t)) re += '\\d+'
    else if (/^ +$/.test(t)) re += i === 0 ? ' *' : ' +'
    else re += escape(t)
  })
  return new RegExp(`^${re}$`)
}

/** Whether the actual output lines have the expected shape; on a mismatch, why. */
export function matchShape(expected: readonly string[], actual: readonly string[]): {ok: true} | {ok: false; why: string} {
  const exp = trimTrailingBlank(expected)
  const act = trimTrailingBlank(actual.map((l) => l.trimEnd()))
  const memo = new Map<string, boolean>()
  let furthest = {e: 0, a: 0}
  const go = (e: number, a: number): boolean => {
    const key = `${e},${a}`
    const known = memo.get(key)
    if (known !== undefined) return known
    if (e > furthest.e || (e === furthest.e && a > furthest.a)) furthest = {e, a}
    let ok: boolean
    if (e === exp.length) ok = a === act.length
    else if (exp[e].trim() === '…') ok = go(e + 1, a) || (a < act.length && go(e, a + 1))
    else ok = a < act.length && linePattern(exp[e]).test(act[a]) && go(e + 1, a + 1)
    memo.set(key, ok)
    return ok
  }
  if (go(0, 0)) return {ok: true}
  const {e, a} = furthest
  const wanted = e < exp.length ? JSON.stringify(exp[e]) : 'the end of the output'
  const got = a < act.length ? JSON.stringify(act[a]) : 'the end of the output'
  return {ok: false, why: `expected line ${e + 1} ${wanted}, got output line ${a + 1} ${got}`}
}

function trimTrailingBlank(lines: readonly string[]): string[] {
  const out = [...lines]
  while (out.length > 0 && out[out.length - 1].trim() === '') out.pop()
  return out
}
