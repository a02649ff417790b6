import {after, test, TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {spawn} from 'node:child_process'
import {gzipSync} from 'node:zlib'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, nsxJson, run} from '../helpers/env.js'
import {childrenOf, TestProcesses} from '../helpers/processes.js'
import {buildBusyboxOci, buildStaticProbe, buildTar, toDockerArchive, umociUnpack} from '../helpers/images.js'
import {Store} from '../../src/store/store.js'
import {pinLayers} from '../../src/store/pins.js'
import {lgetxattr} from '../../src/ffi/libc.js'

/**
 * The image store against real images: built by umoci from busybox-static, converted by
 * skopeo, compared with umoci's own unpacking through a real overlayfs mount (in a private
 * mount namespace), and broken in the ways the issue lists.
 */

const work = mkdtempSync(join(tmpdir(), 'nsx-imgstore-'))
after(() => rmSync(work, {recursive: true, force: true}))

let fixture: {layout: string; archive: string} | undefined
function images(t: TestContext): {layout: string; archive: string} | undefined {
  if (!needRoot(t) || !needCommand(t, 'umoci', 'umoci') || !needCommand(t, 'skopeo', 'skopeo') || !needCommand(t, 'busybox', 'busybox-static') || !needCommand(t, 'gcc', 'gcc'))
    return undefined
  if (!fixture) {
    const dir = join(work, 'fixture')
    mkdirSync(dir)
    const probe = buildStaticProbe(dir)
    const layout = buildBusyboxOci(dir, {extraFiles: {'usr/local/bin/probe': probe}})
    const archive = toDockerArchive(layout, 'latest', join(dir, 'busybox.tar'), 'probe/busybox:1.0')
    // Readable by the rootless test's user too.
    run('chmod', ['-R', 'a+rX', dir])
    fixture = {layout, archive}
  }
  return fixture
}

/** A fresh store for one test, removed after it. */
function storeEnv(t: TestContext): {root: string; env: NodeJS.ProcessEnv} {
  const root = mkdtempSync(join(work, 'store-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  return {root, env: {...process.env, NSX_ROOT: root}}
}

interface LoadJson {
  image: {id: string; names: string[]; layers: {diffId: string; reused: boolean; size: number}[]}
  layers: {kind: string; diffId?: string; reused?: boolean}[]
}

interface ListJson {
  images: {id: string; names: string[]; size: number; layers: string[]; defaults: {cmd: string[]; env: string[]; workingDir: string; user: string; entrypoint: string[]}}[]
  layers: {diffId: string; whiteouts: number; usedBy: string[]; pinnedBy: string[]; size: number}[]
}

function storeIsClean(root: string): void {
  assert.deepEqual(readdirSync(join(root, 'tmp')), [], 'tmp/ holds leftovers')
}

/** `find` listing of a tree: type, path, mode, owner, size (the fields both unpackers must agree on). */
const FIND_FORMAT = '%y %P %m %U:%G %s %l\\n'

test('an OCI layout made by umoci loads with its tags, config defaults and three layers', (t) => {
  const f = images(t)
  if (!f) return
  const {env} = storeEnv(t)
  const r = nsxJson<LoadJson>(['load', `${f.layout}:latest`], {env})
  assert.equal(r.image.layers.length, 3)
  assert.ok(r.image.layers.every((l) => !l.reused))
  assert.deepEqual(r.image.names, ['oci:latest'])
  const list = nsxJson<ListJson>(['images'], {env})
  assert.equal(list.images.length, 1)
  const img = list.images[0]
  assert.equal(img.id, r.image.id)
  assert.deepEqual(img.defaults.cmd, ['/bin/sh'])
  assert.ok(img.defaults.env.includes('FOO=bar'))
  assert.equal(img.defaults.workingDir, '/etc')
  assert.equal(img.defaults.user, '0:0')
  assert.equal(list.layers.length, 3)
  assert.ok(img.size >= statSync('/usr/bin/busybox').size)
  // Layer 2 deleted /etc/motd (a whiteout) and replaced /etc/old (opaque, or whiteouts of a and b).
  assert.ok(list.layers.some((l) => l.whiteouts >= 1))
  const table = nsx(['images'], {env})
  assert.equal(table.status, 0)
  assert.match(table.stdout, /^REPOSITORY +TAG +IMAGE ID +CREATED +LAYERS +SIZE\noci +latest +[0-9a-f]{12} /)
})

test('the stored layers, stacked by overlayfs in a private mount namespace, give the tree umoci unpacks', (t) => {
  const f = images(t)
  if (!f || !needCommand(t, 'unshare', 'util-linux')) return
  const {root, env} = storeEnv(t)
  const loaded = nsxJson<LoadJson>(['load', f.layout], {env})
  const lowers = loaded.image.layers.map((l) => join(root, 'layers', 'sha256', l.diffId.slice(7), 'root')).reverse() // overlayfs: topmost first
  const mnt = mkdtempSync(join(work, 'mnt-'))
  t.after(() => rmSync(mnt, {recursive: true, force: true}))
  // unshare -m makes the mount namespace private: nothing here is visible on the host, and it goes when sh exits.
  const script = `mount -t overlay overlay -o lowerdir=${lowers.join(':')} ${mnt} && find ${mnt} -mindepth 1 -printf '${FIND_FORMAT}' | sort && echo --- && chroot ${mnt} /bin/sh -c 'busybox cat /etc/hostname; busybox ls /etc/old; test -e /etc/motd || echo motd-gone; /usr/local/bin/probe from the image'`
  const r = run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script])
  assert.equal(r.status, 0, r.stderr)
  const [ours, inside] = r.stdout.split('---\n')
  const bundle = join(work, `umoci-bundle-${process.pid}`)
  t.after(() => rmSync(bundle, {recursive: true, force: true}))
  const rootfs = umociUnpack(f.layout, 'latest', bundle)
  const theirs = run('sh', ['-c', `find ${rootfs} -mindepth 1 -printf '${FIND_FORMAT}' | sort`]).stdout
  assert.equal(ours, theirs)
  assert.equal(inside, 'probe\nc\nmotd-gone\nprobe from the image\n')
  // xattrs (pax SCHILY.xattr) come through as umoci's own unpacking keeps them.
  assert.equal(lgetxattr(join(rootfs, 'etc', 'hostname'), 'user.nsx-test')?.toString(), 'kept')
  assert.equal(lgetxattr(join(lowers[0], 'etc', 'hostname'), 'user.nsx-test')?.toString(), 'kept')
})

