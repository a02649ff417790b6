import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, readdirSync, truncateSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {readDockerArchive} from '../../src/image/docker-archive.js'
import {NsxError} from '../../src/cli/errors.js'
import {readOciLayout} from '../../src/image/oci-layout.js'
import {goArch, parseImageRef, splitName} from '../../src/image/source.js'
import {expectedTarSize, streamBlob} from '../../src/image/blob.js'
import {Progress} from '../../src/image/progress.js'
import {formatBytes} from '../../src/image/size.js'
import {defaultStoreRoot, Store} from '../../src/store/store.js'
import {storeLayer} from '../../src/store/layers.js'
import {importLayer, prepareRootfs} from '../../src/store/import.js'
import {findImage, updateRepositories, writeImage} from '../../src/store/images.js'
import {removeImages} from '../../src/store/gc.js'
import {pinLayers} from '../../src/store/pins.js'
import {buildTar, tempDir} from '../helpers/images.js'
import {needCommand, run} from '../helpers/env.js'

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`

function config(diffIds: string[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: goArch(),
      os: 'linux',
      rootfs: {type: 'layers', diff_ids: diffIds},
      config: {Entrypoint: ['/init'], Cmd: ['-v'], Env: ['PATH=/bin'], WorkingDir: '/srv', User: 'nobody'},
      ...extra,
    }),
  )
}

test('reads a legacy docker archive (<id>/layer.tar) and a docker 25 one (blobs/sha256), layers as byte ranges with their diff_ids', async (t) => {
  const d = tempDir(t)
  const layer = buildTar([{name: 'hello', data: 'world'}])
  const cfg = config([sha(layer)])
  const cfgHex = sha(cfg).slice(7)
  for (const style of ['legacy', 'blobs'] as const) {
    const layerName = style === 'legacy' ? 'abc123/layer.tar' : `blobs/sha256/${sha(layer).slice(7)}`
    const cfgName = style === 'legacy' ? `${cfgHex}.json` : `blobs/sha256/${cfgHex}`
    const manifest = JSON.stringify([{Config: cfgName, RepoTags: ['probe/app:1', 'probe/app:stable'], Layers: [layerName]}])
    const file = join(d, `${style}.tar`)
    writeFileSync(file, buildTar([{name: 'manifest.json', data: manifest}, {name: cfgName, data: cfg}, {name: layerName, data: layer}]))
    const src = readDockerArchive(file, undefined)
    assert.equal(src.id, sha(cfg))
    assert.deepEqual(src.names, ['probe/app:1', 'probe/app:stable'])
    assert.deepEqual(src.config.defaults, {entrypoint: ['/init'], cmd: ['-v'], env: ['PATH=/bin'], workingDir: '/srv', user: 'nobody'})
    let bytes = 0
    const digests = await streamBlob(src.layers[0].blob, (c) => (bytes += c.length))
    assert.equal(digests.diffId, src.layers[0].diffId)
    assert.equal(bytes, layer.length)
    assert.equal(readDockerArchive(file, 'stable').id, src.id, 'a tag may be given without the name')
    assert.throws(() => readDockerArchive(file, 'nope'), /unknown tag 'nope' in .* \(tags: probe\/app:1, probe\/app:stable\)/)
  }
})

test('a docker archive whose config does not match its file name is refused', (t) => {
  const d = tempDir(t)
  const layer = buildTar([{name: 'x', data: 'x'}])
  const cfg = config([sha(layer)])
  const wrong = 'f'.repeat(64)
  const file = join(d, 'bad.tar')
  writeFileSync(file, buildTar([{name: 'manifest.json', data: JSON.stringify([{Config: `${wrong}.json`, RepoTags: null, Layers: ['l.tar']}])}, {name: `${wrong}.json`, data: cfg}, {name: 'l.tar', data: layer}]))
  assert.throws(() => readDockerArchive(file, undefined), /config: digest mismatch/)
})

function writeBlob(layout: string, data: Buffer): {digest: string; size: number} {
  const digest = sha(data)
  writeFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), data)
  return {digest, size: data.length}
}

test('an OCI layout with a multi-platform index resolves to this machine\'s architecture; tags select among images', (t) => {
  const layout = join(tempDir(t), 'oci')
  mkdirSync(join(layout, 'blobs', 'sha256'), {recursive: true})
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  const mk = (content: string) => {
    const tar = buildTar([{name: 'which', data: content}])
    const gz = gzipSync(tar)
    const layer = writeBlob(layout, gz)
    const cfg = writeBlob(layout, config([sha(tar)]))
    const manifest = writeBlob(
      layout,
      Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg}, layers: [{mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer}]})),
    )
    return {manifest, cfg}
  }
  const native = mk('native')
  const other = mk('other')
  const otherArch = goArch() === 'arm64' ? 'amd64' : 'arm64'
  const index = writeBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {mediaType: 'application/vnd.oci.image.manifest.v1+json', ...other.manifest, platform: {os: 'linux', architecture: otherArch}},
          {mediaType: 'application/vnd.oci.image.manifest.v1+json', ...native.manifest, platform: {os: 'linux', architecture: goArch()}},
        ],
      }),
    ),
  )
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: {'org.opencontainers.image.ref.name': 'multi'}},
        {mediaType: 'application/vnd.oci.image.manifest.v1+json', ...other.manifest, annotations: {'org.opencontainers.image.ref.name': 'registry.example:5000/team/app:2.1'}},
      ],
    }),
  )
  const multi = readOciLayout(layout, 'multi')
  assert.equal(multi.id, native.cfg.digest)
  assert.deepEqual(multi.names, ['oci:multi'], 'a bare tag is named after the layout directory')
  assert.equal(readOciLayout(layout, 'registry.example:5000/team/app:2.1').names[0], 'registry.example:5000/team/app:2.1')
  assert.throws(() => readOciLayout(layout, undefined), /holds 2 images; name one as .*:TAG \(tags: multi, registry.example:5000\/team\/app:2.1\)/)
  // A manifest blob that does not match its descriptor is refused before anything is read from it.
  writeFileSync(join(layout, 'blobs', 'sha256', index.digest.slice(7)), readFileSync(join(layout, 'blobs', 'sha256', index.digest.slice(7))).toString().replace('arm64', 'armXX').replace('amd64', 'amdXX'))
  assert.throws(() => readOciLayout(layout, 'multi'), /manifest blob: digest mismatch/)
})

test('descriptors with digests that are not sha256 hex (path tricks) are refused', (t) => {
  const layout = join(tempDir(t), 'oci')
  mkdirSync(join(layout, 'blobs', 'sha256'), {recursive: true})
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  writeFileSync(join(layout, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{digest: 'sha256:../../../../etc/passwd', size: 1}]}))
  assert.throws(() => readOciLayout(layout, undefined), /malformed digest 'sha256:\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd'/)
})

test('PATH:TAG parsing prefers an existing path, and names default to the latest tag', (t) => {
  const d = tempDir(t)
  mkdirSync(join(d, 'odd:name'))
  assert.deepEqual(parseImageRef(join(d, 'odd:name')), {path: join(d, 'odd:name')})
  assert.deepEqual(parseImageRef(`${join(d, 'odd:name')}:v1`), {path: join(d, 'odd:name'), tag: 'v1'})
  assert.throws(() => parseImageRef(join(d, 'missing:v1')), /no such image/)
  assert.deepEqual(splitName('busybox'), {name: 'busybox', tag: 'latest'})
  assert.deepEqual(splitName('localhost:5000/app'), {name: 'localhost:5000/app', tag: 'latest'})
  assert.deepEqual(splitName('localhost:5000/app:v2'), {name: 'localhost:5000/app', tag: 'v2'})
})

test('the store root is NSX_ROOT, else /var/lib/nsx for root, else under XDG_DATA_HOME or ~/.local/share', () => {
  assert.equal(defaultStoreRoot({NSX_ROOT: '/x'}, 0), '/x')
  assert.equal(defaultStoreRoot({}, 0), '/var/lib/nsx')
  assert.equal(defaultStoreRoot({XDG_DATA_HOME: '/data'}, 1000), '/data/nsx')
  assert.equal(defaultStoreRoot({HOME: '/home/u'}, 1000), '/home/u/.local/share/nsx')
})

test('a layer is published only when complete: a failed extraction leaves no layer and no temporary directory', async (t) => {
  const root = join(tempDir(t), 'store')
  const store = Store.open(root)
  const good = join(root, '..', 'good.tar')
  writeFileSync(good, buildTar([{name: 'a', data: 'a'}]))
  const bad = join(root, '..', 'bad.tar')
  writeFileSync(bad, buildTar([{name: 'a', data: 'a'}, {name: '../b', data: 'b'}]))
  await assert.rejects(storeLayer(store, {file: bad, label: 'bad.tar'}), /^NsxError: bad.tar: refusing entry '\.\.\/b'/)
  assert.deepEqual(store.listDigests('layers'), [])
  const first = await storeLayer(store, {file: good, label: 'good.tar'})
  assert.equal(first.reused, false)
  const again = await storeLayer(store, {file: good, label: 'good.tar'}, {diffId: first.meta.diffId})
  assert.equal(again.reused, true)
  await assert.rejects(storeLayer(store, {file: good, label: 'good.tar'}, {blob: sha('other')}), /good.tar: digest mismatch/)
  assert.deepEqual(store.listDigests('layers'), [first.meta.diffId])
  assert.deepEqual(readdirSync(join(root, 'tmp')), [])
})

test('stored images are found by name (tag defaulting to latest), id and unique id prefix; unknown names list the stored ones', (t) => {
  const store = Store.open(join(tempDir(t), 'store'))
  const mkImage = (n: number) => {
    const cfg = config([], {n})
    const id = sha(cfg)
    writeImage(store, {id, layers: [], architecture: 'amd64', os: 'linux', defaults: {entrypoint: [], cmd: [], env: [], workingDir: '', user: ''}, format: 'oci-layout', source: 'test', loadedAt: ''}, cfg)
    return id
  }
  const a = mkImage(1)
  const b = mkImage(2)
  updateRepositories(store, (r) => {
    r['app:latest'] = a
    r['app:v2'] = b
  })
  assert.equal(findImage(store, 'app').id, a)
  assert.equal(findImage(store, 'app:v2').id, b)
  assert.equal(findImage(store, a).id, a)
  assert.equal(findImage(store, a.slice(7, 19)).id, a)
  assert.throws(() => findImage(store, 'nope'), /no such image: nope \(stored: app:latest, app:v2\)/)
})

test('progress is drawn only after half a second, throttled, and erased at the end', () => {
  let now = 0
  const realNow = Date.now
  Date.now = () => now
  try {
    const out: string[] = []
    const stream = {write: (s: string) => out.push(s), columns: 200} as unknown as NodeJS.WriteStream
    const p = new Progress(stream)
    p.begin('layer.tar')
    p.update(1000, 1000000)
    assert.deepEqual(out, [], 'quick extractions stay silent')
    now = 600
    p.update(500000, 1000000)
    now = 650
    p.update(510000, 1000000)
    assert.equal(out.length, 1)
    assert.match(out[0], /^\rextracting 50% \(500kB of 1.00MB\) layer.tar\u001b\[K$/)
    now = 800
    p.update(2000000, 1000000)
    assert.match(out[1], /^\rextracting 99% \(2.00MB of 1.00MB\) layer.tar/, 'a short estimate never shows 100% before the end')
    now = 900
    p.update(3000000, 0)
    assert.match(out[2], /^\rextracting \(3.00MB\) layer.tar\u001b\[K$/, 'no percentage when the size is unknown')
    p.done()
    assert.equal(out[3], '\r\u001b[K')
  } finally {
    Date.now = realNow
  }
  assert.equal(formatBytes(999), '999B')
  assert.equal(formatBytes(1982256), '1.98MB')
})

test('a --layer file is extracted once and then found by its identity; a rewritten file is read again even with its mtime set back', async (t) => {
  const d = tempDir(t)
  const store = Store.open(join(d, 'store'))
  const file = join(d, 'l.tar')
  writeFileSync(file, buildTar([{name: 'a', data: 'one'}]))
  utimesSync(file, 1000, 1000)
  const first = await importLayer(store, file)
  assert.equal(first.kind, 'stored')
  assert.equal(first.kind === 'stored' && first.reused, false)
  const second = await importLayer(store, file)
  assert.deepEqual(second, {...first, reused: true})
  assert.equal(readdirSync(join(store.root, 'sources')).length, 1, 'remembered by identity')
  // Other bytes of the same size, with the mtime set back: the ctime still tells.
  writeFileSync(file, buildTar([{name: 'a', data: 'two'}]))
  utimesSync(file, 1000, 1000)
  const third = await importLayer(store, file)
  assert.equal(third.kind, 'stored')
  assert.notEqual(third.kind === 'stored' && third.diffId, first.kind === 'stored' && first.diffId)
  assert.equal(readFileSync(join(third.path, 'a'), 'utf8'), 'two')
  await assert.rejects(importLayer(store, join(d, 'missing.tar')), /no such layer: .*missing.tar/)
  const dir = await importLayer(store, d)
  assert.deepEqual(dir, {kind: 'dir', path: d})
})

test('prepareRootfs stacks an image\'s layers lowest first, then --layer arguments, and hands over the config defaults', async (t) => {
  const d = tempDir(t)
  const store = Store.open(join(d, 'store'))
  const base = buildTar([{name: 'etc/os', data: 'base'}])
  const top = buildTar([{name: 'etc/.wh.os', data: ''}, {name: 'etc/top', data: 'top'}])
  const cfg = config([sha(base), sha(top)])
  const archive = join(d, 'img.tar')
  const manifest = JSON.stringify([{Config: 'config.json', RepoTags: ['probe/app:1'], Layers: ['base.tar', 'top.tar']}])
  writeFileSync(archive, buildTar([{name: 'manifest.json', data: manifest}, {name: 'config.json', data: cfg}, {name: 'base.tar', data: base}, {name: 'top.tar', data: top}]))
  const extra = join(d, 'extra')
  mkdirSync(extra)
  const byPath = await prepareRootfs(store, {image: `${archive}:1`, layers: [extra]})
  assert.deepEqual(byPath.lowerDirs, [store.layerRoot(sha(base)), store.layerRoot(sha(top)), extra])
  assert.deepEqual(byPath.layers, [sha(base), sha(top)])
  assert.equal(byPath.image?.id, sha(cfg))
  assert.deepEqual(byPath.image?.names, ['probe/app:1'])
  assert.deepEqual(byPath.image?.defaults.entrypoint, ['/init'])
  assert.equal(readFileSync(join(byPath.lowerDirs[1], 'etc/top'), 'utf8'), 'top')
  const byName = await prepareRootfs(store, {image: 'probe/app:1', layers: []})
  assert.deepEqual(byName.lowerDirs, byPath.lowerDirs.slice(0, 2))
  await assert.rejects(prepareRootfs(store, {image: 'probe/app:2', layers: []}), /no such image: probe\/app:2 \(stored: probe\/app:1\)/)
})

test('rmi given the same name twice untags it once and keeps the image its other name holds', (t) => {
  const store = Store.open(join(tempDir(t), 'store'))
  const cfg = config([])
  const id = sha(cfg)
  writeImage(store, {id, layers: [], architecture: 'amd64', os: 'linux', defaults: {entrypoint: [], cmd: [], env: [], workingDir: '', user: ''}, format: 'oci-layout', source: 'test', loadedAt: ''}, cfg)
  updateRepositories(store, (r) => {
    r['a:latest'] = id
    r['b:latest'] = id
  })
  const freed = removeImages(store, ['a', 'a'], {force: false})
  assert.deepEqual(freed.untagged, ['a:latest'])
  assert.deepEqual(freed.images, [])
  assert.equal(findImage(store, 'b').id, id)
  assert.throws(() => removeImages(store, [id.slice(7, 19), 'nosuch'], {force: false}), /no such image: nosuch/)
  assert.equal(findImage(store, 'b').id, id, 'a bad reference anywhere removes nothing')
  const all = removeImages(store, [id.slice(7, 19), id.slice(7, 19)], {force: false})
  assert.deepEqual(all.images, [id])
  assert.deepEqual(all.untagged, ['b:latest'])
})

test('oversized metadata is refused before it is read: index.json, a manifest descriptor, a docker manifest.json (containerd CVE-2023-25153)', (t) => {
  const d = tempDir(t)
  const layout = join(d, 'oci')
  mkdirSync(join(layout, 'blobs', 'sha256'), {recursive: true})
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  writeFileSync(join(layout, 'index.json'), '')
  truncateSync(join(layout, 'index.json'), 9 << 20) // sparse: costs no disk
  assert.throws(() => readOciLayout(layout, undefined), /index.json is 9437184 bytes, more than the 8388608 allowed for image metadata/)
  writeFileSync(join(layout, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{digest: `sha256:${'a'.repeat(64)}`, size: 10 * 2 ** 30}]}))
  assert.throws(() => readOciLayout(layout, undefined), /manifest blob sha256:a{64} is 10737418240 bytes, more than/)
  const archive = join(d, 'big.tar')
  writeFileSync(archive, buildTar([{name: 'manifest.json', data: Buffer.alloc(9 << 20, 0x20)}]))
  assert.throws(() => readDockerArchive(archive, undefined), /manifest.json is 9437184 bytes, more than/)
})

test('the expected uncompressed size comes from the gzip trailer and the zstd frame header', (t) => {
  const d = tempDir(t)
  const tar = buildTar([{name: 'f', data: Buffer.alloc(300000, 1)}])
  writeFileSync(join(d, 'l.tar'), tar)
  writeFileSync(join(d, 'l.tar.gz'), gzipSync(tar))
  assert.equal(expectedTarSize({file: join(d, 'l.tar'), label: ''}, 'none'), tar.length)
  assert.equal(expectedTarSize({file: join(d, 'l.tar.gz'), label: ''}, 'gzip'), tar.length)
  // Inside a larger file (a docker archive member): the range's own trailer.
  const padded = Buffer.concat([Buffer.alloc(1000, 9), gzipSync(tar), Buffer.alloc(500, 9)])
  writeFileSync(join(d, 'range'), padded)
  assert.equal(expectedTarSize({file: join(d, 'range'), start: 1000, length: padded.length - 1500, label: ''}, 'gzip'), tar.length)
  if (!needCommand(t, 'zstd', 'zstd')) return
  assert.equal(run('zstd', ['-q', join(d, 'l.tar'), '-o', join(d, 'l.tar.zst')]).status, 0)
  assert.equal(expectedTarSize({file: join(d, 'l.tar.zst'), label: ''}, 'zstd'), tar.length)
  assert.equal(run('sh', ['-c', `zstd -q -c < ${join(d, 'l.tar')} > ${join(d, 'piped.zst')}`]).status, 0)
  assert.equal(expectedTarSize({file: join(d, 'piped.zst'), label: ''}, 'zstd'), 0, 'zstd from a pipe records no size')
})

test('rmi refuses an image a live container was started from, and gc keeps its layers; a dead pin counts for nothing', async (t) => {
  const d = tempDir(t)
  const store = Store.open(join(d, 'store'))
  const layerFile = join(d, 'l.tar')
  writeFileSync(layerFile, buildTar([{name: 'a', data: 'a'}]))
  const layer = await storeLayer(store, {file: layerFile, label: 'l.tar'})
  const cfg = config([layer.meta.diffId])
  const id = sha(cfg)
  writeImage(store, {id, layers: [layer.meta.diffId], architecture: 'amd64', os: 'linux', defaults: {entrypoint: [], cmd: [], env: [], workingDir: '', user: ''}, format: 'oci-layout', source: 'test', loadedAt: ''}, cfg)
  updateRepositories(store, (r) => {
    r['app:latest'] = id
  })
  pinLayers(store, 'c1', process.pid, [layer.meta.diffId], [id]) // this test process stands in for a container
  assert.throws(() => removeImages(store, ['app'], {force: false}), /image app is in use by a running container/)
  assert.equal(findImage(store, 'app').id, id)
  // A pin whose process is gone (same pid, other start time: pid reuse) does not hold anything.
  const stale = JSON.parse(readFileSync(join(store.root, 'containers', 'c1.json'), 'utf8'))
  writeFileSync(join(store.root, 'containers', 'c1.json'), JSON.stringify({...stale, startTime: stale.startTime + 1}))
  const freed = removeImages(store, ['app'], {force: false})
  assert.deepEqual(freed.images, [id])
  assert.deepEqual(freed.layers, [layer.meta.diffId])
})

test('a zero-byte layer member in a docker archive is "not a tar", not a crash', async (t) => {
  const d = tempDir(t)
  const store = Store.open(join(d, 'store'))
  const cfg = config([sha('')])
  const file = join(d, 'empty-layer.tar')
  writeFileSync(file, buildTar([{name: 'manifest.json', data: JSON.stringify([{Config: 'c.json', RepoTags: ['e:1'], Layers: ['l.tar']}])}, {name: 'c.json', data: cfg}, {name: 'l.tar', data: ''}]))
  const src = readDockerArchive(file, undefined)
  await assert.rejects(storeLayer(store, src.layers[0].blob, {diffId: src.layers[0].diffId}), /empty-layer.tar:l.tar: not a tar archive \(empty input\)/)
})

test('malformed JSON anywhere in an image is a one-line NsxError, never a TypeError', (t) => {
  const d = tempDir(t)
  const expectUserError = (fn: () => unknown, what: string) => {
    try {
      fn()
    } catch (err) {
      assert.ok(err instanceof NsxError, `${what}: ${(err as Error).stack}`)
      assert.ok(!(err as Error).message.includes('\n'), what)
      return
    }
    assert.fail(`${what}: accepted`)
  }
  // OCI layout: index.json, then a manifest blob, then a config blob, each replaced by junk.
  const layout = join(d, 'oci')
  mkdirSync(join(layout, 'blobs', 'sha256'), {recursive: true})
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  const junk = ['null', '[]', '"x"', '{}', '{"manifests": null}', '{"manifests": [null]}', '{"manifests": [{"digest": 5, "size": 1}]}', 'not json']
  for (const j of junk) {
    writeFileSync(join(layout, 'index.json'), j)
    expectUserError(() => readOciLayout(layout, undefined), `index.json ${j}`)
  }
  const manifests = ['null', '"x"', '{}', '{"config": null}', '{"config": {"digest": "sha256:x", "size": 1}}', '{', '[1]']
  for (const m of manifests) {
    const blob = writeBlob(layout, Buffer.from(m))
    writeFileSync(join(layout, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [blob]}))
    expectUserError(() => readOciLayout(layout, undefined), `manifest ${m}`)
  }
  const configs = ['null', '{}', '{"rootfs": null}', '{"rootfs": {"type": "layers", "diff_ids": [1]}}', '{"rootfs": {"type": "layers", "diff_ids": ["sha256:../x"]}}', '{"rootfs": {"type": "layers", "diff_ids": []}, "config": {"Cmd": "sh"}}', '{"rootfs": {"type": "layers", "diff_ids": []}, "config": {"User": 0}}']
  for (const c of configs) {
    const cfg = writeBlob(layout, Buffer.from(c))
    const manifest = writeBlob(layout, Buffer.from(JSON.stringify({schemaVersion: 2, config: cfg, layers: []})))
    writeFileSync(join(layout, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [manifest]}))
    expectUserError(() => readOciLayout(layout, undefined), `config ${c}`)
  }
  // docker-archive manifest.json junk.
  const archive = join(d, 'a.tar')
  for (const m of ['null', '{}', '[null]', '[{"Config": 1}]', '[{"Config": "c.json", "Layers": [1]}]', '[{"Config": "missing.json", "Layers": []}]', '[1, 2]']) {
    writeFileSync(archive, buildTar([{name: 'manifest.json', data: m}, {name: 'c.json', data: config([])}]))
    expectUserError(() => readDockerArchive(archive, undefined), `manifest.json ${m}`)
  }
})

test('an image name with a control character (a terminal escape in RepoTags) is refused before anything is stored', async (t) => {
  const d = tempDir(t)
  const store = Store.open(join(d, 'store'))
  const layer = buildTar([{name: 'f', data: 'x'}])
  const cfg = config([sha(layer)])
  const file = join(d, 'evil-name.tar')
  const name = 'evil:\x1b]0;owned\x07'
  writeFileSync(file, buildTar([{name: 'manifest.json', data: JSON.stringify([{Config: 'c.json', RepoTags: [name], Layers: ['l.tar']}])}, {name: 'c.json', data: cfg}, {name: 'l.tar', data: layer}]))
  const {loadImage} = await import('../../src/store/import.js')
  await assert.rejects(loadImage(store, file), (e) => e instanceof NsxError && e.message === `${file}: refusing image name ${JSON.stringify(name)}: names have no spaces or control characters`)
  assert.deepEqual(readdirSync(join(store.root, 'layers', 'sha256')), [])
  assert.deepEqual(readdirSync(join(store.root, 'tmp')), [])
})

test('a layer docker save (before 25) wrote as a symlink or hard link to an earlier layer.tar is read through it; a link out of the archive is missing', async (t) => {
  const d = tempDir(t)
  const layer = buildTar([{name: 'hello', data: 'world'}])
  const cfg = config([sha(layer), sha(layer), sha(layer)])
  const file = join(d, 'repeated.tar')
  const manifest = JSON.stringify([{Config: 'c.json', RepoTags: ['r:1'], Layers: ['abc/layer.tar', 'def/layer.tar', 'ghi/layer.tar']}])
  writeFileSync(
    file,
    buildTar([
      {name: 'manifest.json', data: manifest},
      {name: 'c.json', data: cfg},
      {name: 'abc/', type: 'dir'},
      {name: 'abc/layer.tar', data: layer},
      {name: 'def/', type: 'dir'},
      {name: 'def/layer.tar', type: 'symlink', linkname: '../abc/layer.tar'},
      {name: 'ghi/layer.tar', type: 'hardlink', linkname: 'abc/layer.tar'},
    ]),
  )
  const src = readDockerArchive(file, undefined)
  for (const l of src.layers) assert.equal((await streamBlob(l.blob, () => undefined)).diffId, sha(layer))
  const escaping = join(d, 'escaping.tar')
  writeFileSync(
    escaping,
    buildTar([
      {name: 'manifest.json', data: JSON.stringify([{Config: 'c.json', RepoTags: ['r:1'], Layers: ['abc/layer.tar']}])},
      {name: 'c.json', data: config([sha(layer)])},
      {name: 'abc/layer.tar', type: 'symlink', linkname: '../../etc/passwd'},
    ]),
  )
  assert.throws(() => readDockerArchive(escaping, undefined), /layer abc\/layer.tar is missing from the archive/)
})

test('prepareRootfs keeps only the topmost copy of a repeated layer (overlayfs refuses a lower directory twice), which shadows the lower copy entirely', async (t) => {
  const d = tempDir(t)
  const store = Store.open(join(d, 'store'))
  const empty = buildTar([])
  const a = buildTar([{name: 'etc/', type: 'dir'}, {name: 'etc/a', data: 'a'}])
  const b = buildTar([{name: 'etc/.wh.a', data: ''}, {name: 'etc/b', data: 'b'}])
  // empty, a, empty, b, a: the second a brings etc/a back over b's whiteout either way.
  const cfg = config([sha(empty), sha(a), sha(empty), sha(b), sha(a)])
  const archive = join(d, 'repeats.tar')
  const manifest = JSON.stringify([{Config: 'config.json', RepoTags: ['rep:1'], Layers: ['e.tar', 'a.tar', 'e.tar', 'b.tar', 'a.tar']}])
  writeFileSync(archive, buildTar([{name: 'manifest.json', data: manifest}, {name: 'config.json', data: cfg}, {name: 'e.tar', data: empty}, {name: 'a.tar', data: a}, {name: 'b.tar', data: b}]))
  const plan = await prepareRootfs(store, {image: archive, layers: []})
  assert.deepEqual(plan.lowerDirs, [sha(empty), sha(b), sha(a)].map((x) => store.layerRoot(x)), 'lowest first: the upper empty layer, b, then the upper a')
  assert.deepEqual(plan.layers, [sha(empty), sha(b), sha(a)])
})
