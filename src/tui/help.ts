/**
 * The dashboard's help text, wrapped to the box it is shown in: a key's description wraps
 * under the description (a hanging indent), prose under prose, so that no line reaches the
 * border whatever the terminal's width.
 */
export const HELP_TEXT = `nsx top keys

  up/down, k/j    move the selection
  pgup/pgdn       move a page
  enter, space    expand or collapse the selected cgroup
  s               cycle the sort: cpu, memory, io, pids, name
  f               tree or flat list
  /               filter by path or container name (enter keeps it, escape drops it)
  escape          clear the filter
  p               pause or resume refreshing
  ?               this help (any key closes it)
  q, ctrl-c       quit

CPU% counts one core as 100%. WSET is memory usage minus inactive file cache. PSI columns are cgroup2 "some avg10". A container is one row, called by its name, whatever its cgroups in each hierarchy.`

/** Each line of `text` in at most `width` columns, broken at spaces. */
export function wrapHelp(text: string, width: number): string[] {
  const out: string[] = []
  for (const line of text.split('\n')) {
    // A key line: its description starts after the run of spaces following the key.
    const key = /^( {2}\S.*?\s{2,})\S/.exec(line)
    const indent = key ? key[1].length : 0
    let rest = line
    let first = true
    while (rest.length > 0) {
      const room = first ? width : width - indent
      const lead = first ? '' : ' '.repeat(indent)
      if (rest.length <= room) {
        out.push(lead + rest)
        break
      }
      let cut = rest.lastIndexOf(' ', room)
      if (cut <= (first ? indent : 0)) cut = room // one word longer than the line: cut it
      out.push(lead + rest.slice(0, cut).trimEnd())
      rest = rest.slice(cut).trimStart()
      first = false
    }
    if (line === '') out.push('')
  }
  return out
}