test('a docker archive written by skopeo (and an OCI layout skopeo makes of it) loads its RepoTags and reuses the layers already stored', (t) => {
  const f = images(t)
  if (!f) return
  const {env} = storeEnv(t)
  nsxJson<LoadJson>(['load', f.layout], {env})
  const r = nsxJson<LoadJson>(['load', f.archive], {env})
  assert.deepEqual(r.image.names, ['docker.io/probe/busybox:1.0'])
  assert.equal(r.image.layers.length, 3)
  assert.ok(r.image.layers.every((l) => l.reused), 'same diff_ids: nothing extracted twice')
  const tagged = nsxJson<LoadJson>(['load', '-i', `${f.archive}:1.0`], {env}) // docker load -i muscle memory
  assert.equal(tagged.image.id, r.image.id)
  // And back to an OCI layout by skopeo (its own manifest and compression): the same three layers.
  const skopeoOci = join(work, `skopeo-oci-${process.pid}`)
  t.after(() => rmSync(skopeoOci, {recursive: true, force: true}))
  assert.equal(run('skopeo', ['copy', '-q', `docker-archive:${f.archive}`, `oci:${skopeoOci}:sk`]).status, 0)
  const fromSkopeo = nsxJson<LoadJson>(['load', `${skopeoOci}:sk`], {env})
  assert.deepEqual(fromSkopeo.image.layers.map((l) => l.diffId), r.image.layers.map((l) => l.diffId))
  assert.ok(fromSkopeo.image.layers.every((l) => l.reused))
  const list = nsxJson<ListJson>(['images'], {env})
  assert.equal(list.layers.length, 3)
  assert.ok(list.layers.every((l) => l.usedBy.length === list.images.length))
})

