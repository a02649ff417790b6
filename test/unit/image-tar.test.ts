import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, symlinkSync, writeFileSync, linkSync, utimesSync} from 'node:fs'
import {join} from 'node:path'
import {parseNumeric, parsePax, TarEntry, TarFormatError, TarParser} from '../../src/image/tar.js'
import {buildTar, tempDir} from '../helpers/images.js'
import {needCommand, run} from '../helpers/env.js'

interface Collected {
  entries: (TarEntry & {data: Buffer})[]
}

function parse(buf: Buffer, chunk = buf.length): Collected {
  const out: Collected = {entries: []}
  let cur: Buffer[] = []
  const p = new TarParser({
    entry: (e) => {
      cur = []
      out.entries.push({...e, data: Buffer.alloc(0)})
    },
    data: (c) => cur.push(Buffer.from(c)),
    entryEnd: () => {
      out.entries[out.entries.length - 1].data = Buffer.concat(cur)
    },
  })
  for (let i = 0; i < buf.length; i += chunk) p.write(buf.subarray(i, i + chunk))
  p.end()
  return out
}

test('parses what GNU tar writes in gnu, pax and ustar formats the same as tar -tv lists it', (t) => {
  if (!needCommand(t, 'tar', 'tar')) return
  const d = tempDir(t)
  const src = join(d, 'src')
  const long = 'd'.repeat(60) + '/' + 'f'.repeat(120) // needs GNU L or pax path
  mkdirSync(join(src, 'd'.repeat(60)), {recursive: true})
  writeFileSync(join(src, long), 'long name\n')
  writeFileSync(join(src, 'data'), Buffer.alloc(70000, 7))
  linkSync(join(src, 'data'), join(src, 'hard'))
  symlinkSync('x'.repeat(150), join(src, 'longlink'))
  writeFileSync(join(src, 'empty'), '')
  utimesSync(join(src, 'data'), 1600000000, 1600000000)
  for (const format of ['gnu', 'pax']) {
    const file = join(d, `${format}.tar`)
    const r = run('tar', ['--format', format, '-C', src, '--sort=name', '-cf', file, '.'])
    assert.equal(r.status, 0, r.stderr)
    const listed = run('tar', ['-tf', file]).stdout.trim().split('\n').map((n) => n.replace(/\/$/, ''))
    // Odd chunk sizes exercise headers and data split across writes.
    const parsed = parse(readFileSync(file), 777)
    assert.deepEqual(parsed.entries.map((e) => e.path.replace(/\/$/, '')), listed, format)
    const byName = new Map(parsed.entries.map((e) => [e.path.replace(/^\.\//, ''), e]))
    assert.equal(byName.get(long)?.data.toString(), 'long name\n', `${format}: long name data`)
    assert.equal(byName.get('data')?.size, 70000)
    assert.ok(byName.get('data')?.data.equals(Buffer.alloc(70000, 7)))
    assert.equal(byName.get('data')?.mtime, 1600000000)
    assert.equal(byName.get('hard')?.type, 'hardlink')
    assert.equal(byName.get('hard')?.linkpath.replace(/^\.\//, ''), 'data')
    assert.equal(byName.get('longlink')?.type, 'symlink')
    assert.equal(byName.get('longlink')?.linkpath, 'x'.repeat(150))
    assert.equal(byName.get('empty')?.size, 0)
  }
})

test('joins the ustar prefix field to the name, as tar -t does', (t) => {
  if (!needCommand(t, 'tar', 'tar')) return
  const d = tempDir(t)
  const deep = join('p'.repeat(90), 'q'.repeat(40), 'file')
  mkdirSync(join(d, 'src', 'p'.repeat(90), 'q'.repeat(40)), {recursive: true})
  writeFileSync(join(d, 'src', deep), 'deep')
  const file = join(d, 'u.tar')
  assert.equal(run('tar', ['--format', 'ustar', '-C', join(d, 'src'), '-cf', file, deep]).status, 0)
  const [e] = parse(readFileSync(file)).entries
  assert.equal(e.path, deep)
  assert.equal(e.data.toString(), 'deep')
})

test('reads pax xattr records as raw bytes and long names from pax headers', () => {
  const value = Buffer.from([0, 1, 2, 0xff])
  const name = 'a/' + 'n'.repeat(200)
  const tar = buildTar([{name, data: 'x', pax: {'SCHILY.xattr.user.bin': value, 'SCHILY.xattr.security.capability': 'cap'}}])
  const [e] = parse(tar, 100).entries
  assert.equal(e.path, name)
  assert.deepEqual(e.xattrs.get('user.bin'), value)
  assert.equal(e.xattrs.get('security.capability')?.toString(), 'cap')
})

test('parses octal and GNU base-256 numeric fields, and refuses garbage in them', () => {
  assert.equal(parseNumeric(Buffer.from('0000644\0'), 0, 8, 'mode'), 0o644)
  assert.equal(parseNumeric(Buffer.from('  644 \0\0'), 0, 8, 'mode'), 0o644)
  const b256 = Buffer.alloc(12)
  b256[0] = 0x80
  b256.writeUInt32BE(0x12345678, 8)
  b256[7] = 0x01 // 2^32 + 0x12345678
  assert.equal(parseNumeric(b256, 0, 12, 'size'), 0x1_12345678)
  assert.throws(() => parseNumeric(Buffer.from('09999999'), 0, 8, 'mode'), /bad mode/)
})

test('parsePax refuses a record whose length is wrong', () => {
  assert.throws(() => parsePax(Buffer.from('99 path=x\n')), /malformed pax/)
  assert.deepEqual(parsePax(Buffer.from('11 path=ab\n')).path.toString(), 'ab')
})

test('a truncated archive, one without its end marker, and one that is not a tar are errors that say so', () => {
  const tar = buildTar([{name: 'f', data: 'x'.repeat(3000)}])
  assert.throws(() => parse(tar.subarray(0, 1500)), /truncated tar archive \(input ends inside file data\)/)
  assert.throws(() => parse(tar.subarray(0, 300)), /truncated tar archive \(input ends inside a header\)/)
  assert.throws(() => parse(buildTar([{name: 'f', data: 'x'}], {endMarker: false})), /no end-of-archive marker/)
  assert.throws(() => parse(Buffer.from('this is not a tar file at all\n'.repeat(40))), /not a tar archive \(bad header checksum\)/)
  assert.throws(() => parse(Buffer.alloc(0)), /not a tar archive \(empty input\)/)
})

test('data after the end-of-archive marker (blocking padding) is ignored', () => {
  const tar = Buffer.concat([buildTar([{name: 'f', data: 'x'}]), Buffer.alloc(8192)])
  assert.equal(parse(tar).entries.length, 1)
})

test('refuses sparse files rather than extracting them wrong', () => {
  const tar = buildTar([{name: 'f', data: 'x', pax: {'GNU.sparse.major': '1'}}])
  assert.throws(() => parse(tar), /sparse file f/)
})

test('a pax header larger than 1 MiB is refused instead of buffered (Go CVE-2022-2879)', () => {
  const tar = buildTar([{name: 'f', data: 'x', pax: {comment: 'c'.repeat(2 << 20)}}])
  assert.throws(() => parse(tar), /tar extended header of \d+ bytes \(more than 1048576\)/)
})

test('a pax uid or gid that chown cannot take (a fraction, 2^32 - 1 or more) is a tar format error, not an internal one', () => {
  for (const [k, v] of [['uid', '1.5'], ['gid', '99999999999'], ['uid', '4294967295']]) {
    assert.throws(() => parse(buildTar([{name: 'f', data: 'x', pax: {[k]: v}}])), (e) => e instanceof TarFormatError && e.message === `bad ${k} ${Number(v)} for f in tar`)
  }
  assert.equal(parse(buildTar([{name: 'f', data: 'x', pax: {uid: '4294967294'}}])).entries[0].uid, 4294967294)
})
