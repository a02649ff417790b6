import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, existsSync, lchownSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {LayerExtractor} from '../../src/image/extract.js'
import {removeTree} from '../../src/store/store.js'
import {TarParser} from '../../src/image/tar.js'
import {lgetxattr, lsetxattr} from '../../src/ffi/libc.js'
import {buildTar, tempDir, TarSpec} from '../helpers/images.js'
import {needCommand, needRoot, run} from '../helpers/env.js'

/** Extract a tar buffer into DIR/layer; DIR/outside is a directory the layer must never touch. */
function extract(buf: Buffer, root: string, privileged = true): LayerExtractor {
  mkdirSync(root, {recursive: true})
  const x = new LayerExtractor(root, {privileged})
  const p = new TarParser(x)
  try {
    p.write(buf)
    p.end()
    x.finish()
  } catch (err) {
    x.abort()
    throw err
  }
  return x
}

function setup(t: Parameters<typeof tempDir>[0]) {
  const d = tempDir(t)
  const outside = join(d, 'outside')
  mkdirSync(outside, {mode: 0o755})
  chmodSync(outside, 0o755)
  writeFileSync(join(outside, 'secret'), 'original\n')
  return {d, layer: join(d, 'layer'), outside}
}

function assertOutsideUntouched(outside: string) {
  assert.deepEqual(readdirSync(outside).sort(), ['secret'])
  assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'original\n')
  assert.equal(statSync(outside).mode & 0o7777, 0o755)
}

const refusals: {name: string; entries: (outside: string) => TarSpec[]; error: RegExp}[] = [
  {name: "an entry with '..' components", entries: () => [{name: '../outside/pwned', data: 'x'}], error: /'\.\.' escapes the layer/},
  {name: "'..' hidden in the middle of a name", entries: () => [{name: 'a/b/../../../outside/pwned', data: 'x'}], error: /'\.\.' escapes the layer/},
  {name: 'an absolute path', entries: (o) => [{name: `${o}/pwned`, data: 'x'}], error: /absolute path/},
  {
    name: 'a file through a symlink to an absolute directory',
    entries: (o) => [{name: 'evil', type: 'symlink', linkname: o}, {name: 'evil/pwned', data: 'x'}],
    error: /path goes through symlink 'evil'/,
  },
  {
    name: 'a file through a symlink to /',
    entries: () => [{name: 'root', type: 'symlink', linkname: '/'}, {name: 'root/tmp/nsx-pwned', data: 'x'}],
    error: /through symlink 'root'/,
  },
  {
    name: 'a file through a relative symlink that climbs out',
    entries: () => [{name: 'a/', type: 'dir'}, {name: 'a/up', type: 'symlink', linkname: '../../outside'}, {name: 'a/up/pwned', data: 'x'}],
    error: /through symlink 'a\/up'/,
  },
  {
    name: 'a directory entry through a symlink',
    entries: (o) => [{name: 'evil', type: 'symlink', linkname: o}, {name: 'evil/sub/', type: 'dir'}],
    error: /through symlink/,
  },
  {
    name: 'a hard link to a file outside the layer',
    entries: () => [{name: 'link', type: 'hardlink', linkname: '../outside/secret'}],
    error: /hard link 'link' to '\.\.\/outside\/secret': '\.\.' escapes/,
  },
  {
    name: 'a hard link to an absolute path',
    entries: (o) => [{name: 'link', type: 'hardlink', linkname: `${o}/secret`}],
    error: /absolute path/,
  },
  {
    name: 'a hard link through a symlink',
    entries: (o) => [{name: 'evil', type: 'symlink', linkname: o}, {name: 'link', type: 'hardlink', linkname: 'evil/secret'}],
    error: /target path goes through symlink 'evil'/,
  },
  {
    name: "a symlink in place of the layer root '.' (umoci CVE-2021-29136)",
    entries: (o) => [{name: '.', type: 'symlink', linkname: o}, {name: 'pwned', data: 'x'}],
    error: /a symlink in place of the layer root/,
  },
  {name: "a whiteout of '..'", entries: () => [{name: 'a/.wh...', data: ''}], error: /whiteout 'a\/\.wh\.\.\.': it names no file/},
]

for (const r of refusals) {
  test(`refuses ${r.name} and writes nothing outside the layer`, (t) => {
    const {layer, outside} = setup(t)
    assert.throws(() => extract(buildTar(r.entries(outside)), layer), r.error)
    assertOutsideUntouched(outside)
    assert.ok(!existsSync('/tmp/nsx-pwned'))
  })
}

