import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {chownSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, NSX_BIN, run} from '../helpers/env.js'
import {buildTar} from '../helpers/images.js'
import {writeFileSync} from 'node:fs'
import {containerToolsPresent, Fixture, hostMountsMentioning, makeFixture, needContainerTools} from '../helpers/container.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-rl-') : undefined

/** nsx run as an ordinary user (uid/gid 65534, via setpriv) with a store and a layer of its own. */
function asUser(dir: string, args: string[]) {
  return run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'env', `NSX_ROOT=${dir}/store`, `HOME=${dir}`, 'NO_COLOR=1', process.execPath, NSX_BIN, 'run', ...args])
}

function userDir(f: Fixture): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-rootless-'))
  after(() => rmSync(dir, {recursive: true, force: true}))
  cpSync(f.base, join(dir, 'layer'), {recursive: true, verbatimSymlinks: true})
  run('chown', ['-R', '65534:65534', dir])
  chownSync(dir, 65534, 65534)
  return dir
}

test('rootless: an ordinary user runs a container whose root is their own uid, in new namespaces, and nothing is left', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const dir = userDir(fx!)
  const r = asUser(dir, ['--rm', '--name', 'rl', '--layer', join(dir, 'layer'), '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map; hostname; out=$(ps -o pid,comm); echo "$out" | grep -c .; probe mount; echo w > /written && cat /written; cat /dev/null; echo ok'])
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines[0], '0', 'root inside')
  assert.deepEqual(lines[1].trim().split(/\s+/), ['0', '65534', '1'], 'mapped to the user only')
  assert.equal(lines[2], 'rl')
  // ps runs alone in a command substitution: grep counting in the same pipeline was listed or not
  // depending on whether the shell had forked it before ps read /proc.
  assert.equal(lines[3], '4', 'the header, the init, the shell and ps: no host process')
  assert.equal(lines[4], 'mount errno=EPERM', 'no CAP_SYS_ADMIN (dropped from the bounding set)')
  assert.deepEqual(lines.slice(5), ['w', 'ok'])
  assert.deepEqual(readdirSync(join(dir, 'store', 'run')), [])
  assert.deepEqual(hostMountsMentioning(dir), [])
})

test('--userns as root: container root is host uid 100000; the layers, idmapped, look owned by it; its files land as 100000 on the host', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const vol = mkdtempSync(join(tmpdir(), 'nsx-userns-vol-'))
  after(() => rmSync(vol, {recursive: true, force: true}))
  chownSync(vol, 100000, 100000)
  const r = f.nsx(['run', '--rm', '--userns', '0:100000:65536', '--layer', f.base, '-v', `${vol}:/vol`, '--', 'sh', '-c',
    'id -u; cat /proc/self/uid_map; stat -c "%u %g" /bin/busybox /etc/motd; echo changed > /etc/motd && cat /etc/motd; echo v > /vol/made; probe mount'])
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines[0], '0')
  assert.deepEqual(lines[1].trim().split(/\s+/), ['0', '100000', '65536'])
  assert.deepEqual(lines.slice(2, 4), ['0 0', '0 0'], 'host-root files look owned by container root')
  assert.equal(lines[4], 'changed', 'container root can change an image file (copied up)')
  assert.equal(lines[5], 'mount errno=EPERM')
  const st = run('stat', ['-c', '%u %g', join(vol, 'made')])
  assert.equal(st.stdout.trim(), '100000 100000', 'created as the mapped uid on the host')
  assert.deepEqual(readdirSync(join(f.store, 'run')), [])
  assert.deepEqual(hostMountsMentioning(f.store), [])
})

test('rootless: limits and --userns need root; said in one line', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const dir = userDir(fx!)
  assertOneLineError(asUser(dir, ['-m', '64m', '--layer', join(dir, 'layer'), '--', 'true']), 125, /limits need root/)
  assertOneLineError(asUser(dir, ['--userns', '0:100000:65536', '--layer', join(dir, 'layer'), '--', 'true']), 125, /--userns needs root/)
  assertOneLineError(fx!.nsx(['run', '--userns', '0:100000', '--layer', fx!.base, '--', 'true']), 125, /invalid --userns '0:100000'/)
})

test('rootless: a layer with device nodes is refused in one line, nothing run, nothing left', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const dir = userDir(fx!)
  const tar = join(dir, 'devices.tar')
  writeFileSync(tar, buildTar([{name: 'dev/', type: 'dir'}, {name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0}]))
  chownSync(tar, 65534, 65534)
  const r = asUser(dir, ['--layer', join(dir, 'layer'), '--layer', tar, '--', 'touch', '/ran'])
  assertOneLineError(r, 125, /device/)
  // Refused while importing the layer: no container was even prepared.
  assert.ok(!existsSync(join(dir, 'store', 'run')) || readdirSync(join(dir, 'store', 'run')).length === 0)
  assert.deepEqual(hostMountsMentioning(dir), [])
})
