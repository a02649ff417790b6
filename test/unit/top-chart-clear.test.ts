import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {useFastClear} from '../../src/tui/chart-frame.js'

const require = createRequire(import.meta.url)

interface Ctx {
  _canvas: {width: number; height: number; content: Uint8Array; colors: unknown[]; chars: unknown[]; frame(d?: string): string}
  _matrix: number[]
  strokeStyle: string
  beginPath(): void
  moveTo(x: number, y: number): void
  lineTo(x: number, y: number): void
  stroke(): void
  fillText(s: string, x: number, y: number): void
  clearRect(x: number, y: number, w: number, h: number): void
  translate(x: number, y: number): void
}

// Loaded fresh per call: the patch changes the prototype, and the original is the reference.
function freshContext(w: number, h: number): Ctx {
  for (const k of Object.keys(require.cache)) if (k.includes('drawille')) delete require.cache[k]
  const Context = require('drawille-canvas-blessed-contrib') as new (w: number, h: number) => Ctx
  return new Context(w, h)
}

/** Lines, text and colours over the canvas, as a line chart draws them. */
function scribble(ctx: Ctx, seed: number): void {
  const {width, height} = ctx._canvas
  ctx.strokeStyle = seed % 2 ? 'yellow' : 'cyan'
  ctx.beginPath()
  ctx.moveTo(0, 0)
  for (let i = 0; i <= 20; i++) ctx.lineTo((i * width) / 20, ((i * 7 + seed) % 11) * (height / 11))
  ctx.stroke()
  ctx.fillText('12.5', 0, 4)
  ctx.fillText('-3', width - 8, height - 4)
}

const state = (ctx: Ctx) => ({
  content: Array.from(ctx._canvas.content),
  colors: Array.from(ctx._canvas.colors, (c) => c ?? null),
  chars: Array.from(ctx._canvas.chars, (c) => c ?? null),
  frame: ctx._canvas.frame(),
})

// The chart canvases of the dashboard: (width*2-12) x (height*4-8) for 70..300 columns, 9..16 rows.
const SIZES: [number, number][] = [
  [34, 28],
  [120, 56],
  [36, 64],
  [188, 40],
  [2, 4],
]

test('the fast clearRect leaves a drawn canvas exactly as the original clearRect does', () => {
  for (const [w, h] of SIZES) {
    for (const seed of [1, 2, 3]) {
      const reference = freshContext(w, h)
      scribble(reference, seed)
      reference.clearRect(0, 0, w, h)
      const expected = state(reference)

      const fast = freshContext(w, h)
      useFastClear(fast)
      scribble(fast, seed)
      fast.clearRect(0, 0, w, h)
      assert.deepEqual(state(fast), expected, `${w}x${h} seed ${seed}`)
      assert.ok(expected.content.every((d) => d === 0), 'everything cleared')
      // And drawing again after it gives the same frame.
      scribble(reference, seed + 1)
      scribble(fast, seed + 1)
      assert.equal(fast._canvas.frame(), reference._canvas.frame())
    }
  }
})

test('a partial or transformed clearRect goes to the original', () => {
  for (const [x, y, w, h, tx] of [
    [4, 4, 20, 12, 0],
    [0, 0, 60, 20, 0],
    [0, 0, 120, 56, 8],
  ]) {
    const reference = freshContext(120, 56)
    scribble(reference, 5)
    if (tx) reference.translate(tx, 0)
    reference.clearRect(x, y, w, h)
    const fast = freshContext(120, 56)
    useFastClear(fast)
    scribble(fast, 5)
    if (tx) fast.translate(tx, 0)
    fast.clearRect(x, y, w, h)
    assert.deepEqual(state(fast), state(reference), `${x},${y} ${w}x${h} tx ${tx}`)
    assert.ok(state(fast).content.some((d) => d !== 0), 'something left drawn')
  }
})

test("the gauge's canvas (ansi-term, sharing the context's prototype) is cleared by the original", () => {
  const AnsiTerm = require('ansi-term') as new (w: number, h: number) => object
  const make = (patch: boolean) => {
    for (const k of Object.keys(require.cache)) if (k.includes('drawille')) delete require.cache[k]
    const Context = require('drawille-canvas-blessed-contrib') as new (w: number, h: number, cls: unknown) => Ctx & {fillStyle: string; fillRect(x: number, y: number, w: number, h: number): void}
    const ctx = new Context(40, 4, AnsiTerm)
    if (patch) useFastClear(ctx)
    ctx.fillStyle = 'green'
    ctx.fillRect(0, 0, 20, 2)
    ctx.clearRect(0, 0, 40, 4)
    return JSON.stringify((ctx._canvas as unknown as {content: unknown[]}).content)
  }
  assert.equal(make(true), make(false))
})