test('an entry whose path would pass PATH_MAX where the layer is published is refused before anything is made for it', (t) => {
  const {layer} = setup(t)
  const x = new LayerExtractor(layer, {privileged: false, maxPathBytes: 100})
  mkdirSync(layer)
  const p = new TarParser(x)
  p.write(buildTar([{name: `./${'d/'.repeat(49)}f`, data: 'ok'}], {endMarker: false}))
  assert.throws(() => p.write(buildTar([{name: `${'d/'.repeat(50)}f`, data: 'x'}])), /refusing entry 'd\/d\/.*': a path of more than 100 bytes in the layer/)
  x.abort()
  assert.equal(readFileSync(join(layer, 'd/'.repeat(49), 'f'), 'utf8'), 'ok', 'a path of exactly 100 bytes (after ./) is fine')
})

test('removeTree removes a tree deeper than Node\'s recursive rm can walk (it overflows the stack), read-only directories included', (t) => {
  const d = tempDir(t)
  const deep = join(d, 'tree', 'a/'.repeat(Math.floor((4000 - d.length) / 2)))
  mkdirSync(deep, {recursive: true})
  writeFileSync(join(deep, 'f'), 'x')
  chmodSync(join(d, 'tree', 'a', 'a'), 0o555)
  removeTree(join(d, 'tree'))
  assert.ok(!existsSync(join(d, 'tree')))
})

test('a directory replaced by a symlink does not get its deferred mode applied through the link (containerd CVE-2021-32760)', (t) => {
  const {layer, outside} = setup(t)
  extract(buildTar([{name: 'a/', type: 'dir', mode: 0o777}, {name: 'a', type: 'symlink', linkname: outside}]), layer)
  assertOutsideUntouched(outside)
  assert.equal(readlinkSync(join(layer, 'a')), outside)
})

test('a file replacing a symlink is written in the layer, not through the old link', (t) => {
  const {layer, outside} = setup(t)
  extract(buildTar([{name: 'f', type: 'symlink', linkname: join(outside, 'secret')}, {name: 'f', data: 'new'}]), layer)
  assertOutsideUntouched(outside)
  assert.ok(lstatSync(join(layer, 'f')).isFile())
  assert.equal(readFileSync(join(layer, 'f'), 'utf8'), 'new')
})

test('a file replacing a hard link does not change the file it was linked to', (t) => {
  const {layer} = setup(t)
  extract(buildTar([{name: 'orig', data: 'A'}, {name: 'link', type: 'hardlink', linkname: 'orig'}, {name: 'link', data: 'B'}]), layer)
  assert.equal(readFileSync(join(layer, 'orig'), 'utf8'), 'A')
  assert.equal(readFileSync(join(layer, 'link'), 'utf8'), 'B')
})

test('device nodes are refused when not extracting as root; fifos are fine', (t) => {
  const {layer} = setup(t)
  assert.throws(
    () => extract(buildTar([{name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3}]), layer, false),
    /layer holds device node 'dev\/null' \(char 1:3\); device nodes can only be created as root/,
  )
  const {layer: l2} = setup(t)
  extract(buildTar([{name: 'pipe', type: 'fifo', mode: 0o640}]), l2, false)
  assert.ok(lstatSync(join(l2, 'pipe')).isFIFO())
  assert.equal(lstatSync(join(l2, 'pipe')).mode & 0o777, 0o640)
})

test('device nodes are created as root with their numbers and mode', (t) => {
  if (!needRoot(t)) return
  const {layer} = setup(t)
  extract(buildTar([{name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3}, {name: 'dev/loop9', type: 'block', mode: 0o660, devmajor: 7, devminor: 9}]), layer)
  const n = lstatSync(join(layer, 'dev/null'))
  assert.ok(n.isCharacterDevice())
  assert.equal(n.rdev, (1 << 8) | 3)
  assert.equal(n.mode & 0o777, 0o666)
  assert.ok(lstatSync(join(layer, 'dev/loop9')).isBlockDevice())
})

