import {test} from 'node:test'
import assert from 'node:assert/strict'
import {DetachMatcher, FrameReader, frame, parseDetachKeys, winsizeFrame} from '../../src/lifecycle/attach.js'
import {parseLogTime} from '../../src/lifecycle/logs.js'
import {parseLogOpts} from '../../src/lifecycle/create.js'
import {humanDuration, secondsSinceStart} from '../../src/container/listing.js'
import {renderPsFormat} from '../../src/container/ps-render.js'
import {parseSignal} from '../../src/lifecycle/kill.js'

test("detach keys: docker's notation; the sequence is held back while it may still match, sent on when it does not", () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [0x10, 0x11])
  assert.deepEqual(parseDetachKeys('ctrl-a,d'), [1, 0x64])
  assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-_'), [0, 0x1f])
  assert.throws(() => parseDetachKeys('ctrl-'), /invalid --detach-keys/)
  assert.throws(() => parseDetachKeys('ctrl-p,,'), /invalid --detach-keys/)
  const m = new DetachMatcher([0x10, 0x11])
  assert.deepEqual(m.feed(Buffer.from('ab\x10')), {send: Buffer.from('ab'), detach: false})
  assert.deepEqual(m.feed(Buffer.from('x')), {send: Buffer.from('\x10x'), detach: false}, 'a broken sequence is sent on')
  assert.deepEqual(m.feed(Buffer.from('\x10\x10')), {send: Buffer.from('\x10'), detach: false})
  assert.deepEqual(m.feed(Buffer.from('\x11rest')), {send: Buffer.from(''), detach: true})
})

test('attach frames: a type byte, a 2-byte length, the bytes; long input split; output split by stream across reads', () => {
  assert.deepEqual(frame('i', Buffer.from('hi')), Buffer.from([0x69, 0, 2, 0x68, 0x69]))
  assert.deepEqual(winsizeFrame(30, 300), Buffer.from([0x77, 0, 4, 0, 30, 1, 44]))
  assert.equal(frame('i', Buffer.alloc(70000)).length, 70000 + 6)
  const r = new FrameReader()
  const got: string[] = []
  const all = Buffer.concat([Buffer.from([0x6f, 0, 3]), Buffer.from('out'), Buffer.from([0x65, 0, 3]), Buffer.from('err')])
  r.read(all.subarray(0, 4), (s, b) => got.push(`${s}:${b}`))
  r.read(all.subarray(4), (s, b) => got.push(`${s}:${b}`))
  assert.deepEqual(got, ['o:out', 'e:err'])
})

test("logs --since/--until: RFC 3339, Unix seconds, a duration back from now (Go's units)", () => {
  const now = Date.parse('2026-01-01T12:00:00Z')
  assert.equal(parseLogTime('2026-01-01T11:00:00Z', now), Date.parse('2026-01-01T11:00:00Z'))
  assert.equal(parseLogTime('1700000000.5', now), 1700000000500)
  assert.equal(parseLogTime('1h30m', now), now - 90 * 60000)
  assert.equal(parseLogTime('250ms', now), now - 250)
  assert.throws(() => parseLogTime('yesterday', now), /invalid time 'yesterday'/)
})

test('--log-opt: max-size and max-file over a 10m x 3 default; anything else refused (125)', () => {
  assert.deepEqual(parseLogOpts([]), {maxSize: 10 * 1024 * 1024, maxFiles: 3})
  assert.deepEqual(parseLogOpts(['max-size=4k', 'max-file=1']), {maxSize: 4096, maxFiles: 1})
  assert.throws(() => parseLogOpts(['max-size=12']), /at least 1k/)
  assert.throws(() => parseLogOpts(['max-file=0']), /max-file '0'/)
  assert.throws(() => parseLogOpts(['labels=x']), (e: Error & {exitCode?: number}) => /unknown --log-opt 'labels'/.test(e.message) && e.exitCode === 125)
})

test("ps: docker's human durations and --format fields", () => {
  assert.deepEqual([0.5, 1, 59, 60, 150, 3600, 7200, 86400 * 3, 86400 * 20].map(humanDuration), ['Less than a second', '1 second', '59 seconds', 'About a minute', '2 minutes', 'About an hour', '2 hours', '3 days', '2 weeks'])
  // Up 1.7 s is "1 second", as a CREATED of 1.7 s ago is (it was rounded to "Up 2 seconds").
  assert.equal(humanDuration(secondsSinceStart(100, 2.7)), '1 second')
  const e = {name: 'web', id: 'a'.repeat(64), state: 'exited' as const, status: 'Exited (3) 2 seconds ago', exitCode: 3, pid: 0, supervisorPid: 0, hostname: 'web', image: null, layers: 2, command: ['sh', '-c', 'a\nb'], created: new Date().toISOString(), startedAt: null, finishedAt: null, uptime: 0, detached: true, autoRemove: false, cgroups: []}
  assert.equal(renderPsFormat([e], '{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.State}}'), `${'a'.repeat(12)} web 2 layers "sh -c a\\x0ab" exited\n`)
  assert.equal(renderPsFormat([e], 'table {{.Names}}\\t{{.Status}}'), 'NAMES   STATUS\nweb     Exited (3) 2 seconds ago\n')
  assert.throws(() => renderPsFormat([e], '{{.Bogus}}'), /unknown field .Bogus/)
})

test('signals: names with or without SIG, any case, or numbers; others refused', () => {
  assert.equal(parseSignal('hup'), 'SIGHUP')
  assert.equal(parseSignal('SIGUSR1'), 'SIGUSR1')
  assert.equal(parseSignal('9'), 'SIGKILL')
  assert.throws(() => parseSignal('NOPE'), /invalid signal: NOPE/)
})