function copyLayout(t: TestContext, layout: string): string {
  const dir = mkdtempSync(join(work, 'broken-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  cpSync(layout, join(dir, 'oci'), {recursive: true})
  return join(dir, 'oci')
}

function largestBlob(layout: string): string {
  const dir = join(layout, 'blobs', 'sha256')
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0]
}

test('bad input fails with one line, exit 1, and leaves nothing in the store', async (t) => {
  const f = images(t)
  if (!f) return
  const {root, env} = storeEnv(t)
  await t.test('a layer blob with a flipped byte: digest mismatch', () => {
    const layout = copyLayout(t, f.layout)
    const blob = largestBlob(layout)
    const data = readFileSync(blob)
    data[data.length - 100] ^= 0xff // in the gzip trailer region: may still decompress, the digest must catch it
    writeFileSync(blob, data)
    assertOneLineError(nsx(['load', layout], {env}), 1, /digest mismatch|corrupt or truncated gzip/)
  })
  await t.test('a truncated layer blob', () => {
    const layout = copyLayout(t, f.layout)
    const blob = largestBlob(layout)
    truncateSync(blob, Math.floor(statSync(blob).size / 2))
    assertOneLineError(nsx(['load', layout], {env}), 1, /is truncated \(\d+ bytes, descriptor says \d+\)/)
  })
  await t.test('a missing blob', () => {
    const layout = copyLayout(t, f.layout)
    rmSync(largestBlob(layout))
    assertOneLineError(nsx(['load', layout], {env}), 1, /layer blob sha256:[0-9a-f]{64} is missing/)
  })
  await t.test('an unknown tag lists the tags there are', () => {
    assertOneLineError(nsx(['load', `${f.layout}:nope`], {env}), 1, /unknown tag 'nope' in .*\(tags: latest\)/)
    assertOneLineError(nsx(['load', `${f.archive}:nope`], {env}), 1, /unknown tag 'nope' in .*\(tags: docker.io\/probe\/busybox:1.0\)/)
  })
  await t.test('a file that is not an image', () => {
    const junk = join(work, 'junk.bin')
    writeFileSync(junk, 'not an image\n'.repeat(100))
    assertOneLineError(nsx(['load', junk], {env}), 1, /neither an OCI image layout nor a docker archive/)
    assertOneLineError(nsx(['load', '/nonexistent/image'], {env}), 1, /no such image: \/nonexistent\/image/)
    assertOneLineError(nsx(['load', '--layer', junk], {env}), 1, /not a tar archive/)
  })
  await t.test('a truncated zstd layer', (t2) => {
    if (!needCommand(t2, 'zstd', 'zstd')) return
    const tar = join(work, 'z.tar')
    writeFileSync(tar, buildTar([{name: 'big', data: Buffer.alloc(200000, 3)}]))
    run('zstd', ['-q', '-f', tar, '-o', `${tar}.zst`])
    truncateSync(`${tar}.zst`, Math.floor(statSync(`${tar}.zst`).size / 2))
    assertOneLineError(nsx(['load', '--layer', `${tar}.zst`], {env}), 1, /corrupt or truncated zstd stream/)
  })
  await t.test('a layer that escapes through a symlink', () => {
    const outside = mkdtempSync(join(work, 'outside-'))
    const evil = join(work, 'evil.tar')
    writeFileSync(evil, buildTar([{name: 'x', type: 'symlink', linkname: outside}, {name: 'x/pwned', data: 'x'}]))
    assertOneLineError(nsx(['load', '--layer', evil], {env}), 1, /refusing entry 'x\/pwned': path goes through symlink 'x'/)
    assert.deepEqual(readdirSync(outside), [])
  })
  assert.deepEqual(readdirSync(join(root, 'layers', 'sha256')), [], 'no layer published')
  storeIsClean(root)
})

test('a tar, tar.gz and tar.zst of the same layer are one stored layer (keyed by the uncompressed digest)', (t) => {
  if (!needRoot(t) || !needCommand(t, 'zstd', 'zstd') || !needCommand(t, 'gzip', 'gzip')) return
  const {env} = storeEnv(t)
  const dir = mkdtempSync(join(work, 'layers-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const tar = join(dir, 'l.tar')
  writeFileSync(tar, buildTar([{name: 'bin/', type: 'dir'}, {name: 'bin/busybox', data: readFileSync('/usr/bin/busybox'), mode: 0o755}]))
  run('gzip', ['-k', tar])
  run('zstd', ['-q', tar, '-o', `${tar}.zst`])
  const r = nsxJson<LoadJson>(['load', '--layer', tar, '--layer', `${tar}.gz`, '--layer', `${tar}.zst`], {env})
  const ids = new Set(r.layers.map((l) => l.diffId))
  assert.equal(ids.size, 1)
  assert.deepEqual(r.layers.map((l) => l.reused), [false, true, true])
  const expected = `sha256:${run('sha256sum', [tar]).stdout.split(' ')[0]}`
  assert.equal([...ids][0], expected)
  // A directory layer is used in place, not copied.
  const d = nsxJson<LoadJson>(['load', '--layer', dir], {env})
  assert.deepEqual(d.layers, [{kind: 'dir', path: dir}])
})

test('rmi untags a shared name, then removes the image and the layers only it used, reporting the space freed', (t) => {
  const f = images(t)
  if (!f) return
  const {root, env} = storeEnv(t)
  nsxJson(['load', f.layout], {env})
  nsxJson(['load', f.archive], {env})
  const before = nsxJson<ListJson>(['images'], {env})
  assertOneLineError(nsx(['rmi', 'nosuch:tag'], {env}), 1, /no such image: nosuch:tag \(stored: .*oci:latest/)
  const sameImage = before.images.length === 1
  const first = nsxJson<{untagged: string[]; images: string[]; layers: string[]; bytes: number}>(['rmi', 'oci:latest'], {env})
  assert.deepEqual(first.untagged, ['oci:latest'])
  if (sameImage) assert.deepEqual(first.layers, [], 'layers still used by the other name')
  const second = nsx(['rmi', 'docker.io/probe/busybox:1.0'], {env})
  assert.equal(second.status, 0, second.stderr)
  assert.match(second.stdout, /Untagged: docker.io\/probe\/busybox:1.0\nDeleted image: sha256:/)
  assert.match(second.stdout, /Deleted layer: sha256:[0-9a-f]{64}\n/)
  assert.match(second.stdout, /Freed \d+(\.\d+)?[kM]B\n$/)
  assert.deepEqual(readdirSync(join(root, 'layers', 'sha256')), [])
  assert.deepEqual(readdirSync(join(root, 'images', 'sha256')), [])
  assert.deepEqual(nsxJson<ListJson>(['images'], {env}).images, [])
  storeIsClean(root)
})

test('gc removes unused layers and import leftovers, but keeps layers pinned by a live container until it exits', async (t) => {
  if (!needRoot(t)) return
  const {root, env} = storeEnv(t)
  const dir = mkdtempSync(join(work, 'gc-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const tar = join(dir, 'l.tar')
  writeFileSync(tar, buildTar([{name: 'file', data: 'x'.repeat(10000)}]))
  const loaded = nsxJson<LoadJson>(['load', '--layer', tar], {env})
  const diffId = loaded.layers[0].diffId!
  mkdirSync(join(root, 'tmp', 'layer-crashed', 'root'), {recursive: true}) // what a killed import leaves
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const sleeper = procs.spawn('sleep', ['600'])
  pinLayers(new Store(root), 'c1', sleeper.pid!, [diffId])
  const dry = nsxJson<{layers: string[]; temporaries: number; dryRun: boolean}>(['gc', '--dry-run'], {env})
  assert.deepEqual(dry.layers, [])
  assert.equal(dry.temporaries, 1)
  assert.ok(existsSync(join(root, 'tmp', 'layer-crashed')), 'dry run removes nothing')
  const listed = nsxJson<ListJson>(['images'], {env})
  assert.deepEqual(listed.layers[0].pinnedBy, ['c1'])
  assert.match(nsx(['images', '--layers'], {env}).stdout, new RegExp(`\nLAYER +SIZE +ENTRIES +WHITEOUTS +USED BY\n${diffId.slice(7, 19)} +10.0kB +1 +0 container c1,kept\n$`))
  const kept = nsxJson<{layers: string[]; temporaries: number}>(['gc'], {env})
  assert.deepEqual(kept.layers, [])
  assert.equal(kept.temporaries, 1)
  // A layer loaded on its own is kept until nsx rmi names it; gc leaves it alone.
  nsx(['rmi', diffId], {env})
  assert.ok(existsSync(join(root, 'layers', 'sha256', diffId.slice(7))), 'a layer a live container pins stays')
  await procs.killAll()
  assert.match(nsx(['images', '-l'], {env}).stdout, / unused\n$/)
  const swept = nsx(['gc'], {env})
  assert.equal(swept.status, 0, swept.stderr)
  assert.match(swept.stdout, new RegExp(`Deleted layer: ${diffId}\\nFreed `))
  assert.deepEqual(readdirSync(join(root, 'layers', 'sha256')), [])
  assert.deepEqual(readdirSync(join(root, 'containers')), [], 'the stale pin is dropped')
  storeIsClean(root)
  assert.equal(nsx(['gc'], {env}).stdout, 'Nothing to remove\n')
})

test('rootless: images load with the user.overlay.opaque form and flattened owners; device nodes are refused with nothing left behind', (t) => {
  const f = images(t)
  if (!f || !needCommand(t, 'setpriv', 'util-linux')) return
  const root = mkdtempSync(join(work, 'rootless-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  chownSync(root, 65534, 65534)
  chmodSync(work, 0o755)
  const asNobody = (args: string[]) =>
    run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(process.cwd(), 'bin', 'nsx'), ...args], {
      env: {...process.env, NSX_ROOT: join(root, 'store'), NO_COLOR: '1', HOME: root},
    })
  // Unreadable input (umoci writes blobs 0600): one line naming the errno, not an internal error.
  const unreadable = join(root, 'oci-root-only')
  cpSync(f.layout, unreadable, {recursive: true})
  chmodSync(unreadable, 0o755)
  run('chmod', ['-R', 'go-rwx', join(unreadable, 'blobs')])
  assertOneLineError(asNobody(['load', unreadable]), 1, /(manifest|config|layer) blob sha256:[0-9a-f]{64}: EACCES/)
  const unreadableFile = join(root, 'root-only.tar')
  copyFileSync(f.archive, unreadableFile)
  chmodSync(unreadableFile, 0o600)
  assertOneLineError(asNobody(['load', unreadableFile]), 1, /^nsx load: EACCES: permission denied, open /)
  const ok = asNobody(['load', f.layout, '--json'])
  assert.equal(ok.status, 0, ok.stderr)
  const loaded = JSON.parse(ok.stdout) as LoadJson
  const metas = loaded.image.layers.map((l) => JSON.parse(readFileSync(join(root, 'store', 'layers', 'sha256', l.diffId.slice(7), 'meta.json'), 'utf8')))
  assert.ok(metas.every((m) => m.overlayXattrs === 'user' && m.ownershipKept === false))
  const devTar = join(root, 'dev.tar')
  writeFileSync(devTar, buildTar([{name: 'dev/', type: 'dir'}, {name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3}]))
  chmodSync(devTar, 0o644)
  assertOneLineError(asNobody(['load', '--layer', devTar]), 1, /device node 'dev\/null' \(char 1:3\); device nodes can only be created as root/)
  storeIsClean(join(root, 'store'))
  // A read-only file's user xattr: set while the file is still writable (not as root, DAC applies).
  const roTar = join(root, 'ro.tar')
  writeFileSync(roTar, buildTar([{name: 'ro', data: 'x', mode: 0o444, pax: {'SCHILY.xattr.user.note': 'kept'}}]))
  chmodSync(roTar, 0o644)
  const ro = asNobody(['load', '--layer', roTar, '--json'])
  assert.equal(ro.status, 0, ro.stderr)
  const roLayer = (JSON.parse(ro.stdout) as LoadJson).layers[0]
  assert.equal(lgetxattr(join(root, 'store', 'layers', 'sha256', roLayer.diffId!.slice(7), 'root', 'ro'), 'user.note')?.toString(), 'kept')
  // gc as the same user can remove read-only directories it extracted.
  const gc = asNobody(['rmi', 'oci:latest', '--json'])
  assert.equal(gc.status, 0, gc.stderr)
  assert.deepEqual(readdirSync(join(root, 'store', 'layers', 'sha256')), [roLayer.diffId!.slice(7)])
  assert.equal(asNobody(['gc']).status, 0)
  assert.deepEqual(readdirSync(join(root, 'store', 'layers', 'sha256')), [roLayer.diffId!.slice(7)], 'a layer loaded on its own is kept until rmi names it')
  assert.equal(asNobody(['rmi', roLayer.diffId!]).status, 0)
  assert.deepEqual(readdirSync(join(root, 'store', 'layers', 'sha256')), [])
})

test('a copied docker archive layer with a changed byte fails its diff_id check', (t) => {
  const f = images(t)
  if (!f) return
  const {root, env} = storeEnv(t)
  const copy = join(work, 'tampered.tar')
  copyFileSync(f.archive, copy)
  t.after(() => rmSync(copy, {force: true}))
  // Flip a byte inside busybox's data in the first layer: still a valid tar, wrong digest.
  const data = readFileSync(copy)
  const at = data.indexOf(Buffer.from('BusyBox is copyrighted'))
  assert.ok(at > 0)
  data[at] ^= 0x20
  writeFileSync(copy, data)
  assertOneLineError(nsx(['load', copy], {env}), 1, /uncompressed digest mismatch \(config says sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\)/)
  assert.deepEqual(readdirSync(join(root, 'layers', 'sha256')), [])
  storeIsClean(root)
})

for (const mode of ['root', 'rootless'] as const) {
  test(`stored whiteouts and opaque directories hide lower files in a real overlay mount (${mode}${mode === 'rootless' ? ': userxattr, in a user namespace' : ''})`, (t) => {
    if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux') || !needCommand(t, 'setpriv', 'util-linux')) return
    const dir = mkdtempSync(join(work, `overlay-${mode}-`))
    t.after(() => rmSync(dir, {recursive: true, force: true}))
    chmodSync(work, 0o755)
    writeFileSync(join(dir, 'l1.tar'), buildTar([{name: 'd/a', data: 'a'}, {name: 'd/b', data: 'b'}, {name: 'gone', data: 'g'}, {name: 'kept', data: 'k'}]))
    writeFileSync(join(dir, 'l2.tar'), buildTar([{name: 'd/.wh..wh..opq', data: ''}, {name: 'd/c', data: 'c'}, {name: '.wh.gone', data: ''}]))
    mkdirSync(join(dir, 'mnt'))
    const user = mode === 'rootless' ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []
    if (mode === 'rootless') run('chown', ['-R', '65534:65534', dir])
    const env = {...process.env, NSX_ROOT: join(dir, 'store'), HOME: dir, NO_COLOR: '1'}
    const load = run(user[0] ?? process.execPath, [...user.slice(1), ...(user.length ? [process.execPath] : []), join(process.cwd(), 'bin', 'nsx'), 'load', '--layer', join(dir, 'l1.tar'), '--layer', join(dir, 'l2.tar'), '--json'], {env})
    assert.equal(load.status, 0, load.stderr)
    const [l1, l2] = (JSON.parse(load.stdout) as LoadJson).layers.map((l) => join(dir, 'store', 'layers', 'sha256', l.diffId!.slice(7), 'root'))
    const opts = `${mode === 'rootless' ? 'userxattr,' : ''}lowerdir=${l2}:${l1}`
    const ns = mode === 'rootless' ? ['unshare', '-Urm'] : ['unshare', '-m', '--propagation', 'private']
    const mounted = run(user[0] ?? ns[0], [...user.slice(1), ...(user.length ? ns : ns.slice(1)), 'sh', '-c', `mount -t overlay overlay -o ${opts} ${dir}/mnt && cd ${dir}/mnt && ls -A . d`])
    assert.equal(mounted.status, 0, mounted.stderr)
    assert.equal(mounted.stdout, '.:\nd\nkept\n\nd:\nc\n')
  })
}

test('listing, gc and rmi on a store that does not exist create nothing', (t) => {
  const root = join(work, `never-created-${process.pid}`)
  const env = {...process.env, NSX_ROOT: root}
  assert.deepEqual(nsxJson<ListJson>(['images'], {env}), {store: root, images: [], layers: []})
  assert.equal(nsx(['gc'], {env}).stdout, 'Nothing to remove\n')
  assertOneLineError(nsx(['rmi', 'busybox'], {env}), 1, /no such image: busybox \(stored: none; load one with nsx load\)/)
  assertOneLineError(nsx(['rmi'], {env}), 1, /no image given/)
  assert.ok(!existsSync(root))
})

test("another user's store: load, rmi and gc say so in one line instead of an internal error", (t) => {
  if (!needRoot(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const {root, env} = storeEnv(t)
  chmodSync(work, 0o755)
  const tar = join(mkdtempSync(join(work, 'input-')), 'layer.tar')
  writeFileSync(tar, buildTar([{name: 'f', data: 'x'}]))
  chmodSync(join(tar, '..'), 0o755)
  chmodSync(tar, 0o644)
  assert.equal(nsx(['load', '--layer', tar], {env}).status, 0)
  chmodSync(root, 0o755)
  const asNobody = (args: string[]) =>
    run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(process.cwd(), 'bin', 'nsx'), ...args], {
      env: {...env, HOME: '/nonexistent'},
    })
  assertOneLineError(asNobody(['load', '--layer', tar]), 1, new RegExp(`^nsx load: cannot create the image store at ${root}: EACCES`))
  for (const args of [['rmi', 'x'], ['gc']])
    assertOneLineError(asNobody(args), 1, new RegExp(`^nsx \\w+: cannot use the image store at ${root}: permission denied \\(it belongs to another user\\); set NSX_ROOT$`))
})

function nsxAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(process.cwd(), 'bin', 'nsx'), ...args], {env: {...env, NO_COLOR: '1'}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

test('two loads of the same image at once store each layer once and leave no leftovers', async (t) => {
  const f = images(t)
  if (!f) return
  const {root, env} = storeEnv(t)
  const [a, b] = await Promise.all([nsxAsync(['load', f.layout, '--json'], env), nsxAsync(['load', f.archive, '--json'], env)])
  assert.equal(a.status, 0, a.stderr)
  assert.equal(b.status, 0, b.stderr)
  assert.equal(readdirSync(join(root, 'layers', 'sha256')).length, 3)
  storeIsClean(root)
})

test('gc waits for an import that holds the store lock, and says so', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'flock', 'util-linux')) return
  const {root, env} = storeEnv(t)
  nsxJson(['images'], {env})
  mkdirSync(join(root, 'layers', 'sha256'), {recursive: true})
  writeFileSync(join(root, 'lock'), '')
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // flock(1) stands in for an import: it holds the lock shared, as nsx load does, until it prints.
  // -o: the lock stays with flock itself, not with the sleep it runs; killing both releases it.
  const holder = await procs.spawnUntilLine('flock', ['-o', '-s', join(root, 'lock'), 'sh', '-c', 'echo locked; exec sleep 30'])
  const sleeper = childrenOf(holder.child.pid!)
  const gc = spawn(process.execPath, [join(process.cwd(), 'bin', 'nsx'), 'gc'], {env: {...env, NO_COLOR: '1'}, stdio: ['ignore', 'ignore', 'pipe']})
  t.after(() => {
    if (gc.exitCode === null && gc.signalCode === null) gc.kill('SIGKILL')
  })
  let stderr = ''
  const exited = new Promise<number | null>((res) => gc.on('close', (code) => res(code)))
  // However long nsx takes to start on a busy machine: release the lock only once gc says it waits.
  const waiting = await new Promise<boolean>((res) => {
    const timer = setTimeout(() => res(false), 30000)
    gc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (stderr.includes('\n')) {
        clearTimeout(timer)
        res(true)
      }
    })
    gc.on('close', () => {
      clearTimeout(timer)
      res(false)
    })
  })
  assert.ok(waiting, `gc did not wait for the lock; stderr: ${stderr}`)
  assert.equal(gc.exitCode, null, 'gc is still waiting')
  for (const pid of sleeper) process.kill(pid, 'SIGKILL')
  process.kill(holder.child.pid!, 'SIGKILL')
  assert.equal(await exited, 0, stderr)
  assert.match(stderr, /^nsx: waiting for another nsx using the image store at /)
})

test('a gzip-compressed docker archive (docker save | gzip) loads like the plain one, leaving no decompressed copy', (t) => {
  const f = images(t)
  if (!f || !needCommand(t, 'gzip', 'gzip')) return
  const {root, env} = storeEnv(t)
  const gz = join(work, `archive-${process.pid}.tar.gz`)
  t.after(() => rmSync(gz, {force: true}))
  assert.equal(run('sh', ['-c', 'gzip -c "$1" > "$2"', 'sh', f.archive, gz]).status, 0)
  const plain = nsxJson<LoadJson>(['load', f.archive], {env})
  const r = nsxJson<LoadJson>(['load', `${gz}:1.0`], {env})
  assert.equal(r.image.id, plain.image.id)
  assert.deepEqual(r.image.names, plain.image.names)
  storeIsClean(root)
  assertOneLineError(nsx(['load', `${gz}:nope`], {env}), 1, new RegExp(`unknown tag 'nope' in ${gz.replace(/[.]/g, '\\.')} `))
  storeIsClean(root)
})

test('an interrupted load (SIGINT mid-extraction) dies of the signal and leaves nothing in tmp/', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tar', 'tar')) return
  const {root, env} = storeEnv(t)
  const dir = mkdtempSync(join(work, 'interrupt-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  // 300 MB of zeros: a small gzip that takes a while to write out.
  run('truncate', ['-s', '300M', join(dir, 'zeros')])
  assert.equal(run('tar', ['-C', dir, '-czf', join(dir, 'big.tar.gz'), 'zeros']).status, 0)
  rmSync(join(dir, 'zeros'))
  const child = spawn(process.execPath, [join(process.cwd(), 'bin', 'nsx'), 'load', '--layer', join(dir, 'big.tar.gz')], {env, stdio: 'ignore'})
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, sig) => res(sig)))
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const tmp = join(root, 'tmp')
  const deadline = Date.now() + 20000
  while (!(existsSync(tmp) && readdirSync(tmp).some((n) => n.startsWith('layer-')))) {
    assert.ok(Date.now() < deadline && child.exitCode === null, 'extraction never started (or ended before it could be interrupted)')
    await new Promise((r) => setTimeout(r, 5))
  }
  child.kill('SIGINT')
  assert.equal(await exited, 'SIGINT')
  assert.deepEqual(readdirSync(tmp), [])
  assert.deepEqual(readdirSync(join(root, 'layers', 'sha256')), [])
})

