import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, tempFiles} from '../helpers/env.js'
import {TestProcesses, waitForComm} from '../helpers/processes.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import type {DiffReport} from '../../src/diff/diff.js'

/**
 * nsx diff on real processes: two in the same namespaces, one in new namespaces made by
 * unshare(1), two nsx containers with other limits and capabilities, a process and its own
 * saved report, and bad inputs (exit 2, one line), as diff(1) exits.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-diff-') : undefined

function diffJson(args: string[], env?: NodeJS.ProcessEnv): {status: number | null; out: DiffReport; stderr: string} {
  const r = nsx(['diff', '--json', ...args], env ? {env} : {})
  let out: DiffReport
  try {
    out = JSON.parse(r.stdout) as DiffReport
  } catch {
    assert.fail(`nsx diff --json ${args.join(' ')} printed no JSON (status ${r.status}): ${r.stdout}${r.stderr}`)
  }
  return {status: r.status, out, stderr: r.stderr}
}

async function sleeper(procs: TestProcesses, cmd: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const child = procs.spawn(cmd[0], [...cmd.slice(1)], {stdio: 'ignore', env: env ?? {PATH: process.env.PATH, DIFF_TEST: '1'}})
  await waitForComm(child.pid!, 'sleep')
  return child.pid!
}

test('two processes in the same namespaces: the same isolation, exit 0 and no output', async (t) => {
  if (!needRoot(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const a = await sleeper(procs, ['sleep', '1000'])
  const b = await sleeper(procs, ['sleep', '1000'])
  const r = nsx(['diff', String(a), String(b)])
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.equal(r.stdout, '')
  const j = diffJson([String(a), String(b)])
  assert.equal(j.status, 0)
  assert.equal(j.out.same, true)
  assert.deepEqual(j.out.differences, [])
  assert.equal(j.out.a.pid, a)
  assert.equal(j.out.b.source, 'process')
})

test('a process against one in new namespaces made by unshare: exit 1, exactly those types listed', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const a = await sleeper(procs, ['sleep', '1000'])
  // unshare execs sleep: the pid is the process in the new namespaces. The environment differs by one name.
  const b = await sleeper(procs, ['unshare', '--net', '--uts', '--ipc', '--', 'sleep', '1000'], {PATH: process.env.PATH, DIFF_TEST: '1', EXTRA_NAME: 'x'})
  const j = diffJson([String(a), String(b)])
  assert.equal(j.status, 1, j.stderr)
  assert.equal(j.out.same, false)
  const types = j.out.differences.filter((d) => d.area === 'namespaces').map((d) => d.item)
  assert.deepEqual(types.sort(), ['ipc', 'net', 'uts'])
  for (const d of j.out.differences.filter((d) => d.area === 'namespaces')) {
    assert.equal(d.change, 'changed')
    assert.match(String(d.a), /\(host\)$/, `A's ${d.item} namespace is the host's`)
    assert.doesNotMatch(String(d.b), /host/)
  }
  const env = j.out.differences.find((d) => d.area === 'environment')
  assert.deepEqual(env?.onlyB, ['EXTRA_NAME'])
  assert.deepEqual(env?.onlyA, [])
  // Nothing else differs: same user, cgroups, capabilities, mounts.
  assert.deepEqual([...new Set(j.out.differences.map((d) => d.area))].sort(), ['environment', 'namespaces'])

  const text = nsx(['diff', String(a), String(b)])
  assert.equal(text.status, 1)
  assert.match(text.stdout, new RegExp(`^--- process ${a} \\(sleep\\)\n\\+\\+\\+ process ${b} \\(sleep\\)\n`))
  assert.match(text.stdout, /^@@ namespaces @@$/m)
  assert.match(text.stdout, /^-net:\[\d+\] \(host\)$/m)
  assert.match(text.stdout, /^\+net:\[\d+\]$/m)
  assert.match(text.stdout, /^\+names: EXTRA_NAME$/m)
})

test('a process against its own saved inspect report: exit 0, either way round and from stdin', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  const dir = mkdtempSync(join(tmpdir(), 'nsx-diff-saved-'))
  t.after(async () => {
    await procs.killAll()
    rmSync(dir, {recursive: true, force: true})
  })
  // Its own mount namespace, so that no mount elsewhere on the host changes its mounts meanwhile.
  const pid = await sleeper(procs, ['unshare', '--mount', '--uts', '--', 'sleep', '1000'])
  const saved = nsx(['inspect', '--json', String(pid)])
  assert.equal(saved.status, 0, saved.stderr)
  const file = join(dir, 'saved.json')
  writeFileSync(file, saved.stdout)
  for (const args of [[String(pid), file], [file, String(pid)]]) {
    const j = diffJson(args)
    assert.equal(j.status, 0, JSON.stringify(j.out.differences))
    assert.deepEqual(j.out.notCompared, [])
  }
  const j = diffJson([file, String(pid)])
  assert.equal(j.out.a.source, 'file')
  assert.equal(j.out.a.pid, pid)
  const stdin = nsx(['diff', '-', String(pid)], {input: saved.stdout})
  assert.equal(stdin.status, 0, stdin.stdout + stdin.stderr)

  // A changed hostname in its uts namespace shows once the saved report is old.
  const changed = nsx(['enter', '-t', String(pid), '--uts', '--', 'hostname', 'nsx-diff-changed'])
  assert.equal(changed.status, 0, changed.stderr)
  const after = diffJson([file, String(pid)])
  assert.equal(after.status, 1)
  assert.deepEqual(after.out.differences.map((d) => [d.area, d.item, d.b]), [['hostname', 'hostname', 'nsx-diff-changed']])
})

test('two nsx containers with other limits and capabilities: exit 1, the differences listed', async (t) => {
  if (!needContainerTools(t) || !fx) return
  const f = fx
  const a = f.nsx(['run', '-d', '--name', 'diff-a', '-m', '64m', '--pids-limit', '50', '--layer', f.base, '--', 'sleep', '1000'])
  assert.equal(a.status, 0, a.stderr)
  const b = f.nsx(['run', '-d', '--name', 'diff-b', '-m', '96m', '--pids-limit', '70', '--cap-drop', 'NET_RAW', '--cap-add', 'SYS_PTRACE', '--layer', f.base, '--', 'sleep', '1000'])
  assert.equal(b.status, 0, b.stderr)
  t.after(() => f.nsx(['rm', '-f', 'diff-a', 'diff-b']))
  const j = diffJson(['diff-a', 'diff-b'], f.env)
  assert.equal(j.status, 1, j.stderr)
  assert.equal(j.out.a.source, 'container')
  assert.equal(j.out.a.container, 'diff-a')
  const get = (area: string, item: string) => j.out.differences.find((d) => d.area === area && d.item === item)
  assert.deepEqual([get('limits', 'memory')?.a, get('limits', 'memory')?.b], [String(64 << 20), String(96 << 20)])
  assert.deepEqual([get('limits', 'pids')?.a, get('limits', 'pids')?.b], ['50', '70'])
  assert.ok(get('limits', 'container memory'), 'the limits nsx set differ too')
  for (const set of ['effective', 'bounding']) {
    const d = get('capabilities', set)
    assert.deepEqual(d?.onlyA, ['CAP_NET_RAW'], `${set}: ${JSON.stringify(d)}`)
    assert.deepEqual(d?.onlyB, ['CAP_SYS_PTRACE'], `${set}: ${JSON.stringify(d)}`)
  }
  // Each container has namespaces of its own; the same image and settings give the same mounts apart from the root's layers.
  const ns = j.out.differences.filter((d) => d.area === 'namespaces').map((d) => d.item)
  for (const type of ['mnt', 'pid', 'net', 'uts', 'ipc']) assert.ok(ns.includes(type), `${type} differs: ${ns.join(' ')}`)

  const text = f.nsx(['diff', 'diff-a', 'diff-b'])
  assert.equal(text.status, 1)
  assert.match(text.stdout, /^--- container diff-a \(pid \d+, /)
  assert.match(text.stdout, /^@@ capabilities @@\n-effective: CAP_NET_RAW\n\+effective: CAP_SYS_PTRACE$/m)
  assert.match(text.stdout, /^-memory: 67108864\n\+memory: 100663296$/m)

  // Two runs of one configuration differ in their own namespaces, never in limits or capabilities.
  const same = diffJson(['diff-a', 'diff-a'], f.env)
  assert.equal(same.status, 0)
})

test('bad inputs: exit 2 with one line', async (t) => {
  if (!needRoot(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const {dir, 'not.json': notJson, 'other.json': notReport, 'list.json': list} = tempFiles(t, 'nsx-diff-bad-', {
    'not.json': 'hello\n',
    'other.json': '{"namespaces": []}\n',
    'list.json': '[1, 2]\n',
  })
  mkdirSync(join(dir, 'sub.json'))
  const p = String(await sleeper(procs, ['sleep', '1000']))
  const gone = nsx(['diff', p, '999999999'])
  assertOneLineError(gone, 2, /^nsx diff: .*999999999/)
  assertOneLineError(nsx(['diff', p, join(dir, 'missing.json')]), 2, /^nsx diff: cannot read .*missing\.json: no such file$/)
  assertOneLineError(nsx(['diff', p, notJson]), 2, /not an nsx inspect --json report \(not JSON\)$/)
  assertOneLineError(nsx(['diff', notReport, p]), 2, /not an nsx inspect --json report \(no pid, capabilities/)
  assertOneLineError(nsx(['diff', list, p]), 2, /not a JSON object/)
  assertOneLineError(nsx(['diff', p, join(dir, 'sub.json')]), 2, /is a directory$/)
  assertOneLineError(nsx(['diff', p, 'no-such-container-or-file']), 2, /^nsx diff: no such process, container or file: no-such-container-or-file$/)
  assertOneLineError(nsx(['diff']), 2, /^nsx diff: Missing 1 required arg/)
  // One argument is docker diff of a container: docker's message and exit status.
  assertOneLineError(nsx(['diff', p]), 1, new RegExp(`^nsx diff: No such container: ${p}$`))
  assertOneLineError(nsx(['diff', '-', '-'], {input: ''}), 2, /only one side/)
  // --json too: an error is still one line on stderr and nothing on stdout.
  const j = nsx(['diff', '--json', p, notJson])
  assertOneLineError(j, 2)
  assert.equal(j.stdout, '')
})
