import {test} from 'node:test'
import assert from 'node:assert/strict'
import {resolvePercent} from '../../src/group/groups.js'

const host = {memTotal: 8 * 1024 ** 3, cpus: 4}

test('a share of the host becomes an absolute value (memory to whole pages), and is kept as given', () => {
  const r = resolvePercent({memory: '50%', cpus: '30%', pidsLimit: '10'}, host)
  assert.deepEqual(r.flags, {memory: String(4 * 1024 ** 3), cpus: '1.2', pidsLimit: '10'})
  assert.deepEqual(r.percent, {memory: '50%', cpus: '30%'})
  assert.equal(Number(resolvePercent({memory: '33.3%'}, host).flags.memory) % 4096, 0)
})

test('absolute values pass through; a share out of range is refused', () => {
  assert.deepEqual(resolvePercent({memory: '512m', cpus: '2'}, host), {flags: {memory: '512m', cpus: '2'}, percent: {}})
  assert.throws(() => resolvePercent({memory: '150%'}, host), /invalid --memory '150%': a share of the host is above 0% and at most 100%/)
  assert.throws(() => resolvePercent({cpus: '0%'}, host), /invalid --cpus '0%'/)
})
