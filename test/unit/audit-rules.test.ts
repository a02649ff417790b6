import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {recogniseCgroupPath, recogniseCgroups, recognisedKey} from '../../src/audit/recognise.js'
import {hostPathOf, RULES} from '../../src/audit/rules.js'
import {ruleStates} from '../../src/audit/settings.js'
import {readBaseline} from '../../src/audit/baseline.js'
import {parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {NsxError} from '../../src/cli/errors.js'
import {REPO} from '../helpers/env.js'

const ID = '0123456789abcdef'.repeat(4)
const UID = '1b2c3d4e-1111-2222-3333-444455556666'

test('runtimes are told from their cgroup paths', () => {
  const cases: Array<[string, string | undefined]> = [
    [`/system.slice/docker-${ID}.scope`, `docker:${ID}`],
    [`/docker/${ID}`, `docker:${ID}`],
    [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`, `kubernetes:${UID}/${ID}`],
    [`/kubepods/besteffort/pod${UID}/${ID}`, `kubernetes:${UID}/${ID}`],
    [`/kubepods.slice/kubepods-pod${UID.replace(/-/g, '_')}.slice/crio-${ID}.scope`, `kubernetes:${UID}/${ID}`],
    [`/kubepods.slice/kubepods-burstable.slice`, undefined],
    [`/machine.slice/libpod-${ID}.scope/container`, `podman:${ID}`],
    [`/machine.slice/libpod-conmon-${ID}.scope`, undefined],
    [`/system.slice/crio-${ID}.scope`, `crio:${ID}`],
    [`/system.slice/nerdctl-${ID}.scope`, `containerd:${ID}`],
    ['/nsx-web-0123abcd', 'nsx:web-0123abcd'],
    ['/process_api/nsx-my-box-deadbeef', 'nsx:my-box-deadbeef'],
    ['/system.slice/cron.service', 'systemd:cron.service'],
    ['/user.slice/user-1000.slice/session-2.scope', undefined],
    ['/', undefined],
  ]
  for (const [path, key] of cases) {
    const r = recogniseCgroupPath(path)
    assert.equal(r === undefined ? undefined : recognisedKey(r), key, path)
  }
  // A container in any hierarchy wins over a unit in another.
  assert.equal(recogniseCgroups(['/system.slice/cron.service', `/docker/${ID}`])?.kind, 'docker')
  assert.equal(recogniseCgroups(['/system.slice/cron.service', '/'])?.kind, 'systemd')
})

test('every rule has an id, references, and a row in docs/audit.md', () => {
  const doc = readFileSync(join(REPO, 'docs', 'audit.md'), 'utf8')
  const ids = new Set<string>()
  for (const r of RULES) {
    assert.match(r.id, /^[a-z][a-z-]+$/)
    assert.ok(!ids.has(r.id), `duplicate rule ${r.id}`)
    ids.add(r.id)
    for (const c of r.cis) assert.match(c, /^5\.\d+$/, `${r.id}: CIS section 5 ids only`)
    const row = doc.split('\n').find((l) => l.includes(`\`${r.id}\``) && l.startsWith('|'))
    assert.ok(row, `docs/audit.md has no row for ${r.id}`)
    assert.ok(row.includes(`| ${r.severity} |`), `docs/audit.md: ${r.id}'s severity`)
    assert.ok(row.includes(`| ${r.cis.join(', ') || '-'} |`), `docs/audit.md: ${r.id}'s CIS ids`)
  }
})

test('a bind mount is traced to its host path through the host mount table', () => {
  const host = parseMountInfo(['1 0 8:1 / / rw - ext4 /dev/sda1 rw', '2 1 0:22 / /run rw - tmpfs tmpfs rw', '3 1 0:5 /k /var/lib/kubelet rw - ext4 /dev/sdb rw'].join('\n'))
  const ctr = parseMountInfo(
    ['10 9 0:50 / / rw - overlay overlay rw', '11 10 8:1 /etc /host-etc ro - ext4 /dev/sda1 rw', '12 10 0:22 /docker.sock /var/run/docker.sock rw - tmpfs tmpfs rw', '13 10 0:5 /k/pods /kp rw - ext4 /dev/sdb rw'].join('\n'),
  )
  assert.equal(hostPathOf(ctr[0], host), undefined)
  assert.equal(hostPathOf(ctr[1], host), '/etc')
  assert.equal(hostPathOf(ctr[2], host), '/run/docker.sock')
  assert.equal(hostPathOf(ctr[3], host), '/var/lib/kubelet/pods')
})

test('--rules re-grades and disables; bad files are one clear error with status 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-audit-rules-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const file = join(dir, 'rules.json')
  writeFileSync(file, JSON.stringify({'*': 'low', 'no-pids-limit': 'off', privileged: {severity: 'medium'}}))
  const states = new Map(ruleStates(file).map((s) => [s.id, s]))
  assert.deepEqual(states.get('no-pids-limit'), {id: 'no-pids-limit', severity: 'low', enabled: false})
  assert.deepEqual(states.get('privileged'), {id: 'privileged', severity: 'medium', enabled: true})
  assert.equal(states.get('no-seccomp')?.severity, 'low')
  for (const bad of ['{"no-such-rule": "off"}', '{"privileged": "critical"}', '[1]', 'not json', '{"privileged": {"level": 1}}']) {
    writeFileSync(file, bad)
    assert.throws(() => ruleStates(file), (e: unknown) => e instanceof NsxError && e.exitCode === 2 && !e.message.includes('\n'), bad)
  }
  assert.throws(() => ruleStates(join(dir, 'absent.json')), /no such file/)
  // A directory is said in words, not as node's "EISDIR: illegal operation on a directory, read".
  assert.throws(() => ruleStates(dir), (e: unknown) => /^--rules .*: is a directory$/.test((e as Error).message))
})

test('--baseline reads a saved report or --watch lines', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-audit-base-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const file = join(dir, 'b.json')
  const host = {hostname: 'h', machineId: null, bootId: null, kernel: '6.1'}
  const finding = (fingerprint: string) => ({rule: 'privileged', severity: 'high', workload: 'host', pids: [1], reason: 'r', evidence: [], cis: [], pss: [], fingerprint})
  const workload = {key: 'nsx:a-0123abcd', kind: 'nsx', id: '0123abcd', name: 'a', cgroup: null, pids: [1], pid: 1, command: 'x', namespaces: [], judged: true}
  const report = {schemaVersion: 1, time: 't', host, user: {uid: 0, root: true}, rules: [], workloads: [workload], findings: [finding('aaaa'), finding('bbbb')], unchecked: [], summary: {processes: 1, workloads: 1, findings: {low: 0, medium: 0, high: 2}}}
  writeFileSync(file, JSON.stringify(report))
  assert.deepEqual([...readBaseline(file)], ['aaaa', 'bbbb'])
  const event = (fp: string) => JSON.stringify({schemaVersion: 1, time: 't', host: 'h', workload, finding: finding(fp)})
  writeFileSync(file, `${event('cccc')}\n${event('dddd')}\n`)
  assert.deepEqual([...readBaseline(file)], ['cccc', 'dddd'])
  writeFileSync(file, '{"x": 1}\n')
  assert.throws(() => readBaseline(file), (e: unknown) => e instanceof NsxError && e.exitCode === 2 && /^--baseline /.test(e.message))
})
