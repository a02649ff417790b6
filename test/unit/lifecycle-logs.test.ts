import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseTail} from '../../src/lifecycle/logs.js'

test('--tail (and the API tail=): a count, "all" or nothing for every line, a negative count as all; anything else refused in one line', () => {
  assert.equal(parseTail('10'), 10)
  assert.equal(parseTail('0'), 0)
  for (const all of ['all', '', null, undefined, '-1']) assert.equal(parseTail(all), undefined)
  assert.throws(() => parseTail('ten'), /^NsxError: invalid --tail 'ten': a number or "all"$/)
})