test('an extraction shows progress on a terminal (under script(1)), erased before the result, and nothing when stderr is not one', (t) => {
  if (!needRoot(t) || !needCommand(t, 'script', 'bsdutils') || !needCommand(t, 'tar', 'tar')) return
  const {env} = storeEnv(t)
  const dir = mkdtempSync(join(work, 'progress-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const entries: Parameters<typeof buildTar>[0] = []
  for (let i = 0; i < 5000; i++) entries.push({name: `d${i % 100}/f${i}`, data: 'x'.repeat(4000)})
  writeFileSync(join(dir, 'big.tar.gz'), gzipSync(buildTar(entries)))
  const nsxCmd = `${process.execPath} ${join(process.cwd(), 'bin', 'nsx')} load --layer ${join(dir, 'big.tar.gz')}`
  // No half-second wait here (so the test does not depend on this machine's speed); throttled to one line per 100 ms as usual.
  const tty = run('script', ['-qec', nsxCmd, '/dev/null'], {env: {...env, NSX_PROGRESS_DELAY_MS: '0'}})
  assert.equal(tty.status, 0, tty.stdout)
  assert.match(tty.stdout, /\rextracting \d+% \([\d.]+[kM]?B of 23.0MB\) [^\r]+\u001b\[K/)
  assert.match(tty.stdout, /\r\u001b\[KLoaded layer sha256:[0-9a-f]{64}/, 'the progress line is erased before the result')
  const fresh = storeEnv(t) // so this load extracts again rather than finding the layer stored
  const plain = nsx(['load', '--layer', join(dir, 'big.tar.gz'), '--json'], {env: {...fresh.env, NSX_PROGRESS_DELAY_MS: '0'}})
  assert.equal(plain.status, 0)
  assert.equal((JSON.parse(plain.stdout) as LoadJson).layers[0].reused, false)
  assert.equal(plain.stderr, '')
})
