/**
 * JSON for `nsx ls --json`: indented like lsns -J, but an object or array whose members
 * are all plain values stays on one line, so thousands of holders stay readable and small.
 */
export function formatJson(value: unknown, indent = '  '): string {
  const walk = (v: unknown, pad: string): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
    const inner = pad + indent
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]'
      // Long pid lists: numbers need no escaping.
      if (v.every((x) => typeof x === 'number' && Number.isFinite(x))) return `[${v.join(', ')}]`
      if (v.every(isPlain)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`
      return `[\n${v.map((x) => inner + walk(x, inner)).join(',\n')}\n${pad}]`
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined)
    if (entries.length === 0) return '{}'
    if (entries.every(([, x]) => isPlain(x))) {
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`).join(', ')}}`
    }
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${walk(x, inner)}`).join(',\n')}\n${pad}}`
  }
  return walk(value, '')
}

function isPlain(v: unknown): boolean {
  return v === null || typeof v !== 'object'
}
