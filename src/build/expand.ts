import {NsxError} from '../cli/errors.js'

/**
 * Docker's variable substitution in Dockerfile words: $VAR, ${VAR}, ${VAR:-default},
 * ${VAR:+alternative}; the escape character before $ keeps it literal. Unset variables
 * expand to nothing, as in docker.
 */
export function expandVars(s: string, vars: ReadonlyMap<string, string>, escape = '\\', where = 'Dockerfile'): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === escape && s[i + 1] === '$') {
      out += '$'
      i++
      continue
    }
    if (c !== '$') {
      out += c
      continue
    }
    if (s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2)
      if (end < 0) throw NsxError.invalid(`${where}: missing '}' in '${s}'`)
      const body = s.slice(i + 2, end)
      i = end
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(body)
      if (!m) throw NsxError.invalid(`${where}: bad substitution '\${${body}}'`)
      const v = vars.get(m[1])
      if (m[2] === '-') out += v !== undefined && v !== '' ? v : expandVars(m[3], vars, escape, where)
      else if (m[2] === '+') out += v !== undefined && v !== '' ? expandVars(m[3], vars, escape, where) : ''
      else out += v ?? ''
      continue
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1))
    if (!m) {
      out += '$'
      continue
    }
    out += vars.get(m[0]) ?? ''
    i += m[0].length
  }
  return out
}

/** Remove one level of double or single quotes around a word (after expansion). */
export function unquote(w: string): string {
  if (w.length >= 2 && ((w[0] === '"' && w.endsWith('"')) || (w[0] === "'" && w.endsWith("'")))) return w.slice(1, -1)
  return w
}