for (const privileged of [true, false]) {
  const xattr = privileged ? 'trusted.overlay.opaque' : 'user.overlay.opaque'
  test(`whiteouts become char 0/0 nodes and opaque markers set ${xattr} (${privileged ? 'root' : 'rootless'} form)`, (t) => {
    if (privileged && !needRoot(t)) return
    const {layer} = setup(t)
    const x = extract(
      buildTar([{name: 'etc/', type: 'dir'}, {name: 'etc/.wh.motd', data: ''}, {name: 'var/lib/.wh..wh..opq', data: ''}, {name: 'var/lib/keep', data: 'k'}, {name: '.wh..wh.plnk/', type: 'dir'}]),
      layer,
      privileged,
    )
    const wh = lstatSync(join(layer, 'etc/motd'))
    assert.ok(wh.isCharacterDevice())
    assert.equal(wh.rdev, 0)
    assert.ok(!existsSync(join(layer, 'etc/.wh.motd')))
    assert.equal(lgetxattr(join(layer, 'var/lib'), xattr)?.toString(), 'y')
    assert.ok(!existsSync(join(layer, 'var/lib/.wh..wh..opq')))
    assert.ok(!existsSync(join(layer, '.wh..wh.plnk')), 'aufs metadata is dropped')
    assert.equal(readFileSync(join(layer, 'var/lib/keep'), 'utf8'), 'k')
    assert.equal(x.stats.whiteouts, 1)
    assert.equal(x.stats.opaques, 1)
  })
}

test('overlay xattrs carried in the tar are never applied; user xattrs are', (t) => {
  const {layer} = setup(t)
  const x = extract(
    buildTar([
      {name: 'd/', type: 'dir', pax: {'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.user.overlay.redirect': '/etc'}},
      {name: 'f', data: 'x', pax: {'SCHILY.xattr.user.note': 'hello'}},
    ]),
    layer,
    process.getuid?.() === 0,
  )
  assert.equal(lgetxattr(join(layer, 'd'), 'trusted.overlay.opaque'), undefined)
  assert.equal(lgetxattr(join(layer, 'd'), 'user.overlay.redirect'), undefined)
  assert.equal(lgetxattr(join(layer, 'f'), 'user.note')?.toString(), 'hello')
  assert.equal(x.stats.xattrsSkipped, 2)
})

test('xattrs of read-only files are kept rootless too, and file capabilities survive the chown as root', (t) => {
  const {layer} = setup(t)
  const x = extract(buildTar([{name: 'ro', data: 'x', mode: 0o444, pax: {'SCHILY.xattr.user.note': 'kept'}}]), layer, false)
  assert.equal(lgetxattr(join(layer, 'ro'), 'user.note')?.toString(), 'kept')
  assert.equal(x.stats.xattrsSkipped, 0)
  if (process.getuid?.() !== 0) return
  // A v2 file capability (cap_net_raw+ep), as ping carries it: chown after setting it would drop it.
  const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex')
  const {layer: l2} = setup(t)
  extract(buildTar([{name: 'ping', data: 'x', mode: 0o755, uid: 0, gid: 0, pax: {'SCHILY.xattr.security.capability': cap}}]), l2, true)
  assert.deepEqual(lgetxattr(join(l2, 'ping'), 'security.capability'), cap)
})

test('read-only directories still receive their entries; modes, setuid bits, owners and mtimes are kept', (t) => {
  if (!needRoot(t)) return
  const {layer} = setup(t)
  extract(
    buildTar([
      {name: 'ro/', type: 'dir', mode: 0o555, mtime: 1500000000},
      {name: 'ro/file', data: 'x', mode: 0o4755, uid: 1234, gid: 5678, mtime: 1400000000},
      {name: 'ro/link', type: 'symlink', linkname: 'file', uid: 42, gid: 43, mtime: 1300000000},
      {name: 'ro/sub/deeper', data: 'y'},
    ]),
    layer,
  )
  const dir = lstatSync(join(layer, 'ro'))
  assert.equal(dir.mode & 0o7777, 0o555)
  assert.equal(dir.mtimeMs, 1500000000 * 1000)
  const f = lstatSync(join(layer, 'ro/file'))
  assert.equal(f.mode & 0o7777, 0o4755, 'setuid survives the chown')
  assert.equal(f.uid, 1234)
  assert.equal(f.gid, 5678)
  assert.equal(f.mtimeMs, 1400000000 * 1000)
  const l = lstatSync(join(layer, 'ro/link'))
  assert.equal(l.uid, 42)
  assert.equal(l.mtimeMs, 1300000000 * 1000)
  assert.equal(lstatSync(join(layer, 'ro/sub')).mode & 0o777, 0o755, 'implicit parents are 0755')
})

