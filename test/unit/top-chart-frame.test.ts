import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {coalescedFrame, useCoalescedFrames} from '../../src/tui/chart-frame.js'

const require = createRequire(import.meta.url)

/** Each visible character of a frame with the foreground colour escape in force for it. */
function cells(frame: string): string[] {
  const out: string[] = []
  let fg = ''
  let bg = ''
  for (let i = 0; i < frame.length; i++) {
    if (frame[i] === '\u001b') {
      const end = frame.indexOf('m', i)
      const code = frame.slice(i + 2, end)
      if (code === '39') fg = ''
      else if (code === '49') bg = ''
      else if (code.startsWith('38') || /^3\d$/.test(code)) fg = code
      else if (code.startsWith('48') || /^4\d$/.test(code)) bg = code
      i = end
      continue
    }
    out.push(`${frame[i]}|${frame[i] === ' ' || frame[i] === '\n' ? '' : fg}|${bg}`)
  }
  return out
}

function drawn(): {frame(d?: string): string} & Parameters<typeof coalescedFrame>[0] {
  const Context = require('drawille-canvas-blessed-contrib') as new (w: number, h: number) => {
    _canvas: {frame(d?: string): string} & Parameters<typeof coalescedFrame>[0]
    strokeStyle: string
    fillStyle: string
    beginPath(): void
    moveTo(x: number, y: number): void
    lineTo(x: number, y: number): void
    stroke(): void
    fillText(s: string, x: number, y: number): void
  }
  const ctx = new Context(80, 32)
  // A flat run, a climb and a fall in one colour, another line in a second colour, and text.
  ctx.strokeStyle = 'yellow'
  ctx.beginPath()
  ctx.moveTo(10, 30)
  ctx.lineTo(40, 30)
  ctx.lineTo(55, 5)
  ctx.lineTo(79, 20)
  ctx.stroke()
  ctx.strokeStyle = 'cyan'
  ctx.beginPath()
  ctx.moveTo(0, 0)
  ctx.lineTo(79, 31)
  ctx.stroke()
  ctx.fillStyle = 'white'
  ctx.fillText('12.5', 0, 8)
  return ctx._canvas
}

test('the coalesced chart frame gives every cell the character and colour of blessed-contrib\'s own', () => {
  const canvas = drawn()
  const original = canvas.frame()
  const mine = coalescedFrame(canvas)
  assert.deepEqual(cells(mine), cells(original))
  assert.deepEqual(cells(coalescedFrame(canvas, '\r\n')), cells(canvas.frame('\r\n')))
  // The point of it: fewer escapes for blessed to parse.
  const escapes = (s: string) => s.split('\u001b').length - 1
  assert.ok(escapes(mine) < escapes(original) / 2, `${escapes(mine)} escapes against ${escapes(original)}`)
  // Installed on the class, every canvas draws this way.
  useCoalescedFrames(canvas)
  assert.equal(drawn().frame(), mine)
})
