import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {NSX_BIN, assertOneLineError, needCommand, nsx, run, tempFiles} from '../helpers/env.js'
import {TestProcesses, waitForComm} from '../helpers/processes.js'
import type {AuditReport} from '../../src/audit/types.js'
import type {AuditMergeReport} from '../../src/audit/merge.js'

/**
 * nsx audit merge over reports made on this host as if on several: the host's own view, a pid
 * namespace's (unshare --pid --mount-proc: another process set), a uts namespace with another
 * hostname (another "host"), the same report twice, and --watch's JSON lines. A container is one
 * workload whichever host saw it; hand-made namespaces are one per host.
 */

const fixture: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-merge-') : undefined

function auditJson(args: string[], env?: NodeJS.ProcessEnv): string {
  const r = nsx(['audit', '--format', 'json', ...args], {env, timeout: 120000})
  assert.equal(r.status, 0, `nsx audit ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** The first n lines of nsx audit --watch --format json, then SIGTERM. */
async function watchLines(args: string[], n: number, env: NodeJS.ProcessEnv): Promise<string[]> {
  const child = spawn(process.execPath, [NSX_BIN, 'audit', '--watch', '--format', 'json', ...args], {env, stdio: ['ignore', 'pipe', 'inherit']})
  const lines: string[] = []
  try {
    for await (const line of createInterface({input: child.stdout!})) {
      lines.push(line)
      if (lines.length === n) break
    }
    return lines
  } finally {
    child.kill('SIGTERM')
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  }
}

test('reports from several namespaces and hosts: each workload once, each finding naming its hosts', async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const fx = fixture!
  const procs = new TestProcesses()
  const dir = mkdtempSync(join(tmpdir(), 'nsx-merge-files-'))
  t.after(async () => {
    fx.nsx(['rm', '-f', 'merge-c'])
    await procs.killAll()
    rmSync(dir, {recursive: true, force: true})
  })
  const c = fx.nsx(['run', '-d', '--name', 'merge-c', '--layer', fx.base, '--', 'sleep', '1000'])
  assert.equal(c.status, 0, c.stderr)
  // A hand-made workload: its own network and uts namespaces.
  const w = procs.spawn('unshare', ['--net', '--uts', '--', 'sleep', '1000'], {stdio: 'ignore'}).pid!
  await waitForComm(w, 'sleep')
  const env = fx.env
  const here = hostname()

  const hostView = auditJson([String(w), 'merge-c'], env)
  const host = JSON.parse(hostView) as AuditReport
  const container = host.workloads.find((x) => x.kind === 'nsx')!
  const handMade = host.workloads.find((x) => x.pids.includes(w))!
  assert.ok(container && handMade && handMade.kind === 'namespaces', JSON.stringify(host.workloads))
  const files = {
    host: join(dir, 'host.json'),
    again: join(dir, 'again.json'),
    pidns: join(dir, 'pidns.json'),
    other: join(dir, 'other.json'),
    events: join(dir, 'events.jsonl'),
  }
  writeFileSync(files.host, hostView)
  writeFileSync(files.again, auditJson([String(w), 'merge-c'], env))
  // A pid namespace of its own: it sees only its own processes (a sleep in a network namespace of its own among them).
  const inner = `unshare --net sleep 1000 & s=$!; until [ "$(cat /proc/$s/comm)" = sleep ]; do :; done; "${process.execPath}" "${NSX_BIN}" audit --format json; r=$?; kill $s; exit $r`
  const pidns = run('unshare', ['--pid', '--mount-proc', '--fork', '--', 'sh', '-c', inner], {env, timeout: 120000})
  assert.equal(pidns.status, 0, pidns.stderr)
  writeFileSync(files.pidns, pidns.stdout)
  const seenInside = JSON.parse(pidns.stdout) as AuditReport
  assert.ok(seenInside.workloads.length > 0 && !seenInside.workloads.some((x) => x.key === container.key), 'the pid namespace sees its own processes only')
  // Another "host": a uts namespace with another hostname, seeing the same workloads.
  const other = run('unshare', ['--uts', '--', 'sh', '-c', `hostname merge-other && exec "${process.execPath}" "${NSX_BIN}" audit --format json ${w} merge-c`], {env, timeout: 120000})
  assert.equal(other.status, 0, other.stderr)
  writeFileSync(files.other, other.stdout)
  // --watch's lines for the container (what the DaemonSet writes).
  const onContainer = host.findings.filter((f) => f.workload === container.key).length
  assert.ok(onContainer > 0)
  writeFileSync(files.events, `${(await watchLines(['merge-c'], onContainer, env)).join('\n')}\n`)

  const r = nsx(['audit', 'merge', '--format', 'json', files.host, files.again, files.pidns, files.other, files.events], {env})
  assert.equal(r.status, 0, r.stderr)
  const m = JSON.parse(r.stdout) as AuditMergeReport
  assert.deepEqual(m.hosts, [here, 'merge-other'].sort())
  assert.equal(m.summary.sources, 5)
  assert.deepEqual(m.sources.map((s) => s.form), ['report', 'report', 'report', 'report', 'events'])

  // The container: one workload, seen on both hosts; each of its findings once, naming both.
  const cs = m.workloads.filter((x) => x.key === container.key)
  assert.equal(cs.length, 1)
  assert.deepEqual(cs[0].hosts, [here, 'merge-other'].sort())
  const cf = m.findings.filter((f) => f.workload === container.key)
  assert.equal(cf.length, onContainer)
  for (const f of cf) assert.deepEqual(f.hosts, [here, 'merge-other'].sort(), f.rule)
  // The hand-made namespaces: one workload per host (its key is only unique within a host).
  const hs = m.workloads.filter((x) => x.key === handMade.key)
  assert.deepEqual(hs.map((x) => x.hosts), [[here], ['merge-other']].sort())
  const hf = m.findings.filter((f) => f.workload === handMade.key)
  assert.equal(hf.length, 2 * host.findings.filter((f) => f.workload === handMade.key).length)
  // The pid namespace's workloads are there, on this host, and no finding is counted twice.
  for (const x of seenInside.workloads) assert.ok(m.workloads.some((y) => y.key === x.key && y.hosts.includes(here)), x.key)
  const ids = m.findings.map((f) => `${f.workload} ${f.rule} ${f.hosts.join(',')}`)
  assert.equal(new Set(ids).size, ids.length)
  const n = m.summary.findings
  assert.equal(n.high + n.medium + n.low, m.findings.length)

  // The table names the hosts; --fail-on low fails on any finding.
  const table = nsx(['audit', 'merge', files.host, files.other], {env})
  assert.equal(table.status, 0, table.stderr)
  assert.match(table.stdout, /^WORKLOAD\s+KIND\s+HOSTS/m)
  assert.match(table.stdout, new RegExp(`^nsx merge-c\\s+nsx\\s+${[here, 'merge-other'].sort().join(',')}\\s`, 'm'))
  assert.match(table.stdout, /^2 inputs from 2 hosts: /m)
  assert.equal(nsx(['audit', 'merge', '--fail-on', 'low', files.host], {env}).status, 1)
  // Standard input.
  const stdin = nsx(['audit', 'merge', '--format', 'json', '-'], {env, input: hostView})
  assert.equal(stdin.status, 0, stdin.stderr)
  assert.equal((JSON.parse(stdin.stdout) as AuditMergeReport).findings.length, host.findings.length)
})

test('nsx audit merge refuses what is not an audit report, in one line with exit 2', (t) => {
  const {dir, 'not.json': notJson, 'inspect.json': inspect, 'lines.jsonl': lines, 'empty.json': empty} = tempFiles(t, 'nsx-merge-bad-', {
    'not.json': 'hello\n',
    'inspect.json': '{"pid": 1, "namespaces": []}\n',
    'lines.jsonl': '{"a": 1}\n{"b": 2}\n',
    'empty.json': '',
  })
  assertOneLineError(nsx(['audit', 'merge', join(dir, 'missing.json')]), 2, /^nsx audit merge: cannot read .*missing\.json: no such file$/)
  assertOneLineError(nsx(['audit', 'merge', notJson]), 2, /not\.json: line 1 is not JSON/)
  assertOneLineError(nsx(['audit', 'merge', inspect]), 2, /inspect\.json is not an nsx audit --format json report or --watch output$/)
  assertOneLineError(nsx(['audit', 'merge', lines]), 2, /lines\.jsonl: line 1 is not an nsx audit finding/)
  assertOneLineError(nsx(['audit', 'merge', empty]), 2, /empty\.json is empty/)
  assertOneLineError(nsx(['audit', 'merge', dir]), 2, /is a directory$/)
  assertOneLineError(nsx(['audit', 'merge']), 2, /^nsx audit merge: Missing 1 required arg/)
  assertOneLineError(nsx(['audit', 'merge', '--format', 'sarif', notJson]), 2)
})
