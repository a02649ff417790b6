import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {removeImages} from '../../src/store/gc.js'
import {ImageRecord, readRepositories, updateRepositories, writeImage} from '../../src/store/images.js'
import {Store} from '../../src/store/store.js'
import {tempDir} from '../helpers/images.js'

const digest = (c: string) => `sha256:${c.repeat(64)}`

/** A store with image A (a:1, layer 1) and image B (b:1 and b:2, layer 2), written as nsx load would. */
function twoImages(t: Parameters<typeof tempDir>[0]): {store: Store; a: string; b: string} {
  const store = new Store(join(tempDir(t, 'nsx-rmi-'), 'store'))
  store.ensureLayout()
  const image = (id: string, layer: string): void => {
    const dir = store.layerDir(layer)
    mkdirSync(join(dir, 'root'), {recursive: true})
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({diffId: layer}))
    const rec: ImageRecord = {
      id,
      layers: [layer],
      architecture: 'amd64',
      os: 'linux',
      defaults: {entrypoint: [], cmd: [], env: [], workingDir: '', user: ''},
      format: 'oci-layout',
      source: 'test',
      loadedAt: new Date(0).toISOString(),
    }
    writeImage(store, rec, Buffer.from('{}'))
  }
  const [a, b] = [digest('a'), digest('b')]
  image(a, digest('1'))
  image(b, digest('2'))
  updateRepositories(store, (r) => Object.assign(r, {'a:1': a, 'b:1': b, 'b:2': b}))
  return {store, a, b}
}

test('rmi refuses before removing anything: a later id with several names leaves the earlier names and images alone', (t) => {
  const {store, a, b} = twoImages(t)
  const before = readRepositories(store)
  assert.throws(() => removeImages(store, ['a:1', b.slice(7, 19)], {force: false}), /is tagged b:1, b:2; remove those names, or use --force/)
  assert.deepEqual(readRepositories(store), before, 'no name removed')
  assert.ok(existsSync(join(store.imageDir(a), 'image.json')), 'image A kept')
  assert.ok(existsSync(join(store.layerDir(digest('1')), 'meta.json')), "image A's layer kept")
})

test('rmi takes its references in order: untagging one of two names first lets the id remove the image', (t) => {
  const {store, a, b} = twoImages(t)
  const freed = removeImages(store, ['b:1', b], {force: false})
  assert.deepEqual(freed.untagged, ['b:1', 'b:2'])
  assert.deepEqual(freed.images, [b])
  assert.deepEqual(freed.layers, [digest('2')])
  assert.deepEqual(readRepositories(store), {'a:1': a})
  assert.ok(existsSync(join(store.imageDir(a), 'image.json')))
})
