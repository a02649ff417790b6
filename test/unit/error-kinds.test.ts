import {test} from 'node:test'
import assert from 'node:assert/strict'
import {describeError, kindOf, NsxError, STATUS_OF_KIND, type ErrorKind} from '../../src/cli/errors.js'
import {ApiError, statusOf} from '../../src/api/http.js'
import {existsSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {parse} from '@babel/parser'
import {REPO} from '../helpers/env.js'
import {importsOf, tsFiles} from '../helpers/imports.js'


/**
 * An error's kind, not its wording, is what the Engine API answers a status from (dockerd's errdefs
 * and httpstatus.FromError); the CLI's exit code stays the one the throw site chose.
 */

test("each kind gets dockerd's status for its errdefs class", () => {
  const want: Record<ErrorKind, number> = {'not-found': 404, invalid: 400, conflict: 409, forbidden: 403, unauthorized: 401, unavailable: 503, unsupported: 501, internal: 500}
  assert.deepEqual({...STATUS_OF_KIND}, want)
  for (const [kind, status] of Object.entries(want) as [ErrorKind, number][]) {
    const e = new NsxError('x', 125, kind)
    assert.equal(statusOf(e), status, kind)
    assert.equal(kindOf(e), kind)
  }
})

test('the constructors set the kind and keep the exit code', () => {
  const cases: [NsxError, ErrorKind][] = [
    [NsxError.notFound('No such container: web', 125), 'not-found'],
    [NsxError.invalid('invalid --memory value', 125), 'invalid'],
    [NsxError.conflict('container web is not running', 125), 'conflict'],
    [NsxError.forbidden('bridge is a pre-defined network and cannot be removed', 125), 'forbidden'],
    [NsxError.unauthorized('registry: unauthorized', 125), 'unauthorized'],
    [NsxError.unavailable('registry: connection refused', 125), 'unavailable'],
    [NsxError.unsupported('checkpoints are not supported by nsx', 125), 'unsupported'],
    [NsxError.internal('setns(mnt): Operation not permitted', 125), 'internal'],
  ]
  for (const [e, kind] of cases) {
    assert.equal(e.kind, kind)
    assert.equal(e.exitCode, 125)
    assert.ok(e instanceof NsxError)
    // The CLI's line and exit code do not depend on the kind.
    assert.deepEqual(describeError(e, 1), {line: e.message, exitCode: 125})
  }
  assert.equal(NsxError.notFound('No such image: x').exitCode, 1)
})

test('the kind decides, whatever the message names', () => {
  // A container called "conflict", "invalid" or "already": its wording once changed the status.
  assert.equal(statusOf(NsxError.notFound('No such container: conflict', 125)), 404)
  assert.equal(statusOf(NsxError.conflict('container invalid-name-must-go is not running', 125)), 409)
  assert.equal(statusOf(NsxError.invalid('conflicting options: --restart and --rm', 125)), 400)
  assert.equal(statusOf(NsxError.internal('already: No such file', 125)), 500)
})

test('an error without a kind is 500 unless it is an ApiError', () => {
  assert.equal(statusOf(new Error('No such container: x')), 500)
  assert.equal(statusOf(new NsxError('No such container: x', 125)), 500)
  assert.equal(statusOf(new NsxError('container x is already in use', 125)), 500)
  assert.equal(statusOf('not an error'), 500)
  assert.equal(statusOf(new ApiError(413, 'too large')), 413)
  assert.equal(kindOf(new Error('x')), undefined)
})

/** The files the Engine API can reach: src/api and everything it imports, static or dynamic. */
function apiReach(): string[] {
  const seen = new Set<string>()
  const todo = tsFiles(join(REPO, 'src', 'api')).map((f) => relative(REPO, f))
  while (todo.length > 0) {
    const f = todo.pop()!
    if (seen.has(f) || !existsSync(join(REPO, f))) continue
    seen.add(f)
    todo.push(...importsOf(join(REPO, f)))
  }
  return [...seen].sort()
}

interface AstNode {
  type: string
  loc?: {start: {line: number}}
  callee?: AstNode
  name?: string
  arguments?: unknown[]
  id?: AstNode | null
  superClass?: AstNode | null
  body?: unknown
  kind?: string
}

function walk(value: unknown, visit: (n: AstNode) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, visit)
    return
  }
  if (value === null || typeof value !== 'object') return
  if (typeof (value as AstNode).type === 'string') visit(value as AstNode)
  for (const [key, child] of Object.entries(value)) if (key !== 'loc' && key !== 'extra' && child !== null && typeof child === 'object') walk(child, visit)
}

const parseTs = (file: string) => parse(readFileSync(join(REPO, file), 'utf8'), {sourceType: 'module', plugins: ['typescript']}).program

/**
 * Subclasses of NsxError in src/ and whether each sets a kind itself (a constructor whose
 * `super(...)` passes a third argument), so that `new Sub(...)` needs none.
 */
function subclasses(): Map<string, boolean> {
  const out = new Map<string, boolean>()
  const pending: [string, string, AstNode][] = []
  for (const f of tsFiles(join(REPO, 'src'))) {
    walk(parseTs(relative(REPO, f)), (n) => {
      if ((n.type === 'ClassDeclaration' || n.type === 'ClassExpression') && n.id?.name && n.superClass?.type === 'Identifier') pending.push([n.id.name, n.superClass.name!, n])
    })
  }
  const parents = new Set(['NsxError'])
  for (let grew = true; grew; ) {
    grew = false
    for (const [name, parent, node] of pending) {
      if (out.has(name) || !parents.has(parent)) continue
      let kinded = out.get(parent) ?? false
      walk(node.body, (m) => {
        if (m.type === 'CallExpression' && m.callee?.type === 'Super' && (m.arguments?.length ?? 0) >= 3) kinded = true
      })
      out.set(name, kinded)
      parents.add(name)
      grew = true
    }
  }
  return out
}

/** Every `new NsxError(...)` (or of a subclass that sets no kind) in the API's reach that gives no kind. */
export function unkindedThrowSites(): string[] {
  const subs = subclasses()
  const out: string[] = []
  for (const f of apiReach()) {
    walk(parseTs(f), (n) => {
      if (n.type !== 'NewExpression' || n.callee?.type !== 'Identifier') return
      const name = n.callee.name!
      const unkinded = name === 'NsxError' ? (n.arguments?.length ?? 0) < 3 : subs.get(name) === false
      if (unkinded) out.push(`${f}:${n.loc?.start.line}`)
    })
  }
  return out
}

test('every NsxError the Engine API can meet is made with a kind', () => {
  const reach = apiReach()
  // The scan sees what the API reaches, through dynamic imports too.
  for (const f of ['src/api/http.ts', 'src/lifecycle/create.ts', 'src/image/tar.ts', 'src/network/networks.ts', 'src/volume/volumes.ts']) assert.ok(reach.includes(f), f)
  assert.deepEqual(unkindedThrowSites(), [], 'NsxError made without a kind where the API can meet it (answered 500): give one, NsxError.notFound/invalid/conflict/forbidden/internal(...), or NsxError.from(cause, ...)')
})
