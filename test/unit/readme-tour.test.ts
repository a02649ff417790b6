import {test} from 'node:test'
import assert from 'node:assert/strict'
import {extractTour, linePattern, matchShape} from '../helpers/tour.js'

test('console blocks become commands with their expected output', () => {
  const md = ['text', '```console', '$ nsx ps', 'NAME PID', 'web  12', '$ x=1', '```', '```sh', '$ not a tour', '```'].join('\n')
  assert.deepEqual(extractTour(md), [
    {line: 2, commands: [{command: 'nsx ps', expected: ['NAME PID', 'web  12'], line: 3}, {command: 'x=1', expected: [], line: 6}]},
  ])
  assert.throws(() => extractTour('```console\noutput first\n```'), /must start with a "\$ " command/)
})

test('shape: numbers, ids and column gaps vary; words do not', () => {
  assert.ok(linePattern('web  15462 0s docker.io/library/busybox').test('web 7 12s docker.io/library/busybox'))
  assert.ok(linePattern('layer 3b825aefeed1: extracted, 2.76MB').test('layer 0a1b2c3d4e5f: extracted, 2.77MB'))
  assert.ok(linePattern('(sha256:521408f39b2772213adb5c295561802053136473887eae170c1f7790fe442ed7)').test('(sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef)'))
  assert.ok(linePattern('    1 root     nsx-init').test('1 root nsx-init'))
  assert.ok(linePattern('PATH … TASKS').test('PATH      /a/b  TASKS'))
  assert.ok(!linePattern('web 12 exited').test('web 12 running'))
  assert.ok(!linePattern('web 12').test('web x'))
  assert.ok(!linePattern('a.b').test('axb'), 'punctuation is literal')
})

test('shape: a "…" line stands for any number of lines; otherwise the count must agree', () => {
  assert.deepEqual(matchShape(['a 1', '…', 'z 2'], ['a 5', 'b', 'c', 'z 9']), {ok: true})
  assert.deepEqual(matchShape(['a 1', '…', 'z 2'], ['a 5', 'z 9', '']), {ok: true})
  assert.equal(matchShape(['a 1'], ['a 1', 'b 2']).ok, false)
  const m = matchShape(['a', 'b'], ['a', 'c'])
  assert.ok(!m.ok && /expected line 2 "b", got output line 2 "c"/.test(m.why))
})
