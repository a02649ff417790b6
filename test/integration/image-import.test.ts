import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, run} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'

/**
 * nsx import (docker import): a root filesystem tar becomes a one-layer image that nsx
 * images lists and nsx run runs; a layer loaded on its own is named by its digest and
 * kept until nsx rmi; nsx load of a root filesystem tar points to nsx import.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-import-') : undefined
function fixture(): Fixture {
  if (!fx) throw new Error('no fixture: needContainerTools should have stopped this test')
  return fx
}

let tarball: string | undefined
function rootfsTar(): string {
  const f = fixture()
  if (!tarball) {
    tarball = join(f.dir, 'rootfs.tar')
    const r = run('tar', ['-C', f.base, '-cf', tarball, '.'])
    assert.equal(r.status, 0, r.stderr)
  }
  return tarball
}

const tmpEntries = (f: Fixture) => {
  try {
    return readdirSync(join(f.store, 'tmp'))
  } catch {
    return []
  }
}

test('nsx import FILE NAME:TAG -c -m: an image nsx images lists and nsx run runs with the instructions as its defaults', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const r = f.nsx(['import', '-c', 'CMD ["/bin/sh", "-c", "echo cmd $GREETING; pwd; id -u"]', '-c', 'ENV GREETING="hello there"', '-c', 'WORKDIR /tmp', '-c', 'USER 1000', '-m', 'from a test', rootfsTar(), 'test/rootfs:v1'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/)
  const id = r.stdout.trim()
  const list = JSON.parse(f.nsx(['images', '--json']).stdout) as {images: {id: string; names: string[]; layers: string[]}[]}
  const img = list.images.find((i) => i.id === id)
  assert.ok(img, 'nsx images lists it')
  assert.deepEqual(img.names, ['test/rootfs:v1'])
  assert.equal(img.layers.length, 1)
  assert.match(f.nsx(['images']).stdout, /^test\/rootfs\s+v1\s+[0-9a-f]{12}\s/m)
  const out = f.nsx(['run', '--rm', '--image', 'test/rootfs:v1'])
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stdout, 'cmd hello there\n/tmp\n1000\n')
  // The same file again: the layer is reused, the image id is new (its creation time differs).
  const again = f.nsx(['import', rootfsTar()])
  assert.equal(again.status, 0, again.stderr)
  assert.equal(JSON.parse(f.nsx(['images', '--json']).stdout).images.filter((i: {layers: string[]}) => i.layers[0] === img.layers[0]).length, 2)
  // gc keeps both images' layer; its report ends with a newline.
  const gc = f.nsx(['gc'])
  assert.equal(gc.status, 0, gc.stderr)
  assert.ok(gc.stdout.endsWith('\n'))
  assert.equal(f.nsx(['run', '--rm', '--image', 'test/rootfs:v1', '--', 'true']).status, 0)
})

test('nsx import - reads the tar from stdin (docker export | nsx import -)', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const r = run('sh', ['-c', `cat "$1" | "$2" "$3" import -c 'CMD ["cat", "/etc/motd"]' - piped`, 'sh', rootfsTar(), process.execPath, join(process.cwd(), 'bin', 'nsx')], {env: f.env, encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  assert.equal(f.nsx(['run', '--rm', '--image', 'piped']).stdout, 'from the base layer\n')
  assert.deepEqual(tmpEntries(f), [], 'the spooled stdin is removed')
})

test('nsx import bad input: one line, exit 1, no image and nothing left in the store', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  const before = f.nsx(['images', '--json']).stdout
  const text = join(f.dir, 'not-a-tar')
  writeFileSync(text, 'hello\n'.repeat(200))
  assertOneLineError(f.nsx(['import', join(f.dir, 'missing.tar')]), 1, /missing\.tar: no such file/)
  assertOneLineError(f.nsx(['import', rootfsTar(), 'Bad:Name']), 1, /invalid reference format 'Bad:Name'/)
  assertOneLineError(f.nsx(['import', '-c', 'FROM scratch', rootfsTar()]), 1, /invalid --change 'FROM scratch': FROM is not one of CMD, ENTRYPOINT/)
  assertOneLineError(f.nsx(['import', '-c', 'CMD [not json', rootfsTar()]), 1, /the exec form must be a JSON array/)
  assertOneLineError(f.nsx(['import', text]), 1, /not-a-tar/)
  assertOneLineError(f.nsx(['import', f.dir]), 1, /not a file/)
  assertOneLineError(f.nsx(['import', 'https://example.com/rootfs.tar']), 1, /URL is not supported/)
  assertOneLineError(f.nsx(['import', '-'], {input: ''}), 1, /stdin: empty input/)
  assert.equal(f.nsx(['images', '--json']).stdout, before, 'no image added')
  assert.deepEqual(tmpEntries(f), [])
})

test('nsx load of a root filesystem tar points to nsx import; a layer loaded on its own is named by its digest or a prefix and kept until nsx rmi', (t) => {
  if (!needContainerTools(t)) return
  const f = fixture()
  assertOneLineError(f.nsx(['load', rootfsTar()]), 1, /nsx import/)
  const loaded = f.nsx(['load', '--layer', rootfsTar()])
  assert.equal(loaded.status, 0, loaded.stderr)
  const digest = /Loaded layer (sha256:[0-9a-f]{64})/.exec(loaded.stdout)?.[1]
  assert.ok(digest, loaded.stdout)
  // No image uses it (the images of the tests above are removed first): gc keeps it all the same.
  for (const ref of ['test/rootfs:v1', 'piped']) f.nsx(['rmi', '--force', ref])
  for (const i of JSON.parse(f.nsx(['images', '--json']).stdout).images as {id: string}[]) f.nsx(['rmi', '--force', i.id])
  assert.equal(f.nsx(['gc']).status, 0)
  for (const ref of [digest, digest.slice(7, 19)]) {
    const r = f.nsx(['run', '--rm', '--layer', ref, '--', 'cat', '/etc/motd'])
    assert.equal(r.status, 0, `${ref}: ${r.stderr}`)
    assert.equal(r.stdout, 'from the base layer\n')
  }
  assertOneLineError(f.nsx(['run', '--layer', 'ffffffffff', '--', 'true']), 125, /no such layer: ffffffffff/)
  const rmi = f.nsx(['rmi', digest.slice(7, 19)])
  assert.equal(rmi.status, 0, rmi.stderr)
  assert.match(rmi.stdout, new RegExp(`Deleted layer: ${digest}`))
  assert.deepEqual(readdirSync(join(f.store, 'layers', 'sha256')).filter((n) => digest.endsWith(n)), [])
})
