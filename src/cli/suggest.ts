/**
 * "Did you mean": the known commands closest to a mistyped one. Optimal string alignment
 * distance (a swap of two neighbours counts as one edit, as `stpo` for `stop`), and a
 * typed prefix of one command (`insp`) counts as close.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/** The commands `typed` most likely meant, best first (none when nothing is close). */
export function suggestCommands(typed: string, commands: readonly string[]): string[] {
  const word = typed.toLowerCase()
  if (word === '') return []
  const limit = word.length <= 3 ? 1 : 2
  const scored = commands
    .map((c) => ({c, d: c.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, c)}))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
  return scored.map((x) => x.c)
}

/** The one line nsx prints for an unknown command; `topic` when it was typed after one (`nsx network lss`). */
export function unknownCommandMessage(typed: string, commands: readonly string[], bin = 'nsx', topic?: string): string {
  const near = suggestCommands(typed, commands)
  const full = (c: string) => (topic === undefined ? c : `${topic} ${c}`)
  const hint = near.length === 0 ? '' : ` Did you mean ${near.slice(0, 3).map((c) => `'${full(c)}'`).join(' or ')}?`
  return `'${full(typed)}' is not an ${bin} command.${hint} See '${bin} ${full('--help')}'.`
}

/**
 * The line for oclif's unknown command id: oclif joins the words of the line ("stpo web" ->
 * "stpo:web"; "network lss" -> "network:lss"). The first word is what was mistyped, unless it
 * is a topic: then the second, among the topic's own commands.
 */
export function unknownCommandLine(id: string, commandIDs: readonly string[], bin = 'nsx'): string {
  const [first, second] = id.split(':')
  const sub = commandIDs.filter((c) => c.startsWith(`${first}:`)).map((c) => c.split(':')[1])
  if (second !== undefined && sub.length > 0) return unknownCommandMessage(second, [...new Set(sub)], bin, first)
  return unknownCommandMessage(first, [...new Set(commandIDs.map((c) => c.split(':')[0]))], bin)
}
