import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkHealth, healthFromFlags, healthOf, healthProbe, healthSuffix, mergeHealth, parseGoDuration} from '../../src/container/health.js'
import {parseHealthcheck} from '../../src/build/config-instructions.js'

test("Go's durations, parsed as docker's flags parse them", () => {
  for (const [s, ns] of [['0', 0], ['1s', 1e9], ['1.5s', 1.5e9], ['500ms', 5e8], ['1m30s', 90e9], ['2h', 7200e9], ['10us', 1e4], ['10µs', 1e4], ['-2s', -2e9], ['1h2m3.5s', 3723.5e9]] as const)
    assert.equal(parseGoDuration(s), ns, s)
  for (const s of ['', '5', 's', '1x', '1s2', '--1s', '.s']) assert.equal(parseGoDuration(s), undefined, s)
})

test("docker run's --health-* flags: a HealthConfig, docker's CLI errors", () => {
  assert.equal(healthFromFlags({}), undefined)
  assert.deepEqual(healthFromFlags({healthCmd: 'curl -f x', healthInterval: '5s', healthRetries: '4'}), {Test: ['CMD-SHELL', 'curl -f x'], Interval: 5e9, Retries: 4})
  // Only timings: the image's test stays (merged later).
  assert.deepEqual(healthFromFlags({healthTimeout: '2s'}), {Timeout: 2e9})
  assert.deepEqual(healthFromFlags({noHealthcheck: true}), {Test: ['NONE']})
  assert.throws(() => healthFromFlags({noHealthcheck: true, healthRetries: '2'}), /--no-healthcheck conflicts with --health-\* options/)
  assert.throws(() => healthFromFlags({healthCmd: 'x', healthInterval: '-1s'}), /--health-interval cannot be negative/)
  assert.throws(() => healthFromFlags({healthCmd: 'x', healthInterval: '1'}), /invalid argument "1" for "--health-interval" flag: time: invalid duration "1"/)
  assert.throws(() => healthFromFlags({healthCmd: 'x', healthRetries: 'many'}), /--health-retries/)
  assert.throws(() => healthFromFlags({healthCmd: 'x', healthRetries: '-1'}), /Retries in Healthcheck cannot be negative/)
})

test("the API's Healthcheck checked as docker's daemon checks it; merged over the image's", () => {
  assert.deepEqual(checkHealth({Test: ['CMD', 'true'], Interval: 0, Retries: 0}), {Test: ['CMD', 'true']})
  assert.throws(() => checkHealth({Test: ['CMD', 'true'], Timeout: 999}), /^NsxError: Timeout in Healthcheck cannot be less than 1ms$|Timeout in Healthcheck cannot be less than 1ms/)
  assert.throws(() => checkHealth({Test: ['HTTP', 'x']}), /unknown type 'HTTP'/)
  assert.throws(() => checkHealth({Test: ['CMD']}), /CMD needs a command/)
  assert.throws(() => checkHealth({Test: ['CMD', 'a\0b']}), /NUL/)
  const image = {Test: ['CMD', 'check'], Interval: 10e9, Retries: 5}
  assert.deepEqual(mergeHealth(image, undefined), image)
  assert.deepEqual(mergeHealth(undefined, {Timeout: 1e9}), {Timeout: 1e9})
  assert.deepEqual(mergeHealth(image, {Interval: 1e9}), {Test: ['CMD', 'check'], Interval: 1e9, Retries: 5})
  assert.deepEqual(mergeHealth(image, {Test: ['NONE']}), {Test: ['NONE'], Interval: 10e9, Retries: 5})
  assert.equal(healthProbe({Test: ['NONE']}), undefined)
  assert.equal(healthProbe({Interval: 1e9}), undefined)
  assert.deepEqual(healthProbe({Test: ['CMD-SHELL', 'x && y']}), {argv: ['/bin/sh', '-c', 'x && y'], intervalMs: 30000, timeoutMs: 30000, startPeriodMs: 0, startIntervalMs: 5000, retries: 3})
  assert.deepEqual(healthProbe({Test: ['CMD', 'a', 'b'], Interval: 1.5e6, StartPeriod: 2e9, Retries: 1})!.argv, ['a', 'b'])
})

test("Dockerfile HEALTHCHECK: docker's builder forms and errors", () => {
  assert.deepEqual(parseHealthcheck('--interval=5s --retries=2 CMD curl -f http://x/ || exit 1', 'L1'), {Test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'], Interval: 5e9, Retries: 2})
  assert.deepEqual(parseHealthcheck('CMD ["cat", "/ok"]', 'L1'), {Test: ['CMD', 'cat', '/ok']})
  assert.deepEqual(parseHealthcheck('cmd ["cat", "/ok"]', 'L1', new Map([['timeout', '3s'], ['start-period', '1m']])), {Test: ['CMD', 'cat', '/ok'], Timeout: 3e9, StartPeriod: 60e9})
  assert.deepEqual(parseHealthcheck('NONE', 'L1'), {Test: ['NONE']})
  assert.throws(() => parseHealthcheck('NONE x', 'L1'), /HEALTHCHECK NONE takes no arguments/)
  assert.throws(() => parseHealthcheck('RUN true', 'L1'), /Unknown type "RUN" in HEALTHCHECK \(try CMD\)/)
  assert.throws(() => parseHealthcheck('--color=red CMD true', 'L1'), /Unknown flag: color/)
  assert.throws(() => parseHealthcheck('--interval=5 CMD true', 'L1'), /invalid --interval '5'/)
  assert.throws(() => parseHealthcheck('CMD', 'L1'), /Missing command after HEALTHCHECK CMD/)
})

test('the supervisor\'s record, believed only while the container runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-health-unit-'))
  try {
    const cfg = {Test: ['CMD', 'true']}
    assert.deepEqual(healthOf(dir, cfg, true), {Status: 'starting', FailingStreak: 0, Log: []})
    assert.equal(healthOf(dir, cfg, false), undefined, 'never started: no State.Health, as docker')
    assert.equal(healthOf(dir, undefined, true), undefined)
    const entry = {Start: '2026-01-01T00:00:00.000000001Z', End: '2026-01-01T00:00:00.5Z', ExitCode: 0, Output: 'ok\n'}
    writeFileSync(join(dir, 'health'), `{"Status":"healthy","FailingStreak":0}\n${JSON.stringify(entry)}\n{"Start":"torn`)
    assert.deepEqual(healthOf(dir, cfg, true), {Status: 'healthy', FailingStreak: 0, Log: [entry]})
    assert.equal(healthOf(dir, cfg, false)!.Status, 'unhealthy')
    assert.equal(healthSuffix(healthOf(dir, cfg, true)), ' (healthy)')
    assert.equal(healthSuffix({Status: 'starting', FailingStreak: 0, Log: []}), ' (health: starting)')
    assert.equal(healthSuffix(undefined), '')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
