import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {needCommand, run} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {DEFAULT_CAPS, MASKED_PATHS, READONLY_PATHS} from '../../src/container/spec.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-parity-') : undefined

// What a container sees of its own isolation; the same script under runc and under nsx run.
const SCRIPT = [
  'hostname',
  'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status | grep -v Seccomp',
  'for p in MASKED; do printf "%s " $p; probe read $p; done',
  'for p in READONLY; do printf "%s " $p; probe write $p; done',
  'probe mount',
  'probe fds | sed "s/ 1=.*//"',
  'ls /dev | sort | tr "\\n" " "; echo',
].join('; ')

/** A runc bundle on the fixture's root, with docker's capabilities, as `runc spec` writes it otherwise. */
let bundles = 0
function runcBundle(f: Fixture, script: string): string {
  const bundle = join(f.dir, `bundle${++bundles}`)
  mkdirSync(bundle, {recursive: true})
  cpSync(f.base, join(bundle, 'rootfs'), {recursive: true, verbatimSymlinks: true})
  const r = run('runc', ['spec'], {cwd: bundle})
  assert.equal(r.status, 0, r.stderr)
  const c = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'))
  c.process.terminal = false
  c.process.args = ['sh', '-c', script]
  c.process.env = ['PATH=/bin']
  delete c.process.rlimits
  const caps = DEFAULT_CAPS
  c.process.capabilities = {bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: []}
  c.hostname = 'parity'
  c.root.readonly = false
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(c))
  return bundle
}

test("runc's default masked and read-only paths are all nsx run's too", (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'runc', 'runc')) return
  const f = fx!
  const c = JSON.parse(readFileSync(join(runcBundle(f, 'true'), 'config.json'), 'utf8'))
  for (const p of c.linux.maskedPaths as string[]) assert.ok(MASKED_PATHS.includes(p), `${p} masked by runc`)
  for (const p of c.linux.readonlyPaths as string[]) assert.ok(READONLY_PATHS.includes(p), `${p} read-only under runc`)
})

test('a container sees the same isolation under nsx run as under runc run with docker capabilities', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'runc', 'runc')) return
  const f = fx!
  // runc's own lists (nsx masks a few more, as docker does: /proc/interrupts, powercap).
  const spec = JSON.parse(readFileSync(join(runcBundle(f, 'true'), 'config.json'), 'utf8'))
  const script = SCRIPT.replace('MASKED', spec.linux.maskedPaths.join(' ')).replace('READONLY', spec.linux.readonlyPaths.join(' '))
  const bundle = runcBundle(f, script)
  const theirs = run('runc', ['run', '-b', bundle, `nsx-parity-${process.pid}`])
  assert.equal(theirs.status, 0, theirs.stderr)
  // -i: runc passes stdin through, as nsx run does with -i.
  const ours = f.nsx(['run', '-i', '--hostname', 'parity', '--layer', f.base, '--', 'sh', '-c', script], {input: ''})
  assert.equal(ours.status, 0, ours.stderr)
  // stdin: whatever each runner passes (a pipe, a socket), its inode aside.
  const norm = (out: string) => out.replace(/(pipe|socket):\[\d+\]/, 'a pipe')
  assert.equal(norm(ours.stdout), norm(theirs.stdout))
})