test('a later entry for an existing directory keeps its contents (tar merge semantics)', (t) => {
  const {layer} = setup(t)
  extract(buildTar([{name: 'd/', type: 'dir'}, {name: 'd/a', data: 'a'}, {name: 'd/', type: 'dir', mode: 0o700}]), layer, false)
  assert.equal(readFileSync(join(layer, 'd/a'), 'utf8'), 'a')
  assert.equal(lstatSync(join(layer, 'd')).mode & 0o777, 0o700)
})

/** type, mode, owner, mtime, size, link target, content, user/security xattrs, hard-link groups: what both extractions must agree on. */
function describeTree(root: string): string[] {
  const out: string[] = []
  const inodes = new Map<number, string>()
  const walk = (rel: string) => {
    const p = rel ? join(root, rel) : root
    for (const name of readdirSync(p).sort()) {
      const r = rel ? `${rel}/${name}` : name
      const st = lstatSync(join(root, r))
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : st.isFIFO() ? 'p' : 'c'
      let extra = ''
      if (st.isSymbolicLink()) extra = `-> ${readlinkSync(join(root, r))}`
      if (st.isFile()) {
        extra = `${st.size} ${readFileSync(join(root, r)).toString('base64').slice(0, 40)}`
        if (st.nlink > 1) {
          extra += ` link-group ${inodes.get(st.ino) ?? r}`
          if (!inodes.has(st.ino)) inodes.set(st.ino, r)
        }
      }
      const xa = st.isSymbolicLink() ? '' : (lgetxattr(join(root, r), 'user.test')?.toString() ?? '')
      out.push(`${type} ${r} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.isSymbolicLink() ? '' : Math.floor(st.mtimeMs / 1000)} ${extra} ${xa}`)
      if (st.isDirectory()) walk(r)
    }
  }
  walk('')
  return out
}

test('extracts a tar made by GNU tar to the same tree GNU tar extracts (modes, owners, mtimes, links, xattrs)', (t) => {
  if (!needRoot(t) || !needCommand(t, 'tar', 'tar')) return
  const {d} = setup(t)
  const src = join(d, 'src')
  mkdirSync(join(src, 'usr/bin'), {recursive: true})
  mkdirSync(join(src, 'etc/ro'), {recursive: true})
  writeFileSync(join(src, 'usr/bin/tool'), 'binary\n')
  chmodSync(join(src, 'usr/bin/tool'), 0o2755)
  linkSync(join(src, 'usr/bin/tool'), join(src, 'usr/bin/tool2'))
  symlinkSync('../usr/bin/tool', join(src, 'etc/tool-link'))
  symlinkSync('/nonexistent/abs', join(src, 'etc/dangling'))
  writeFileSync(join(src, 'etc/ro/conf'), 'conf\n')
  chmodSync(join(src, 'etc/ro/conf'), 0o400)
  lchownSync(join(src, 'etc/ro/conf'), 1000, 100)
  chmodSync(join(src, 'etc/ro'), 0o555)
  lsetxattr(join(src, 'usr/bin/tool'), 'user.test', Buffer.from('xattr-value'))
  run('mkfifo', [join(src, 'etc/fifo')])
  for (const p of ['usr/bin/tool', 'etc/ro/conf', 'etc/ro', 'usr/bin', 'usr', 'etc']) utimesSync(join(src, p), 1600000000, 1600000000)
  const file = join(d, 'l.tar')
  assert.equal(run('tar', ['--xattrs', '--xattrs-include=user.*', '--format', 'pax', '-C', src, '-cf', file, '.']).status, 0)
  const byTar = join(d, 'by-tar')
  mkdirSync(byTar)
  const r = run('tar', ['--xattrs', '--xattrs-include=user.*', '--same-owner', '-p', '-C', byTar, '-xf', file])
  assert.equal(r.status, 0, r.stderr)
  const byNsx = join(d, 'by-nsx')
  extract(readFileSync(file), byNsx)
  const tree = describeTree(byNsx)
  assert.deepEqual(tree, describeTree(byTar))
  // The comparison covers what it claims to: hard-link groups, xattrs, fifos, owners, modes.
  assert.ok(tree.some((l) => l.startsWith('f usr/bin/tool2 2755 0:0 1600000000') && l.includes('link-group usr/bin/tool')), tree.join('\n'))
  assert.ok(tree.some((l) => l.startsWith('f usr/bin/tool ') && l.endsWith('xattr-value')))
  assert.ok(tree.some((l) => l.startsWith('f etc/ro/conf 400 1000:100')))
  assert.ok(tree.some((l) => l.startsWith('d etc/ro 555')))
  assert.ok(tree.some((l) => l.startsWith('p etc/fifo')))
  assert.ok(tree.some((l) => l.startsWith('l etc/dangling') && l.includes('-> /nonexistent/abs')))
})

