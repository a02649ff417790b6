/**
 * JSON for `nsx ls --json`: indented like lsns -J, but an object or array whose members
 * are all plain values stays on one line, so thousands of holders stay readable and small.
 * Built by concatenation in one pass (no entry arrays, no per-member strings joined later):
 * the document has a field per namespace and an object per holder.
 */
export function formatJson(value: unknown, indent = '  '): string {
  const walk = (v: unknown, pad: string): string => {
    if (v === null || typeof v !== 'object') return plain(v)
    const inner = pad + indent
    if (Array.isArray(v)) {
      const n = v.length
      if (n === 0) return '[]'
      let numbers = true
      let plains = true
      for (let i = 0; i < n && plains; i++) {
        const x = v[i]
        if (!(typeof x === 'number' && Number.isFinite(x))) numbers = false
        if (!isPlain(x)) plains = false
      }
      // Long pid lists: numbers need no escaping.
      if (numbers) return `[${v.join(', ')}]`
      let s = ''
      if (plains) {
        for (let i = 0; i < n; i++) s += (i === 0 ? '[' : ', ') + (JSON.stringify(v[i]) ?? '')
        return `${s}]`
      }
      for (let i = 0; i < n; i++) s += (i === 0 ? '[\n' : ',\n') + inner + walk(v[i], inner)
      return `${s}\n${pad}]`
    }
    const o = v as Record<string, unknown>
    const keys = Object.keys(o)
    let plains = true
    let any = false
    for (const k of keys) {
      const x = o[k]
      if (x === undefined) continue
      any = true
      if (!isPlain(x)) plains = false
    }
    if (!any) return '{}'
    let s = ''
    let first = true
    for (const k of keys) {
      const x = o[k]
      if (x === undefined) continue
      if (plains) s += (first ? '{' : ', ') + JSON.stringify(k) + ': ' + JSON.stringify(x)
      else s += (first ? '{\n' : ',\n') + inner + JSON.stringify(k) + ': ' + walk(x, inner)
      first = false
    }
    return plains ? `${s}}` : `${s}\n${pad}}`
  }
  return walk(value, '')
}

/** A plain value as JSON.stringify writes it (undefined, a function or a symbol: null at the top). */
function plain(v: unknown): string {
  return JSON.stringify(v) ?? 'null'
}

function isPlain(v: unknown): boolean {
  return v === null || typeof v !== 'object'
}
