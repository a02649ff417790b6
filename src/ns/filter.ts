import {NsxError} from '../cli/errors.js'

/**
 * `nsx ls -Q EXPR`: the expression language of util-linux's -Q/--filter (libsmartcols,
 * scols-filter(5)), so that `lsns -Q '...'` lines work unchanged:
 *   expr  := or ;  or := and (('||' | 'or' | 'OR') and)* ;  and := cmp (('&&' | 'and') cmp)*
 *   cmp   := unary (OP unary)? with OP one of == != < <= > >= (or eq ne lt le gt ge) and =~ !~
 *   unary := ('!' | 'not') unary | '(' expr ')' | NUMBER | FLOAT | "string" | 'string' | true | false | COLUMN
 * A bare column is true when it is not empty. A comparison with a number compares numbers, with
 * a string compares strings (the literal's type wins, as in libsmartcols); =~ searches with a
 * regular expression. Numbers may carry a K, M, G... suffix (powers of 1024, "iB" optional).
 */

/** A row's value for a column: a number, a string, or undefined when the cell is empty. */
export type FilterValue = number | string | undefined

export type FilterNode =
  | {kind: 'number'; value: number}
  | {kind: 'string'; value: string}
  | {kind: 'boolean'; value: boolean}
  | {kind: 'column'; name: string}
  | {kind: 'not'; operand: FilterNode}
  | {kind: 'and' | 'or'; left: FilterNode; right: FilterNode}
  | {kind: 'compare'; op: CompareOp; left: FilterNode; right: FilterNode}
  | {kind: 'match'; negate: boolean; left: FilterNode; pattern: RegExp}

type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>='

type Token =
  | {t: 'num'; v: number; at: number}
  | {t: 'str'; v: string; at: number}
  | {t: 'word'; v: string; at: number}
  | {t: 'op'; v: string; at: number}
  | {t: 'end'; at: number}

const WORD_OPS: Record<string, string> = {
  and: '&&', AND: '&&', or: '||', OR: '||', not: '!', NOT: '!',
  eq: '==', EQ: '==', ne: '!=', NE: '!=', lt: '<', LT: '<', le: '<=', LE: '<=', gt: '>', GT: '>', ge: '>=', GE: '>=',
}
const SUFFIX = 'KMGTPEZY'
const MAX_LENGTH = 1024

/** A filter expression that does not parse (invalid, 400). */
export class FilterError extends NsxError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode, 'invalid')
  }
}

function tokenize(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  const fail = (msg: string): never => {
    throw new FilterError(`invalid filter '${src}': ${msg} at character ${i + 1}`)
  }
  while (i < src.length) {
    const c = src[i]
    if (/\s/.test(c)) {
      i++
      continue
    }
    const at = i
    const two = src.slice(i, i + 2)
    if (['&&', '||', '==', '!=', '<=', '>=', '=~', '!~'].includes(two)) {
      out.push({t: 'op', v: two, at})
      i += 2
      continue
    }
    if ('()<>!'.includes(c)) {
      out.push({t: 'op', v: c, at})
      i++
      continue
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1)
      if (end < 0) fail('unterminated string')
      const v = src.slice(i + 1, end)
      if (v.includes('\n')) fail('a string cannot span lines')
      out.push({t: 'str', v, at})
      i = end + 1
      continue
    }
    const num = /^(\d+)(?:\.(\d+)|([KMGTPEZY])(?:iB)?)?/.exec(src.slice(i))
    if (num && !/[A-Za-z_]/.test(src[i + num[0].length] ?? '')) {
      let v = Number(num[2] === undefined ? num[1] : `${num[1]}.${num[2]}`)
      if (num[3] !== undefined) v *= 1024 ** (SUFFIX.indexOf(num[3]) + 1)
      out.push({t: 'num', v, at})
      i += num[0].length
      continue
    }
    const word = /^[A-Za-z][A-Za-z_.%:/\-0-9]*/.exec(src.slice(i))
    if (word) {
      const w = word[0]
      const op = WORD_OPS[w]
      out.push(op === undefined ? {t: 'word', v: w, at} : {t: 'op', v: op, at})
      i += w.length
      continue
    }
    fail(`unexpected '${c}'`)
  }
  out.push({t: 'end', at: src.length})
  return out
}

const COMPARE_OPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>=']

