import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {closeSync, mkdtempSync, openSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {flockExclusive} from '../../src/container/state.js'
import {flock, libcLoaded, loadLibc, LOCK_EX, LOCK_NB} from '../../src/ffi/libc.js'

const dir = mkdtempSync(join(tmpdir(), 'nsx-lock-'))
after(() => rmSync(dir, {recursive: true, force: true}))

test('with koffi loaded, a free container lock is taken through it, held by the open description until closed', async () => {
  loadLibc()
  assert.ok(libcLoaded())
  const file = join(dir, 'lock')
  const fd = openSync(file, 'a', 0o600)
  await flockExclusive(fd)
  const other = openSync(file, 'a')
  try {
    assert.equal(flock(other, LOCK_EX | LOCK_NB), false, 'the lock is not held')
    closeSync(fd)
    assert.equal(flock(other, LOCK_EX | LOCK_NB), true, 'the lock outlived its fd')
  } finally {
    closeSync(other)
  }
})

test('with koffi loaded, a busy lock is waited for (by the executor, off the event loop) and taken when freed', async () => {
  const file = join(dir, 'busy')
  const holder = openSync(file, 'a', 0o600)
  assert.ok(flock(holder, LOCK_EX | LOCK_NB))
  const fd = openSync(file, 'a')
  let taken = false
  const waiting = flockExclusive(fd).then(() => (taken = true))
  // The event loop goes on while the lock is busy; freeing it lets the waiter in.
  await new Promise((r) => setImmediate(r))
  assert.equal(taken, false)
  closeSync(holder)
  await waiting
  const other = openSync(file, 'a')
  try {
    assert.equal(flock(other, LOCK_EX | LOCK_NB), false)
  } finally {
    closeSync(other)
    closeSync(fd)
  }
})
