import {visibleLength} from './colour.js'

export interface Column<Row> {
  header: string
  /** Right-align numbers, as lsns and ps do. */
  align?: 'left' | 'right'
  value(row: Row): string
}

/**
 * A plain-text table: a header line, one line per row, columns separated by one space,
 * the last column never padded (so long command lines do not leave trailing blanks).
 */
export function renderTable<Row>(columns: Column<Row>[], rows: Row[], opts: {noHeadings?: boolean} = {}): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)))
  const widths = columns.map((c, i) =>
    Math.max(opts.noHeadings ? 0 : c.header.length, ...cells.map((r) => visibleLength(r[i]))),
  )
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const last = i === values.length - 1
        const pad = ' '.repeat(Math.max(0, widths[i] - visibleLength(v)))
        if (columns[i].align === 'right') return pad + v
        return last ? v : v + pad
      })
      .join(' ')
      .replace(/\s+$/, '')
  const out: string[] = []
  if (!opts.noHeadings) out.push(line(columns.map((c) => c.header)))
  for (const r of cells) out.push(line(r))
  return out.join('\n') + (out.length > 0 ? '\n' : '')
}
