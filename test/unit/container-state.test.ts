import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {claimName, deriveStatus, idOfName, parseExit, parseRestart, parsePids, readContainer, releaseName, resolveContainer, type ContainerConfig, type ProcRef, type RunRecord} from '../../src/container/state.js'
import {freshName, generateName, NAME_WORDS} from '../../src/container/names.js'
import {Store} from '../../src/store/store.js'

const dir = mkdtempSync(join(tmpdir(), 'nsx-state-'))
after(() => rmSync(dir, {recursive: true, force: true}))

// Our own start time: a pid with its start time is alive; with another start time it is a reused pid.
const self = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[19])
const me: ProcRef = {pid: process.pid, startTime: self}
const gone: ProcRef = {pid: 999999999, startTime: 1}
const run = (creator: ProcRef): RunRecord => ({startedAt: '2026-01-01T00:00:00.000Z', creator, cgroups: [], detached: true})

test('the pids file: supervisor and init, each with its start time; anything else is unreadable', () => {
  assert.deepEqual(parsePids('10 200 11 201\n'), {supervisor: {pid: 10, startTime: 200}, init: {pid: 11, startTime: 201}})
  assert.equal(parsePids('10 200 11'), undefined)
  assert.equal(parsePids('a b c d'), undefined)
})

test('the exit file: docker exit code and end time in ms; a torn or foreign file is unreadable', () => {
  assert.deepEqual(parseExit('137 1700000000123\n'), {code: 137, finishedAt: '2023-11-14T22:13:20.123Z', oomKilled: false, restarts: 0})
  assert.deepEqual(parseExit('137 1700000000123 restarts=2 oom\n'), {code: 137, finishedAt: '2023-11-14T22:13:20.123Z', oomKilled: true, restarts: 2})
  assert.equal(parseExit('1 2 restarts=x'), undefined)
  assert.equal(parseExit('137'), undefined)
  assert.equal(parseExit(''), undefined)
})

test('status: created without a start; starting while its creator lives; running while its supervisor lives; otherwise exited, never running', () => {
  assert.deepEqual(deriveStatus({}), {status: 'created'})
  assert.deepEqual(deriveStatus({run: run(me)}), {status: 'starting'})
  assert.equal(deriveStatus({run: run({pid: process.pid, startTime: self + 1})}).status, 'exited', 'a reused pid is not the creator')
  assert.deepEqual(deriveStatus({run: run(gone)}), {status: 'exited', exitCode: 125, error: 'nsx was killed while starting it'})
  assert.deepEqual(deriveStatus({run: run(gone), pids: {supervisor: me, init: gone}}), {status: 'running'})
  // The supervisor SIGKILLed: its init may live a moment (PDEATHSIG), the container is exited all the same.
  assert.deepEqual(deriveStatus({run: run(gone), pids: {supervisor: gone, init: me}}), {status: 'exited', exitCode: 137, error: 'its supervisor was killed', orphanInit: me})
  assert.deepEqual(deriveStatus({run: run(gone), pids: {supervisor: gone, init: gone}, exit: {code: 3, finishedAt: 'x', oomKilled: false, restarts: 0}}), {status: 'exited', exitCode: 3, orphanInit: undefined})
  // An exit record while the supervisor still cleans up: running until it is gone.
  assert.equal(deriveStatus({run: run(gone), pids: {supervisor: me, init: gone}, exit: {code: 0, finishedAt: 'x', oomKilled: false, restarts: 0}}).status, 'running')
  // A failed start (the executor died before its fork) with its exit recorded.
  assert.deepEqual(deriveStatus({run: run(gone), exit: {code: 127, finishedAt: 'x', oomKilled: false, restarts: 0}}), {status: 'exited', exitCode: 127})
})

const store = new Store(join(dir, 'store'))
mkdirSync(join(store.root, 'run'), {recursive: true})
mkdirSync(store.tmpDir, {recursive: true})

function container(id: string, name: string): void {
  const d = join(store.root, 'run', id)
  mkdirSync(d)
  const config = {version: 2, id, name, created: '2026-01-01T00:00:00.000Z', imageIds: [], layers: [], lowerDirs: [], limits: {}, autoRemove: false, spec: {name, argv: ['sh']}} as unknown as ContainerConfig
  writeFileSync(join(d, 'config.json'), JSON.stringify(config))
  claimName(store, name, id)
}

