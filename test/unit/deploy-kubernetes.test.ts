import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseAllDocuments} from 'yaml'
import {REPO} from '../helpers/env.js'

/**
 * deploy/kubernetes/: the DaemonSet manifest parses as YAML, is a DaemonSet of the shape its
 * README explains (host pid namespace, read-only host mounts, capabilities dropped but
 * SYS_PTRACE, nsx audit --format json --watch), and every nsx flag it and the README's
 * commands use is one the command has (read from the oclif manifest that npm run build writes).
 */

const DIR = join(REPO, 'deploy', 'kubernetes')

interface Flag {
  char?: string
  type: 'boolean' | 'option'
}
const commands = (JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, Flag>}>}).commands

/** Check an nsx command line's flags against the command's own (nsx audit, nsx audit merge). */
function checkFlags(argv: readonly string[], where: string): void {
  assert.equal(argv[0], 'nsx', where)
  const id = argv[1] === 'audit' && argv[2] === 'merge' ? 'audit:merge' : argv[1]
  const cmd = commands[id]
  assert.ok(cmd, `${where}: no command nsx ${id.replace(':', ' ')}`)
  const rest = argv.slice(id.split(':').length + 1)
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]
    if (word === '--') break
    if (!word.startsWith('-') || word === '-') continue
    const [name, inline] = word.startsWith('--') ? word.slice(2).split('=', 2) : [word.slice(1)]
    const flag = word.startsWith('--') ? cmd.flags[name] : Object.values(cmd.flags).find((f) => f.char === name)
    assert.ok(flag, `${where}: nsx ${id.replace(':', ' ')} has no flag ${word}`)
    if (flag.type === 'option' && inline === undefined) i++ // its value
  }
}

test('the DaemonSet manifest parses, and is a DaemonSet that runs nsx audit --format json --watch with the least it needs', () => {
  const docs = parseAllDocuments(readFileSync(join(DIR, 'nsx-audit-daemonset.yaml'), 'utf8'))
  for (const d of docs) assert.deepEqual(d.errors, [], 'YAML errors')
  const objects = docs.map((d) => d.toJS() as Record<string, any>) // eslint-disable-line @typescript-eslint/no-explicit-any
  const ns = objects.find((o) => o.kind === 'Namespace')
  const ds = objects.find((o) => o.kind === 'DaemonSet')
  assert.ok(ns && ds, 'a Namespace and a DaemonSet')
  assert.equal(ds.apiVersion, 'apps/v1')
  assert.equal(ds.metadata.namespace, ns.metadata.name)
  assert.match(ds.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
  // The selector matches the pod template's labels (the API server refuses a DaemonSet otherwise).
  const labels = ds.spec.template.metadata.labels as Record<string, string>
  for (const [k, v] of Object.entries(ds.spec.selector.matchLabels as Record<string, string>)) assert.equal(labels[k], v, `selector ${k}`)
  const pod = ds.spec.template.spec
  assert.equal(pod.hostPID, true)
  assert.equal(pod.containers.length, 1)
  const c = pod.containers[0]
  assert.equal(typeof c.image, 'string')
  assert.deepEqual(c.command.slice(0, 2), ['nsx', 'audit'])
  for (const w of ['--format', 'json', '--watch']) assert.ok(c.command.includes(w), `command has ${w}`)
  checkFlags(c.command, 'nsx-audit-daemonset.yaml')
  // Host paths mounted read-only, each volume used.
  const volumes = new Map((pod.volumes as {name: string; hostPath?: {path: string}}[]).map((v) => [v.name, v]))
  const mounted = (c.volumeMounts as {name: string; mountPath: string; readOnly?: boolean}[])
  assert.ok(mounted.length > 0)
  for (const m of mounted) {
    assert.ok(volumes.has(m.name), `volume ${m.name} is defined`)
    assert.equal(m.readOnly, true, `${m.mountPath} is mounted read-only`)
  }
  assert.ok(mounted.some((m) => volumes.get(m.name)?.hostPath?.path === '/sys'), 'the host /sys is mounted')
  const env = new Map((c.env as {name: string; value: string}[]).map((e) => [e.name, e.value]))
  assert.equal(env.get('NSX_SYS_ROOT'), mounted.find((m) => volumes.get(m.name)?.hostPath?.path === '/sys')?.mountPath)
  // The least capabilities, as measured in the README: every one dropped but SYS_PTRACE.
  const sc = c.securityContext
  assert.equal(sc.privileged, false)
  assert.equal(sc.allowPrivilegeEscalation, false)
  assert.equal(sc.readOnlyRootFilesystem, true)
  assert.deepEqual(sc.capabilities.drop, ['ALL'])
  assert.deepEqual(sc.capabilities.add, ['SYS_PTRACE'])
  assert.equal(sc.runAsUser, 0)
})

test('the nsx commands in deploy/kubernetes/README.md name only flags their command has', () => {
  const text = readFileSync(join(DIR, 'README.md'), 'utf8')
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].replace(/\\\n\s*/g, ''))
  let n = 0
  for (const block of blocks) {
    for (const line of block.split('\n')) {
      for (const part of line.replace(/#.*$/, '').split(/\||&&|;|>/)) {
        const words = part.trim().split(/\s+/)
        const at = words.indexOf('nsx')
        if (at < 0 || words[at + 1] === undefined) continue
        checkFlags(words.slice(at), `README.md: ${line.trim()}`)
        n++
      }
    }
  }
  assert.ok(n >= 3, `only ${n} nsx commands found in the README's sh blocks`)
})
