import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {eventMessage, eventsDir, JOURNAL, JOURNAL_CAP, JOURNAL_OLD, type JournalEntry, JournalTail, journalLine, parseJournalLine, recordEvent} from '../../src/store/events.js'
import {matchesEvent, parseEventTime, parseFilterWords} from '../../src/events/filter.js'
import {eventLine, eventRenderer, eventTime} from '../../src/events/render.js'
import {NsxError} from '../../src/cli/errors.js'

function withRoot(fn: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'nsx-events-'))
  try {
    fn(root)
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
}

test('docker\'s message: status/id/from on container events, status/id on image events, none on the others; timeNano written exactly', () => {
  const c = eventMessage({Type: 'container', Action: 'start', id: 'abc', attributes: {image: 'busybox', name: 'web'}}, 1765000000123)
  assert.deepEqual(c, {status: 'start', id: 'abc', from: 'busybox', Type: 'container', Action: 'start', Actor: {ID: 'abc', Attributes: {image: 'busybox', name: 'web'}}, scope: 'local', time: 1765000000, timeNano: 1765000000123e6})
  const i = eventMessage({Type: 'image', Action: 'tag', id: 'sha256:1', attributes: {name: 'x:1'}}, 1)
  assert.equal(i.status, 'tag')
  assert.equal(i.from, undefined)
  const v = eventMessage({Type: 'volume', Action: 'create', id: 'data'}, 1)
  assert.equal('status' in v, false)
  const line = journalLine(c, 'abc/start/x')
  assert.match(line, /"timeNano":1765000000123000000\}\n$/)
  const back = parseJournalLine(line.trimEnd())!
  assert.equal(back.key, 'abc/start/x')
  assert.equal(back.json, line.slice(line.indexOf('\t') + 1).trimEnd())
  assert.equal(parseJournalLine('- not json'), undefined)
})

test('journal: recorded by any process, followed from the start, a key told once, a moved journal read to its end', () => {
  withRoot((root) => {
    recordEvent(root, {Type: 'volume', Action: 'create', id: 'a'})
    recordEvent(root, {Type: 'container', Action: 'create', id: 'c1', key: 'c1/create'})
    recordEvent(root, {Type: 'container', Action: 'create', id: 'c1', key: 'c1/create'})
    const seen: JournalEntry[] = []
    const tail = new JournalTail(root, (e) => seen.push(e))
    try {
      tail.open(true)
      assert.deepEqual(seen.map((e) => `${e.message.Type} ${e.message.Action} ${e.message.Actor.ID}`), ['volume create a', 'container create c1'])
      // A half-written line waits for its newline.
      writeFileSync(join(eventsDir(root), JOURNAL), '-\t{"Type":"volume","Action":"destroy"', {flag: 'a'})
      tail.drain()
      assert.equal(seen.length, 2)
      writeFileSync(join(eventsDir(root), JOURNAL), ',"Actor":{"ID":"a","Attributes":{}},"scope":"local","time":1,"timeNano":1000000000}\n', {flag: 'a'})
      tail.drain()
      assert.equal(seen.at(-1)?.message.Action, 'destroy')
      // Past the cap, a write moves the journal to journal.1 and begins another.
      writeFileSync(join(eventsDir(root), JOURNAL), `${'#'.repeat(JOURNAL_CAP)}\n`, {flag: 'a'})
      recordEvent(root, {Type: 'network', Action: 'create', id: 'n1'})
      assert.ok(statSync(join(eventsDir(root), JOURNAL_OLD)).size > JOURNAL_CAP)
      assert.match(readFileSync(join(eventsDir(root), JOURNAL), 'utf8'), /"ID":"n1"/)
      tail.drain()
      assert.equal(seen.at(-1)?.message.Actor.ID, 'n1')
      recordEvent(root, {Type: 'network', Action: 'destroy', id: 'n1'})
      tail.drain()
      assert.equal(seen.at(-1)?.message.Action, 'destroy')
    } finally {
      tail.close()
    }
    // Opened at the end: only what comes.
    const later: JournalEntry[] = []
    const t2 = new JournalTail(root, (e) => later.push(e))
    try {
      t2.open(false)
      assert.equal(later.length, 0)
      recordEvent(root, {Type: 'volume', Action: 'create', id: 'b'})
      t2.drain()
      assert.deepEqual(later.map((e) => e.message.Actor.ID), ['b'])
    } finally {
      t2.close()
    }
  })
  // A store that cannot be written (its root a file here): the verb goes on.
  withRoot((root) => {
    writeFileSync(join(root, 'file'), '')
    assert.doesNotThrow(() => recordEvent(join(root, 'file'), {Type: 'volume', Action: 'create', id: 'x'}))
  })
})

