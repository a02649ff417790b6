import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parsePids, readContainer, type ContainerState} from '../../src/container/state.js'

const dir = mkdtempSync(join(tmpdir(), 'nsx-state-'))
after(() => rmSync(dir, {recursive: true, force: true}))

// Our own start time: a pid with its start time is alive; with another start time it is a reused pid.
const self = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[19])

function container(name: string, creator: {pid: number; startTime: number}, pids?: string): string {
  const d = join(dir, name)
  mkdirSync(d)
  const state: ContainerState = {version: 1, name, id: 'x'.repeat(32), created: '', command: ['sh'], layers: 1, hostname: name, detached: false, cgroups: [], creator}
  writeFileSync(join(d, 'state.json'), JSON.stringify(state))
  if (pids !== undefined) writeFileSync(join(d, 'pids'), pids)
  return d
}

test('the pids file: supervisor and init, each with its start time; anything else is unreadable', () => {
  assert.deepEqual(parsePids('10 200 11 201\n'), {supervisor: {pid: 10, startTime: 200}, init: {pid: 11, startTime: 201}})
  assert.equal(parsePids('10 200 11'), undefined)
  assert.equal(parsePids('a b c d'), undefined)
})

test('liveness: starting while its creator lives, running while its supervisor lives, orphaned with only the init, dead otherwise', () => {
  assert.equal(readContainer(container('starting', {pid: process.pid, startTime: self}))?.liveness, 'starting')
  assert.equal(readContainer(container('never-started', {pid: process.pid, startTime: self + 1}))?.liveness, 'dead', 'a reused pid is not the creator')
  assert.equal(readContainer(container('running', {pid: 1, startTime: 0}, `${process.pid} ${self} 999999999 1\n`))?.liveness, 'running')
  assert.equal(readContainer(container('orphaned', {pid: 1, startTime: 0}, `999999999 1 ${process.pid} ${self}\n`))?.liveness, 'orphaned')
  assert.equal(readContainer(container('dead', {pid: process.pid, startTime: self}, '999999999 1 999999998 1\n'))?.liveness, 'dead', 'the pids file wins over the creator')
  assert.equal(readContainer(join(dir, 'nothing-here')), undefined)
})