const A = 'ab' + '0'.repeat(62)
const B = 'ab1' + '0'.repeat(61)
const C = 'cd' + '0'.repeat(62)
container(A, 'alpha')
container(B, 'beta')
container(C, 'ab')

test("names and ids resolve as docker's: full id, then name, then a unique id prefix; an ambiguous prefix and an unknown name are errors (exit 1)", () => {
  assert.equal(resolveContainer(store, A).config.name, 'alpha')
  assert.equal(resolveContainer(store, 'beta').config.id, B)
  assert.equal(resolveContainer(store, 'ab').config.id, C, 'a name wins over an id prefix')
  assert.equal(resolveContainer(store, 'ab0').config.id, A)
  assert.equal(resolveContainer(store, 'c').config.name, 'ab')
  assert.throws(() => resolveContainer(store, 'a'), (e: Error & {exitCode?: number}) => /multiple containers match the id prefix 'a': ab0000000000 \(alpha\), ab1000000000 \(beta\)/.test(e.message) && e.exitCode === 1)
  assert.throws(() => resolveContainer(store, 'ghost'), (e: Error & {exitCode?: number}) => e.message === 'No such container: ghost' && e.exitCode === 1)
  assert.throws(() => resolveContainer(store, '../run'), /No such container/)
  assert.throws(() => resolveContainer(store, ''), /No such container/)
})

test('a name is taken once; a link whose container is gone is free again; release drops only our own link', () => {
  assert.throws(() => claimName(store, 'alpha', B), (e: Error & {exitCode?: number}) => /the container name "alpha" is already in use by container ab0000000000/.test(e.message) && e.exitCode === 125)
  claimName(store, 'alpha', A) // idempotent for its holder
  symlinkSync('ef' + '0'.repeat(62), join(store.root, 'names', 'stale'))
  assert.equal(idOfName(store, 'stale'), undefined)
  claimName(store, 'stale', B)
  assert.equal(idOfName(store, 'stale'), B)
  releaseName(store, 'stale', A)
  assert.equal(idOfName(store, 'stale'), B, 'not ours: kept')
  releaseName(store, 'stale', B)
  assert.equal(idOfName(store, 'stale'), undefined)
  assert.equal(readContainer(join(store.root, 'run', 'nothing-here')), undefined)
})

test('generated names: adjective_surname of [a-z_], valid names and hostnames; a number appended on a clash', () => {
  for (let i = 0; i < 200; i++) assert.match(generateName(), /^[a-z]+_[a-z_]+$/)
  for (const w of [...NAME_WORDS.adjectives, ...NAME_WORDS.surnames]) assert.match(w, /^[a-z][a-z_]*[a-z]$/)
  assert.equal(new Set(NAME_WORDS.surnames).size, NAME_WORDS.surnames.length)
  const first = (n: number) => 0 * n
  assert.equal(freshName(() => false, first), `${NAME_WORDS.adjectives[0]}_${NAME_WORDS.surnames[0]}`)
  const taken = new Set([`${NAME_WORDS.adjectives[0]}_${NAME_WORDS.surnames[0]}`, `${NAME_WORDS.adjectives[0]}_${NAME_WORDS.surnames[0]}2`])
  assert.equal(freshName((n) => taken.has(n), first), `${NAME_WORDS.adjectives[0]}_${NAME_WORDS.surnames[0]}3`)
})

test("--restart: docker's policies; a count only for on-failure; anything else 125", () => {
  assert.deepEqual(parseRestart('no'), {policy: 'no', maxRetries: 0})
  assert.deepEqual(parseRestart('on-failure:3'), {policy: 'on-failure', maxRetries: 3})
  assert.deepEqual(parseRestart('unless-stopped'), {policy: 'unless-stopped', maxRetries: 0})
  assert.throws(() => parseRestart('always:2'), (e: Error & {exitCode?: number}) => /invalid --restart 'always:2'/.test(e.message) && e.exitCode === 125)
  assert.throws(() => parseRestart('sometimes'), /invalid --restart/)
})
