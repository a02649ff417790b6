import type {NsHolder} from './records.js'

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

/** The fields of one `nsx ls --json` namespace, in the document's order: every field present, null when empty (as lsns -J). */
export interface NamespaceFields {
  /** Inode number; the list is ascending by it. */
  ns: number
  /** mnt, net, pid, user, uts, ipc, cgroup or time. */
  type: string
  /** A path that opens it: /proc/PID/ns/TYPE of pid, else a thread's, fd's or bind mount's path; null for a ghost. */
  path: string | null
  /** Processes whose /proc/PID/ns/TYPE is this namespace (as lsns counts them). */
  nprocs: number
  /** The lowest of pids. */
  pid: number | null
  /** Its parent. */
  ppid: number | null
  /** Its command line (the bare name for a kernel thread). */
  command: string | null
  /** The owner of /proc/PID. */
  uid: number | null
  user: string | null
  /** Net namespaces: the nsid, null when unassigned or not a net namespace. */
  netnsid: number | null
  /** Net namespaces: its addresses (IPv4, and global IPv6; no loopback) read through a process in it; null when not a net namespace or none is readable. */
  addresses: readonly string[] | null
  /** nsfs bind-mount paths that hold it. */
  nsfs: readonly string[]
  /** Parent namespace inode (pid, user); null when none or outside nsx's view. */
  pns: number | null
  /** Owning user namespace inode; null when outside nsx's view. */
  ons: number | null
  /** The processes in it, ascending. */
  pids: readonly number[]
  /** What else holds it: a thread, an fd, a socket, a bind mount, being a parent or owner (a ghost), or for-children. */
  holders: readonly NsHolder[]
}

/**
 * `{"namespaces": [...]}` exactly as formatJson prints it, written field by field: the generic
 * walk inspects every value's type and every object's keys, which for a few hundred namespaces
 * costs a short-lived process several milliseconds before V8 has optimised it.
 */
export function namespacesJson(rows: readonly NamespaceFields[]): string {
  if (rows.length === 0) return '{\n  "namespaces": []\n}'
  const pad = '      '
  let s = '{\n  "namespaces": ['
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    s +=
      `${i === 0 ? '\n' : ',\n'}    {\n` +
      `${pad}"ns": ${num(r.ns)},\n` +
      `${pad}"type": ${JSON.stringify(r.type)},\n` +
      `${pad}"path": ${str(r.path)},\n` +
      `${pad}"nprocs": ${num(r.nprocs)},\n` +
      `${pad}"pid": ${num(r.pid)},\n` +
      `${pad}"ppid": ${num(r.ppid)},\n` +
      `${pad}"command": ${str(r.command)},\n` +
      `${pad}"uid": ${num(r.uid)},\n` +
      `${pad}"user": ${str(r.user)},\n` +
      `${pad}"netnsid": ${num(r.netnsid)},\n` +
      `${pad}"addresses": ${r.addresses === null ? 'null' : r.addresses.length === 0 ? '[]' : formatJson(r.addresses, '  ')},\n` +
      `${pad}"nsfs": ${r.nsfs.length === 0 ? '[]' : formatJson(r.nsfs, '  ')},\n` +
      `${pad}"pns": ${num(r.pns)},\n` +
      `${pad}"ons": ${num(r.ons)},\n` +
      `${pad}"pids": ${pidList(r.pids)},\n` +
      `${pad}"holders": ${r.holders.length === 0 ? '[]' : indentBy(formatJson(r.holders, '  '), pad)}\n` +
      '    }'
  }
  return `${s}\n  ]\n}`
}

/** A number as JSON.stringify writes it (NaN and infinities: null), or null. */
function num(n: number | null): string {
  return n === null ? 'null' : Number.isFinite(n) ? String(n) : 'null'
}

function str(v: string | null): string {
  return v === null ? 'null' : JSON.stringify(v)
}

function pidList(pids: readonly number[]): string {
  if (pids.length === 0) return '[]'
  for (const p of pids) if (!Number.isFinite(p)) return formatJson(pids, '  ')
  return `[${pids.join(', ')}]`
}

/** A multi-line value printed at the top level, moved to sit at `pad`. */
function indentBy(text: string, pad: string): string {
  return text.indexOf('\n') < 0 ? text : text.split('\n').join(`\n${pad}`)
}
