import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, chownSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, NSX_BIN} from '../helpers/env.js'
import {containerToolsPresent, Fixture, hostMountsMentioning, makeFixture, needContainerTools} from '../helpers/container.js'
import {buildTar} from '../helpers/images.js'

/**
 * nsx cp (docker cp) out of and into containers, stopped and running: docker's rules for
 * directories, `/.`, files over files, -a, -L and `-`; every path resolved inside the container's
 * root, so symlinks of the container (absolute, with .., to /) and a tar's own links never reach
 * the host's files (its /etc/shadow is checked unchanged); docker's errors; nothing left mounted.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-cp-') : undefined
const SHADOW = '/etc/shadow'
// What this file writes anywhere: none of it may reach the host's /etc/shadow. (Not a checksum of
// the whole file: the suite's unprivileged-user test adds and removes a user, and an administrator may too.)
const WRITTEN = ['from the host\n', "the container's shadow\n", 'inside\n', 'inside too\n']
const shadowWritten = () => (existsSync(SHADOW) ? WRITTEN.filter((w) => readFileSync(SHADOW, 'utf8').includes(w)) : ['(absent)'])

before(() => {
  if (!fx) return
  assert.deepEqual(shadowWritten(), [], "the host's /etc/shadow holds none of this test's words before it runs")
  const b = fx.base
  mkdirSync(join(b, 'data', 'sub'), {recursive: true})
  writeFileSync(join(b, 'data', 'a'), 'a from the image\n')
  writeFileSync(join(b, 'data', 'sub', 'b'), 'b from the image\n')
  writeFileSync(join(b, 'etc', 'shadow'), 'the container\'s shadow\n')
  symlinkSync('/etc/shadow', join(b, 'evil-abs'))
  symlinkSync('../../../../../../../../etc/shadow', join(b, 'evil-rel'))
  symlinkSync('/', join(b, 'rootlink'))
  // A link to a host path that exists only on the host: inside the container it dangles.
  writeFileSync(join(fx.dir, 'host-secret'), 'host only\n')
  symlinkSync(join(fx.dir, 'host-secret'), join(b, 'hostlink'))
  mkdirSync(join(fx.dir, 'src', 'tree', 'deep'), {recursive: true})
  writeFileSync(join(fx.dir, 'src', 'file'), 'from the host\n')
  writeFileSync(join(fx.dir, 'src', 'tree', 'deep', 'x'), 'x\n')
  chownSync(join(fx.dir, 'src', 'tree', 'deep', 'x'), 1234, 4321)
})

after(() => {
  if (fx) assert.deepEqual(shadowWritten(), [], 'nothing written to the host\'s /etc/shadow')
  if (fx) assert.ok(!lstatSync(SHADOW).isSymbolicLink(), "the host's /etc/shadow is still a file")
  if (fx) assert.ok(!existsSync('/etc/evil-written'), 'nothing written to the host\'s /etc')
})

function out(f: Fixture, name: string): string {
  const d = join(f.dir, 'out', name)
  mkdirSync(d, {recursive: true})
  return d
}

const read = (p: string) => readFileSync(p, 'utf8')

function copyOutChecks(f: Fixture, ctr: string, tag: string): void {
  const o = out(f, tag)
  const ok = (args: string[]) => {
    const r = f.nsx(['cp', ...args])
    assert.equal(r.status, 0, `nsx cp ${args.join(' ')}: ${r.stderr}`)
    return r
  }
  // A file into a directory; a directory to a missing path takes its name; /. copies the content; a directory into a directory.
  ok([`${ctr}:/data/a`, `${o}/`])
  assert.equal(read(join(o, 'a')), 'a from the image\n')
  ok([`${ctr}:/data`, join(o, 'newdir')])
  assert.equal(read(join(o, 'newdir', 'sub', 'b')), 'b from the image\n')
  mkdirSync(join(o, 'existing'))
  ok([`${ctr}:/data/.`, join(o, 'existing')])
  assert.equal(read(join(o, 'existing', 'a')), 'a from the image\n')
  ok([`${ctr}:/data`, join(o, 'existing')])
  assert.equal(read(join(o, 'existing', 'data', 'sub', 'b')), 'b from the image\n')
  // A file over a file; a directory over a file: docker's error.
  writeFileSync(join(o, 'file'), 'old\n')
  ok([`${ctr}:/data/a`, join(o, 'file')])
  assert.equal(read(join(o, 'file')), 'a from the image\n')
  assertOneLineError(f.nsx(['cp', `${ctr}:/data`, join(o, 'file')]), 1, /cannot copy directory/)
  // Symlinks of the container: copied as links; followed (-L, or inside a path) within the container's root only.
  ok([`${ctr}:/evil-abs`, join(o, 'link')])
  assert.equal(readlinkSync(join(o, 'link')), '/etc/shadow')
  ok(['-L', `${ctr}:/evil-abs`, join(o, 'abs')])
  assert.equal(read(join(o, 'abs')), 'the container\'s shadow\n')
  ok(['-L', `${ctr}:/evil-rel`, join(o, 'rel')])
  assert.equal(read(join(o, 'rel')), 'the container\'s shadow\n')
  ok([`${ctr}:/rootlink/../../rootlink/etc/shadow`, join(o, 'via-root')])
  assert.equal(read(join(o, 'via-root')), 'the container\'s shadow\n')
  assertOneLineError(f.nsx(['cp', '-L', `${ctr}:/hostlink`, join(o, 'secret')]), 1, new RegExp(`^nsx cp: No such container:path: ${ctr}:/hostlink$`))
  assert.ok(!existsSync(join(o, 'secret')))
  // - : a tar on stdout, entries named from the path's base.
  const tar = spawnSync('sh', ['-c', '"$0" cp "$1" - | tar -t', NSX_BIN, `${ctr}:/data`], {env: f.env, encoding: 'utf8'})
  assert.equal(tar.status, 0, tar.stderr)
  assert.deepEqual(tar.stdout.split('\n').filter(Boolean).sort(), ['data/', 'data/a', 'data/sub/', 'data/sub/b'])
  assertOneLineError(f.nsx(['cp', `${ctr}:/no/such/file`, o]), 1, new RegExp(`^nsx cp: No such container:path: ${ctr}:/no/such/file$`))
}

test('nsx cp out of a container, stopped then running: docker\'s rules, links resolved inside the container', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'cp-out']))
  assert.equal(f.nsx(['create', '--name', 'cp-out', '--layer', f.base, 'sleep', '1000']).status, 0)
  copyOutChecks(f, 'cp-out', 'stopped')
  assert.deepEqual(hostMountsMentioning(f.store), [], 'the stopped container\'s root is mounted only in a namespace of the copy\'s own')
  const s = f.nsx(['start', 'cp-out'])
  assert.equal(s.status, 0, s.stderr)
  copyOutChecks(f, 'cp-out', 'running')
})

function copyInChecks(f: Fixture, ctr: string, see: (path: string) => string): void {
  const src = join(f.dir, 'src')
  const ok = (args: string[], input?: Buffer) => {
    const r = f.nsx(['cp', ...args], {input})
    assert.equal(r.status, 0, `nsx cp ${args.join(' ')}: ${r.stderr}`)
  }
  ok([join(src, 'file'), `${ctr}:/tmp`])
  assert.equal(see('/tmp/file'), 'from the host\n')
  ok([join(src, 'file'), `${ctr}:/tmp/renamed`])
  assert.equal(see('/tmp/renamed'), 'from the host\n')
  ok([join(src, 'tree'), `${ctr}:/newdir`])
  assert.equal(see('/newdir/deep/x'), 'x\n')
  ok([`${join(src, 'tree')}/.`, `${ctr}:/data`])
  assert.equal(see('/data/deep/x'), 'x\n')
  assert.equal(see('/data/a'), 'a from the image\n')
  // Owners: root's without -a, the source's with it.
  assert.equal(see('stat:/newdir/deep/x'), '0:0')
  ok(['-a', join(src, 'tree'), `${ctr}:/kept`])
  assert.equal(see('stat:/kept/deep/x'), '1234:4321')
  // A link of the container as the destination: followed inside the container (its /etc/shadow is replaced, not the host's).
  ok([join(src, 'file'), `${ctr}:/evil-abs`])
  assert.equal(see('/etc/shadow'), 'from the host\n')
  ok([join(src, 'tree'), `${ctr}:/rootlink/../../etc/viaroot`])
  assert.equal(see('/etc/viaroot/deep/x'), 'x\n')
  // A tar on stdin whose own links point out: resolved inside the container's root too.
  ok(['-', `${ctr}:/tmp`], buildTar([
    {name: 'esc', type: 'symlink', linkname: '/'},
    {name: 'esc/etc/evil-written', data: 'inside\n'},
    {name: 'up', type: 'symlink', linkname: '../../../../../../etc'},
    {name: 'up/evil-written2', data: 'inside too\n'},
  ]))
  assert.equal(see('/etc/evil-written'), 'inside\n')
  assert.equal(see('/etc/evil-written2'), 'inside too\n')
  assert.ok(!existsSync('/etc/evil-written2'))
  assertOneLineError(f.nsx(['cp', '-', `${ctr}:/tmp`], {input: buildTar([{name: '../../escape', data: 'x'}])}), 1, /'\.\.'/)
  // A directory is not replaced by a file (docker's noOverwriteDirNonDir), nor a file by a directory.
  assertOneLineError(f.nsx(['cp', '-', `${ctr}:/`], {input: buildTar([{name: 'data', data: 'not a dir'}])}), 1, /cannot overwrite directory/)
  assertOneLineError(f.nsx(['cp', join(src, 'tree'), `${ctr}:/tmp/file`]), 1, /cannot copy directory/)
  assertOneLineError(f.nsx(['cp', '-', `${ctr}:/tmp/file`], {input: buildTar([{name: 'x', data: 'x'}])}), 1, new RegExp(`destination "${ctr}:/tmp/file" must be a directory`))
  assertOneLineError(f.nsx(['cp', join(src, 'file'), `${ctr}:/no/such/dir/x`]), 1, new RegExp(`^nsx cp: No such container:path: ${ctr}:/no/such/dir$`))
}

test('nsx cp into a container, stopped then running: docker\'s rules, -a, a tar on stdin, no way out of the root', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'cp-in-s', 'cp-in-r']))
  assert.equal(f.nsx(['create', '--name', 'cp-in-s', '--layer', f.base, 'sleep', '1000']).status, 0)
  copyInChecks(f, 'cp-in-s', (p) => seeByStart(f, 'cp-in-s', p))
  assert.deepEqual(hostMountsMentioning(f.store), [])
  const r = f.nsx(['run', '-d', '--name', 'cp-in-r', '--layer', f.base, 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  copyInChecks(f, 'cp-in-r', (p) => seeByExec(f, 'cp-in-r', p))
})

/** What the container sees at PATH (or `stat:PATH`: its uid:gid), by nsx exec. */
function seeByExec(f: Fixture, ctr: string, p: string): string {
  const cmd = p.startsWith('stat:') ? `stat -c %u:%g ${p.slice(5)}` : `cat ${p}`
  const r = f.nsx(['exec', ctr, 'sh', '-c', cmd])
  assert.equal(r.status, 0, r.stderr)
  return p.startsWith('stat:') ? r.stdout.trim() : r.stdout
}