/** Every path under dir with its type, mode, size and link target: what "unchanged" means. */
function snapshotTree(dir: string): string[] {
  const out: string[] = []
  const walk = (p: string) => {
    for (const name of readdirSync(p).sort()) {
      const q = join(p, name)
      const st = lstatSync(q)
      out.push(`${q} ${st.mode.toString(8)} ${st.size} ${st.isSymbolicLink() ? readlinkSync(q) : ''} ${st.isFile() ? readFileSync(q, 'utf8') : ''}`)
      if (st.isDirectory()) walk(q)
    }
  }
  walk(dir)
  return out
}

test('random archives built from hostile pieces never change anything outside the layer (300 archives, seeded)', (t) => {
  const {d, outside} = setup(t)
  const before = snapshotTree(outside)
  // A small alphabet, so names collide and later entries replace, traverse and link to earlier ones.
  const parts = [...'abcxabcxabcxabcxabcxabcx', '.', '', '.', '', '..']
  const targets = [outside, `${outside}/secret`, '/', '../outside', '../../outside/secret', 'a', 'b', 'x', 'a/b', 'b/c', '.', '..', 'c/../..']
  // mulberry32: a seeded generator, so a failure names an archive that can be rebuilt.
  let seed = 42
  const rand = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) % n
  }
  const name = () => {
    const n = 1 + rand(3)
    const comps = Array.from({length: n}, () => parts[rand(parts.length)])
    if (comps[0] === '') comps[0] = '.' // a leading empty component would make every other name absolute
    return (rand(20) === 0 ? '/' : '') + comps.join('/')
  }
  const types = ['file', 'file', 'file', 'dir', 'dir', 'dir', 'symlink', 'symlink', 'hardlink', 'fifo'] as const
  let refused = 0
  const reasons = new Map<string, number>()
  const N = 300
  for (let i = 0; i < N; i++) {
    const entries: TarSpec[] = []
    for (let j = 0, n = 2 + rand(6); j < n; j++) {
      const type = types[rand(types.length)]
      const e: TarSpec = {name: name(), type, data: type === 'file' ? `pwned ${i}` : undefined, mode: [0o777, 0o4755, 0o000, 0o644][rand(4)]}
      if (type === 'symlink' || type === 'hardlink') e.linkname = targets[rand(targets.length)]
      if (e.name === '' && type !== 'dir') e.name = '.'
      entries.push(e)
    }
    const dir = join(d, `layer-${i}`)
    try {
      extract(buildTar(entries), dir, i % 2 === 0)
    } catch (err) {
      refused++
      const why = (err as Error).message.replace(/'[^']*'/g, '…')
      reasons.set(why, (reasons.get(why) ?? 0) + 1)
      assert.ok((err as Error).name === 'UnsafeEntryError' || (err as Error).name === 'NsxError', `archive ${i}: unexpected ${(err as Error).stack}\n${JSON.stringify(entries)}`)
    }
    assert.deepEqual(snapshotTree(outside), before, `archive ${i} changed the outside: ${JSON.stringify(entries)}`)
    assert.deepEqual(readdirSync(d).filter((n) => !n.startsWith('layer-') && n !== 'outside'), [], `archive ${i} wrote next to the layer`)
  }
  assert.ok(refused > N / 5 && refused < N * 0.8, `a mix of refused (${refused}) and extracted archives`)
  t.diagnostic(`${refused} of ${N} refused: ${[...reasons.entries()].sort((a, b) => b[1] - a[1]).map(([w, n]) => `${n}× ${w}`).join('; ')}`)
  // The attacks that matter did happen, and were stopped:
  assert.ok([...reasons.keys()].some((w) => w.includes('goes through symlink')))
  assert.ok([...reasons.keys()].some((w) => w.includes('in place of the layer root')))
})
