import {after, test, TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, nsxJson, run} from '../helpers/env.js'
import {buildBusyboxOci, umociUnpack} from '../helpers/images.js'
import {waitFor} from '../helpers/processes.js'

/**
 * nsx commit of real containers (kept by nsx run, exited or running): the changes as a layer
 * (added, changed and deleted files), -m/-a in the history, -c on the config; the image read
 * back by nsx run and, through nsx save and skopeo, unpacked by umoci.
 */

const work = mkdtempSync(join(tmpdir(), 'nsx-commit-test-'))
after(() => rmSync(work, {recursive: true, force: true}))

let fixture: string | undefined
function setup(t: TestContext): NodeJS.ProcessEnv | undefined {
  if (!needRoot(t) || !needCommand(t, 'umoci', 'umoci') || !needCommand(t, 'skopeo', 'skopeo') || !needCommand(t, 'busybox', 'busybox-static')) return undefined
  fixture ??= buildBusyboxOci(join(work, 'fixture'))
  const d = mkdtempSync(join(work, 'store-'))
  const e = {NSX_ROOT: d}
  t.after(() => {
    nsx(['rm', '-f', 'nsx-commit-a', 'nsx-commit-b'], {env: e})
    rmSync(d, {recursive: true, force: true})
  })
  assert.equal(nsx(['load', `${fixture}:latest`], {env: e}).status, 0)
  return e
}

test('commit an exited container: its changes, message, author and -c changes make the image', async (t) => {
  const e = setup(t)
  if (!e) return
  const r = nsx(['run', '--name', 'nsx-commit-a', 'oci:latest', '/bin/sh', '-c', 'echo changed > /etc/changed; rm -r /etc/old; mkdir -p /new && echo n > /new/f; echo discarded > /etc/hostname'], {env: e})
  assert.equal(r.status, 0, r.stderr)
  const c = nsx(['commit', '-m', 'the change', '-a', 'Alice <alice@example.com>', '-c', 'CMD ["/bin/sh", "-c", "read a < /etc/changed; read b < /new/f; test -e /etc/old || echo old-gone; echo $a $b $X"]', '-c', 'ENV X=1', '-c', 'EXPOSE 8080', 'nsx-commit-a', 'committed:1'], {env: e})
  assert.equal(c.status, 0, c.stderr)
  assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/)
  const out = nsx(['run', '--rm', 'committed:1'], {env: e})
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stdout, 'old-gone\nchanged n 1\n')
  const h = nsxJson<{history: {createdBy: string; comment?: string; layer?: string}[]}>(['history', 'committed:1'], {env: e})
  assert.equal(h.history[0].comment, 'the change')
  assert.match(h.history[0].createdBy, /^\/bin\/sh -c echo changed > \/etc\/changed/)
  assert.ok(h.history[0].layer)
  const id = c.stdout.trim()
  const cfg = JSON.parse(readFileSync(join(e.NSX_ROOT!, 'images', 'sha256', id.slice(7), 'config.json'), 'utf8'))
  assert.equal(cfg.author, 'Alice <alice@example.com>')
  assert.ok(cfg.config.Env.includes('X=1'))
  assert.ok(cfg.config.Env.includes('FOO=bar'), 'the image\'s Env kept')
  assert.deepEqual(Object.keys(cfg.config.ExposedPorts), ['8080/tcp'])
  assert.equal(cfg.rootfs.diff_ids.length, 4)
  // Another tool sees the same tree: saved by nsx, converted by skopeo, unpacked by umoci.
  const archive = join(work, 'committed.tar')
  assert.equal(nsx(['save', '-o', archive, 'committed:1'], {env: e}).status, 0)
  const oci = join(work, 'committed-oci')
  assert.equal(run('skopeo', ['copy', '-q', `docker-archive:${archive}`, `oci:${oci}:t`]).status, 0)
  const rootfs = umociUnpack(oci, 't', join(work, 'committed-bundle'))
  assert.equal(readFileSync(join(rootfs, 'etc/changed'), 'utf8'), 'changed\n')
  // /etc/hostname was the container's own (a bind mount), not part of its changes.
  assert.equal(readFileSync(join(rootfs, 'etc/hostname'), 'utf8'), 'probe\n')
  for (const p of ['etc/hosts', 'etc/resolv.conf', 'proc', 'sys', 'dev']) assert.ok(!existsSync(join(rootfs, p)), p)
  assert.equal(readFileSync(join(rootfs, 'new/f'), 'utf8'), 'n\n')
  assert.ok(!existsSync(join(rootfs, 'etc/old')))
  // Nothing changed in the container since: a second commit adds an empty history entry, no layer.
  const again = nsxJson<{layer?: string}>(['commit', 'nsx-commit-a', 'committed:2'], {env: e})
  assert.ok(again.layer, 'the same changes make the same layer again')
  // Bad input: one line each, nothing recorded.
  assertOneLineError(nsx(['commit', 'no-such-container', 'x:1'], {env: e}), 1, /No such container: no-such-container/)
  assertOneLineError(nsx(['commit', '-c', 'RUN true', 'nsx-commit-a', 'x:1'], {env: e}), 1, /--change supports .* not RUN/)
  assertOneLineError(nsx(['commit', 'nsx-commit-a', 'Bad:Name:x'], {env: e}), 1, /invalid reference/)
})

test('commit a running container: it keeps running; the image has what it wrote', async (t) => {
  const e = setup(t)
  if (!e) return
  const r = nsx(['run', '-d', '--name', 'nsx-commit-b', 'oci:latest', '/bin/sh', '-c', 'echo live > /live; exec sleep 1000'], {env: e})
  assert.equal(r.status, 0, r.stderr)
  // Its upper directory shows the write (the fixture has no cat for nsx exec).
  const id = readlinkSync(join(e.NSX_ROOT!, 'names', 'nsx-commit-b'))
  await waitFor(() => existsSync(join(e.NSX_ROOT!, 'run', id, 'upper', 'live')), 10000, 'the container to write /live')
  const c = nsx(['commit', 'nsx-commit-b', 'live:1'], {env: e})
  assert.equal(c.status, 0, c.stderr)
  const ps = nsxJson<{name: string; status: string}[] | {containers: {name: string; status: string}[]}>(['ps'], {env: e})
  assert.match(JSON.stringify(ps), /nsx-commit-b/, 'still running')
  const out = nsx(['run', '--rm', 'live:1', '/bin/sh', '-c', 'read x < /live; echo $x'], {env: e})
  assert.equal(out.stdout, 'live\n')
})