/** The same for a stopped container: a one-off run of a copy of it would change it, so it is started, read, stopped. */
function seeByStart(f: Fixture, ctr: string, p: string): string {
  assert.equal(f.nsx(['start', ctr]).status, 0)
  try {
    return seeByExec(f, ctr, p)
  } finally {
    assert.equal(f.nsx(['stop', '-t', '0', ctr]).status, 0)
  }
}

test('nsx cp of a stopped container reaches its volumes; docker\'s errors for a missing container or two hosts', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => {
    f.nsx(['rm', '-f', '-v', 'cp-vol', 'cp-ro'])
    f.nsx(['volume', 'rm', '-f', 'cpvol'])
  })
  assert.equal(f.nsx(['create', '--name', 'cp-vol', '-v', 'cpvol:/vol', '--layer', f.base, 'true']).status, 0)
  const r = f.nsx(['cp', join(f.dir, 'src', 'file'), 'cp-vol:/vol/in-volume'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(read(join(f.store, 'volumes', 'cpvol', '_data', 'in-volume')), 'from the host\n')
  assert.ok(lstatSync(join(f.store, 'run')).isDirectory())
  assert.deepEqual(hostMountsMentioning(f.store), [])
  // Where the container cannot write, docker's refusals (a stopped one's root is mounted writable for the copy: checked first).
  mkdirSync(join(f.dir, 'ro-src'))
  assert.equal(f.nsx(['create', '--name', 'cp-ro', '--read-only', '-v', `${join(f.dir, 'ro-src')}:/rov:ro`, '-v', 'cpvol:/rw', '--layer', f.base, 'true']).status, 0)
  assertOneLineError(f.nsx(['cp', join(f.dir, 'src', 'file'), 'cp-ro:/tmp/']), 1, /^nsx cp: container rootfs is marked read-only$/)
  assertOneLineError(f.nsx(['cp', join(f.dir, 'src', 'file'), 'cp-ro:/rov/']), 1, /^nsx cp: mounted volume is marked read-only$/)
  const rw = f.nsx(['cp', join(f.dir, 'src', 'file'), 'cp-ro:/rw/from-ro'])
  assert.equal(rw.status, 0, rw.stderr)
  assert.equal(read(join(f.store, 'volumes', 'cpvol', '_data', 'from-ro')), 'from the host\n')
  assert.equal(f.nsx(['rm', 'cp-ro']).status, 0)
  assertOneLineError(f.nsx(['cp', 'nosuch:/etc/passwd', f.dir]), 1, /^nsx cp: No such container:path: nosuch:\/etc\/passwd$/)
  assertOneLineError(f.nsx(['cp', join(f.dir, 'src', 'file'), 'nosuch:/tmp']), 1, /^nsx cp: No such container:path: nosuch:\/tmp$/)
  assertOneLineError(f.nsx(['cp', join(f.dir, 'src', 'file'), join(f.dir, 'x')]), 1, /must specify at least one container source/)
  assertOneLineError(f.nsx(['cp', 'a:/x', 'b:/y']), 1, /copying between containers is not supported/)
  assertOneLineError(f.nsx(['cp', join(f.dir, 'no-such-file'), 'cp-vol:/tmp']), 1, /no such file or directory/)
})