test('filters as docker\'s: each key must match, any of its values; container by id prefix or name, image with or without :latest, label KEY or KEY=VALUE', () => {
  const m = eventMessage({Type: 'container', Action: 'exec_create: sh -c true', id: 'abcdef', attributes: {image: 'busybox', name: 'web', tier: 'front'}})
  const f = (...w: string[]) => matchesEvent(m, parseFilterWords(w))
  assert.ok(f())
  assert.ok(f('type=container', 'event=exec_create'))
  assert.ok(f('container=abc') && f('container=web') && !f('container=db'))
  assert.ok(f('image=busybox:latest') && f('image=busybox') && !f('image=alpine'))
  assert.ok(f('label=tier') && f('label=tier=front') && !f('label=tier=back'))
  assert.ok(f('type=image', 'type=container') && !f('type=image'))
  assert.ok(!f('type=container', 'label=other'))
  const v = eventMessage({Type: 'volume', Action: 'mount', id: 'data', attributes: {container: 'abcdef'}})
  assert.ok(matchesEvent(v, parseFilterWords(['volume=data'])) && matchesEvent(v, parseFilterWords(['container=abc'])))
  assert.throws(() => parseFilterWords(['colour=red']), (e: unknown) => e instanceof NsxError && /invalid filter 'colour'/.test(e.message))
  assert.throws(() => parseFilterWords(['type']), NsxError)
})

test('times: Unix seconds, RFC 3339, durations before now; one line for anything else', () => {
  assert.equal(parseEventTime('1765000000', 'since'), 1765000000000)
  assert.equal(parseEventTime('1765000000.25', 'since'), 1765000000250)
  assert.equal(parseEventTime('2026-12-07T20:00:00Z', 'since'), Date.parse('2026-12-07T20:00:00Z'))
  assert.equal(parseEventTime('10m', 'since', 1_000_000), 1_000_000 - 600_000)
  assert.equal(parseEventTime('1h30m', 'since', 10_000_000), 10_000_000 - 5_400_000)
  assert.equal(parseEventTime('0s', 'until', 5), 5)
  assert.throws(() => parseEventTime('yesterday', '--since'), /invalid --since 'yesterday'/)
})

test('the docker CLI\'s line and --format', () => {
  const m = eventMessage({Type: 'container', Action: 'die', id: 'abc', attributes: {name: 'web', exitCode: '0', image: 'busybox'}}, Date.parse('2026-12-07T20:00:01.5Z'))
  assert.equal(eventTime(m.timeNano, 0), '2026-12-07T20:00:01.500000000Z')
  assert.equal(eventTime(m.timeNano, 60), '2026-12-07T21:00:01.500000000+01:00')
  assert.match(eventLine(m), /^\S+ container die abc \(exitCode=0, image=busybox, name=web\)\n$/)
  assert.equal(eventRenderer('{{.Action}} {{.Actor.Attributes.name}}')(m), 'die web\n')
  assert.deepEqual(JSON.parse(eventRenderer('{{json .}}')(m)), m)
  assert.throws(() => eventRenderer('{{.Action'), /invalid --format/)
})

test('the containers\' watcher scans when a container\'s state changes, not when it logs (a chatty container costs the service nothing)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nsx-events-'))
  const {ContainerWatcher} = await import('../../src/events/containers.js')
  const {Store} = await import('../../src/store/store.js')
  const id = 'a'.repeat(64)
  const dir = join(root, 'run', id)
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'config.json'), JSON.stringify({version: 2, id, name: 'chatty', created: new Date().toISOString(), imageIds: [], layers: [], lowerDirs: [], spec: {volumes: []}, limits: {}, autoRemove: false, log: {maxSize: 1, maxFiles: 1}, labels: {k: 'v'}}))
  const w = new ContainerWatcher(new Store(root))
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 1000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10))
  }
  try {
    w.start()
    assert.equal(w.scans, 1)
    for (let i = 0; i < 20; i++) {
      writeFileSync(join(dir, 'container.log'), '{"log":"x\\n"}\n', {flag: 'a'})
      writeFileSync(join(dir, 'supervisor.log'), `${i}\n`, {flag: 'a'})
      await new Promise((r) => setTimeout(r, 5))
    }
    // A rename (config.json replaced) is a change of state: that one scan, and no other.
    writeFileSync(join(dir, 'config.json.tmp'), readFileSync(join(dir, 'config.json')))
    renameSync(join(dir, 'config.json.tmp'), join(dir, 'config.json'))
    await until(() => w.scans > 1)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(w.scans, 2)
    // Its destroy carries the labels it had.
    rmSync(dir, {recursive: true})
    await until(() => existsSync(join(root, 'events', 'journal')) && readFileSync(join(root, 'events', 'journal'), 'utf8').includes('"destroy"'))
    const destroy = readFileSync(join(root, 'events', 'journal'), 'utf8').trim().split('\n').map((l) => parseJournalLine(l)!).find((e) => e.message.Action === 'destroy')
    assert.deepEqual(destroy?.message.Actor.Attributes, {k: 'v', image: '', name: 'chatty'})
  } finally {
    w.close()
    rmSync(root, {recursive: true, force: true})
  }
})
