/**
 * The part of Go's text/template that docker's --format users write, applied to JSON data:
 * `{{.A.B}}`, `{{.}}`, `{{json .X}}`, `{{index .X "key" 0}}`, `{{len .X}}`, `{{join .X ","}}`,
 * `{{upper .X}}`, `{{lower .X}}`, `{{println .X}}`, pipes (`{{.X | json}}`), `{{range .X}}...{{end}}`
 * (`.` is each element), `{{if .X}}...{{else}}...{{end}}`, `{{with .X}}...{{end}}`, and the trim
 * markers `{{-` and `-}}`. Values print as Go prints them: a missing one as `<no value>`, a list
 * as `[a b]`, a map as `map[k:v]`. Anything else is refused in one line (the caller's exit code).
 */

type Node =
  | {kind: 'text'; text: string}
  | {kind: 'action'; pipe: Cmd[]}
  | {kind: 'range' | 'if' | 'with'; pipe: Cmd[]; body: Node[]; otherwise: Node[]}

type Arg = {kind: 'field'; path: string[]} | {kind: 'string'; value: string} | {kind: 'number'; value: number} | {kind: 'bool'; value: boolean} | {kind: 'ident'; name: string} | {kind: 'sub'; pipe: Cmd[]}

type Cmd = Arg[]

export class TemplateError extends Error {}

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v ?? null),
  index: (v, ...keys) => keys.reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[String(k)]), v),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  join: (v, sep) => (Array.isArray(v) ? v.map((x) => show(x)).join(String(sep ?? '')) : show(v)),
  upper: (v) => show(v).toUpperCase(),
  lower: (v) => show(v).toLowerCase(),
  println: (...v) => `${v.map((x) => show(x)).join(' ')}\n`,
  print: (...v) => v.map((x) => show(x)).join(''),
  not: (v) => !truthy(v),
}

/** A value as Go's fmt prints it in a template. */
function show(v: unknown): string {
  if (v === undefined) return '<no value>'
  if (v === null) return '<nil>'
  if (Array.isArray(v)) return `[${v.map((x) => show(x)).join(' ')}]`
  if (typeof v === 'object') return `map[${Object.keys(v as object).sort().map((k) => `${k}:${show((v as Record<string, unknown>)[k])}`).join(' ')}]`
  return String(v)
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0
  if (v && typeof v === 'object') return Object.keys(v).length > 0
  return Boolean(v)
}

/** The words of an action: strings, numbers, fields, identifiers, pipes and parentheses. */
function tokenize(src: string): string[] {
  const out: string[] = []
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|\||-?\d+(?:\.\d+)?|\.[A-Za-z0-9_.]*|\$[A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*)\s*/y
  let i = 0
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break
    re.lastIndex = i
    const m = re.exec(src)
    if (!m) throw new TemplateError(`unexpected "${src[i]}" in command`)
    out.push(m[1])
    i = re.lastIndex
  }
  return out
}

function parsePipe(tokens: string[]): Cmd[] {
  let i = 0
  const pipe = (): Cmd[] => {
    const cmds: Cmd[] = [[]]
    while (i < tokens.length && tokens[i] !== ')') {
      const t = tokens[i++]
      if (t === '|') {
        if (cmds[cmds.length - 1].length === 0) throw new TemplateError('missing command before |')
        cmds.push([])
        continue
      }
      const cmd = cmds[cmds.length - 1]
      if (t === '(') {
        const sub = pipe()
        if (tokens[i++] !== ')') throw new TemplateError('unclosed left paren')
        cmd.push({kind: 'sub', pipe: sub})
      } else if (t.startsWith('"')) cmd.push({kind: 'string', value: JSON.parse(t) as string})
      else if (t.startsWith('`')) cmd.push({kind: 'string', value: t.slice(1, -1)})
      else if (/^-?\d/.test(t)) cmd.push({kind: 'number', value: Number(t)})
      else if (t === 'true' || t === 'false') cmd.push({kind: 'bool', value: t === 'true'})
      else if (t.startsWith('.') || t.startsWith('$')) cmd.push({kind: 'field', path: t.replace(/^\$/, '').split('.').filter(Boolean)})
      else if (t in FUNCS) cmd.push({kind: 'ident', name: t})
      else throw new TemplateError(`function "${t}" not defined`)
    }
    if (cmds[cmds.length - 1].length === 0) throw new TemplateError('missing value for command')
    return cmds
  }
  const p = pipe()
  if (i < tokens.length) throw new TemplateError(`unexpected "${tokens[i]}" in operand`)
  return p
}