/** Parse EXPR; column names are checked against `columns` (case-insensitive), and returned upper-case. */
export function parseFilter(src: string, columns: readonly string[]): FilterNode {
  if (src.length > MAX_LENGTH) throw new FilterError(`invalid filter: longer than ${MAX_LENGTH} characters`)
  if (src.trim() === '') throw new FilterError('invalid filter: the expression is empty')
  const tokens = tokenize(src)
  let p = 0
  const peek = () => tokens[p]
  const fail = (msg: string): never => {
    const tok = peek()
    const where = tok.t === 'end' ? 'at the end' : `at character ${tok.at + 1}`
    throw new FilterError(`invalid filter '${src}': ${msg} ${where}`)
  }
  const isOp = (v: string) => {
    const tok = peek()
    return tok.t === 'op' && tok.v === v
  }

  // A left-associative chain of one operator over the next level's expressions.
  const chain =
    (op: '||' | '&&', kind: 'or' | 'and', next: () => FilterNode) =>
    (): FilterNode => {
      let left = next()
      while (isOp(op)) {
        p++
        left = {kind, left, right: next()}
      }
      return left
    }
  const andExpr = chain('&&', 'and', () => compare())
  const orExpr = chain('||', 'or', andExpr)
  const compare = (): FilterNode => {
    const left = unary()
    const tok = peek()
    if (tok.t !== 'op') return left
    if (COMPARE_OPS.includes(tok.v)) {
      p++
      return {kind: 'compare', op: tok.v as CompareOp, left, right: unary()}
    }
    if (tok.v === '=~' || tok.v === '!~') {
      p++
      const pat = peek()
      if (pat.t !== 'str') fail(`${tok.v} needs a string (a regular expression) on its right`)
      p++
      let pattern: RegExp
      try {
        pattern = new RegExp((pat as {v: string}).v)
      } catch (err) {
        throw new FilterError(`invalid filter '${src}': bad regular expression: ${(err as Error).message}`)
      }
      return {kind: 'match', negate: tok.v === '!~', left, pattern}
    }
    return left
  }
  const unary = (): FilterNode => {
    const tok = peek()
    switch (tok.t) {
      case 'op':
        if (tok.v === '!') {
          p++
          return {kind: 'not', operand: unary()}
        }
        if (tok.v === '(') {
          p++
          const inner = orExpr()
          if (!isOp(')')) fail("expected ')'")
          p++
          return inner
        }
        return fail(`unexpected '${tok.v}'`)
      case 'num':
        p++
        return {kind: 'number', value: tok.v}
      case 'str':
        p++
        return {kind: 'string', value: tok.v}
      case 'word': {
        p++
        if (tok.v === 'true' || tok.v === 'TRUE') return {kind: 'boolean', value: true}
        if (tok.v === 'false' || tok.v === 'FALSE') return {kind: 'boolean', value: false}
        const name = tok.v.toUpperCase()
        if (!columns.includes(name)) throw new FilterError(`invalid filter '${src}': unknown column '${tok.v}' (valid: ${columns.join(', ')})`)
        return {kind: 'column', name}
      }
      case 'end':
        return fail('expected a value or a column')
    }
  }
  const tree = orExpr()
  if (peek().t !== 'end') fail('unexpected text')
  return tree
}

/** The columns an expression reads (so that the caller computes only those). */
export function filterColumns(node: FilterNode, out = new Set<string>()): Set<string> {
  switch (node.kind) {
    case 'column':
      out.add(node.name)
      break
    case 'not':
      filterColumns(node.operand, out)
      break
    case 'and':
    case 'or':
    case 'compare':
      filterColumns(node.left, out)
      filterColumns(node.right, out)
      break
    case 'match':
      filterColumns(node.left, out)
      break
  }
  return out
}

type Value = number | string | boolean | undefined

function valueOf(node: FilterNode, get: (column: string) => FilterValue): Value {
  switch (node.kind) {
    case 'number':
    case 'string':
    case 'boolean':
      return node.value
    case 'column':
      return get(node.name)
    default:
      return evaluate(node, get)
  }
}

const isEmpty = (v: Value) => v === undefined || v === '' || v === false

/** As a number: a numeric string converts, anything else is NaN (every comparison with it false). */
const toNumber = (v: Value): number => (typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : typeof v === 'boolean' ? Number(v) : NaN)
const toText = (v: Value): string => (v === undefined ? '' : String(v))

function compareValues(op: CompareOp, a: Value, b: Value, literalKind: 'number' | 'string' | 'boolean' | undefined): boolean {
  // The type of a literal operand decides; between two columns, numbers when both are numbers.
  const numeric = literalKind === 'number' || (literalKind === undefined && typeof a === 'number' && typeof b === 'number')
  if (literalKind === 'boolean') {
    const x = !isEmpty(a)
    const y = !isEmpty(b)
    return op === '==' ? x === y : op === '!=' ? x !== y : false
  }
  if (numeric) {
    const x = toNumber(a)
    const y = toNumber(b)
    if (Number.isNaN(x) || Number.isNaN(y)) return op === '!='
    switch (op) {
      case '==': return x === y
      case '!=': return x !== y
      case '<': return x < y
      case '<=': return x <= y
      case '>': return x > y
      case '>=': return x >= y
    }
  }
  const x = toText(a)
  const y = toText(b)
  switch (op) {
    case '==': return x === y
    case '!=': return x !== y
    case '<': return x < y
    case '<=': return x <= y
    case '>': return x > y
    case '>=': return x >= y
  }
}

const literalKind = (n: FilterNode) => (n.kind === 'number' || n.kind === 'string' || n.kind === 'boolean' ? n.kind : undefined)

/** True when the row (its columns through `get`) passes the expression. */
export function evaluate(node: FilterNode, get: (column: string) => FilterValue): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, get) && evaluate(node.right, get)
    case 'or':
      return evaluate(node.left, get) || evaluate(node.right, get)
    case 'not':
      return !evaluate(node.operand, get)
    case 'compare':
      return compareValues(node.op, valueOf(node.left, get), valueOf(node.right, get), literalKind(node.right) ?? literalKind(node.left))
    case 'match': {
      const v = valueOf(node.left, get)
      const hit = node.pattern.test(toText(v))
      return node.negate ? !hit : hit
    }
    default:
      return !isEmpty(valueOf(node, get))
  }
}