/** Parses a template; throws TemplateError with Go's kind of message. */
export function parseTemplate(src: string): Node[] {
  const root: Node[] = []
  const stack: {nodes: Node[]; block?: Extract<Node, {body: Node[]}>; inElse?: boolean}[] = [{nodes: root}]
  let i = 0
  while (i < src.length) {
    const open = src.indexOf('{{', i)
    let text = src.slice(i, open < 0 ? src.length : open)
    if (open < 0) {
      if (text) stack[stack.length - 1].nodes.push({kind: 'text', text})
      break
    }
    const close = src.indexOf('}}', open + 2)
    if (close < 0) throw new TemplateError('unclosed action')
    let body = src.slice(open + 2, close)
    if (body.startsWith('-') && /^-\s/.test(body)) {
      text = text.replace(/\s+$/, '')
      body = body.slice(1)
    }
    let next = close + 2
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1)
      const rest = /^\s*/.exec(src.slice(next))![0]
      next += rest.length
    }
    if (text) stack[stack.length - 1].nodes.push({kind: 'text', text})
    i = next
    const words = body.trim()
    if (words.startsWith('/*')) continue
    const [head, ...rest] = tokenize(words)
    if (head === undefined) throw new TemplateError('missing value for command')
    if (head === 'range' || head === 'if' || head === 'with') {
      const block = {kind: head, pipe: parsePipe(rest), body: [], otherwise: []} as Extract<Node, {body: Node[]}>
      stack[stack.length - 1].nodes.push(block)
      stack.push({nodes: block.body, block})
    } else if (head === 'else') {
      const top = stack[stack.length - 1]
      if (!top.block || top.inElse) throw new TemplateError('unexpected {{else}}')
      top.inElse = true
      top.nodes = top.block.otherwise
    } else if (head === 'end') {
      if (stack.length === 1) throw new TemplateError('unexpected {{end}}')
      stack.pop()
    } else stack[stack.length - 1].nodes.push({kind: 'action', pipe: parsePipe([head, ...rest])})
  }
  if (stack.length > 1) throw new TemplateError(`unexpected EOF: {{${stack[stack.length - 1].block!.kind}}} without {{end}}`)
  return root
}

function field(dot: unknown, path: string[]): unknown {
  let v = dot
  for (const k of path) {
    if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return undefined
    v = (v as Record<string, unknown>)[k]
  }
  return v
}

function evalArg(a: Arg, dot: unknown): unknown {
  switch (a.kind) {
    case 'field':
      return field(dot, a.path)
    case 'string':
    case 'number':
    case 'bool':
      return a.value
    case 'sub':
      return evalPipe(a.pipe, dot)
    case 'ident':
      return FUNCS[a.name]()
  }
}

function evalPipe(pipe: Cmd[], dot: unknown): unknown {
  let prev: unknown
  pipe.forEach((cmd, n) => {
    const [first, ...args] = cmd
    const piped = n > 0 ? [prev] : []
    if (first.kind === 'ident') prev = FUNCS[first.name](...args.map((a) => evalArg(a, dot)), ...piped)
    else if (args.length > 0 || n > 0) throw new TemplateError("can't give argument to non-function")
    else prev = evalArg(first, dot)
  })
  return prev
}

function execNodes(nodes: Node[], dot: unknown, out: string[]): void {
  for (const node of nodes) {
    if (node.kind === 'text') out.push(node.text)
    else if (node.kind === 'action') out.push(show(evalPipe(node.pipe, dot)))
    else {
      const v = evalPipe(node.pipe, dot)
      if (node.kind === 'range') {
        const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]) : []
        if (items.length === 0) execNodes(node.otherwise, dot, out)
        for (const item of items) execNodes(node.body, item, out)
      } else if (truthy(v)) execNodes(node.body, node.kind === 'with' ? v : dot, out)
      else execNodes(node.otherwise, dot, out)
    }
  }
}

/** The template applied to one value (docker runs it once per object, each followed by a newline). */
export function executeTemplate(template: Node[], data: unknown): string {
  const out: string[] = []
  execNodes(template, data, out)
  return out.join('')
}
