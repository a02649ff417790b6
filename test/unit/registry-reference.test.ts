import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonical, familiarRef, isLoopback, parseReference} from '../../src/image/reference.js'
import {parseChallenge} from '../../src/registry/client.js'
import {choosePlatform, parseManifest} from '../../src/registry/manifest.js'
import {registryHost} from '../../src/registry/login.js'

const D = `sha256:${'a'.repeat(64)}`

test('docker reference grammar: default registry, library/, tags and digests', () => {
  assert.deepEqual(parseReference('busybox'), {registry: 'docker.io', repository: 'library/busybox', tag: 'latest', digest: undefined})
  assert.deepEqual(parseReference('alice/app:1.0'), {registry: 'docker.io', repository: 'alice/app', tag: '1.0', digest: undefined})
  assert.deepEqual(parseReference('localhost:5000/app'), {registry: 'localhost:5000', repository: 'app', tag: 'latest', digest: undefined})
  assert.deepEqual(parseReference('localhost/app:x'), {registry: 'localhost', repository: 'app', tag: 'x', digest: undefined})
  assert.deepEqual(parseReference(`quay.io/a/b/c@${D}`), {registry: 'quay.io', repository: 'a/b/c', tag: undefined, digest: D})
  assert.deepEqual(parseReference(`r.example:443/a:t@${D}`), {registry: 'r.example:443', repository: 'a', tag: 't', digest: D})
  assert.equal(parseReference('index.docker.io/library/busybox').registry, 'docker.io')
  assert.equal(canonical(parseReference('busybox')), 'docker.io/library/busybox:latest')
  assert.equal(familiarRef(parseReference('docker.io/library/busybox:1')), 'busybox:1')
  assert.equal(familiarRef(parseReference('docker.io/alice/app')), 'alice/app:latest')
  assert.equal(familiarRef(parseReference('127.0.0.1:5000/x/y:2')), '127.0.0.1:5000/x/y:2')
})

test('invalid references are refused with a reason', () => {
  for (const bad of ['', 'Busybox', 'a//b', 'a:b:c', 'a:-x', `a@sha256:${'z'.repeat(64)}`, 'a@md5:abc', 'a/b_', '-a']) assert.throws(() => parseReference(bad), /invalid reference/, bad)
})

test('loopback registries', () => {
  for (const h of ['localhost:5000', '127.0.0.1:1', '127.1.2.3', '[::1]:5000']) assert.equal(isLoopback(h), true, h)
  for (const h of ['example.com', '10.0.0.1:5000', 'localhost.example.com']) assert.equal(isLoopback(h), false, h)
})

test('WWW-Authenticate challenges', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer',
    params: {realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push'},
  })
  assert.deepEqual(parseChallenge('Basic realm="nsx-test"'), {scheme: 'basic', params: {realm: 'nsx-test'}})
  assert.equal(parseChallenge('Negotiate abc'), undefined)
  assert.equal(parseChallenge(undefined), undefined)
})

test('manifests: index, image, schema 1 refused; platform choice', () => {
  const idx = parseManifest(
    Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
      {mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D, size: 1, platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}},
      {mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'b'.repeat(64)}`, size: 1, platform: {os: 'linux', architecture: 'amd64'}},
      {mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 1, platform: {os: 'linux', architecture: 'arm', variant: 'v7'}},
    ]})),
    undefined,
    'x',
  )
  assert.equal(idx.kind, 'index')
  if (idx.kind !== 'index') return
  assert.equal(choosePlatform(idx.manifests, {os: 'linux', architecture: 'amd64'}, false, 'x').digest, `sha256:${'b'.repeat(64)}`)
  assert.equal(choosePlatform(idx.manifests, {os: 'linux', architecture: 'arm64'}, true, 'x').digest, D)
  assert.throws(() => choosePlatform(idx.manifests, {os: 'linux', architecture: 'arm', variant: 'v6'}, true, 'x'), /no image for linux\/arm\/v6.*it has linux\/arm64\/v8, linux\/amd64, linux\/arm\/v7/)
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1,"fsLayers":[]}'), undefined, 'x'), /schema 1/)
  const img = parseManifest(Buffer.from(JSON.stringify({schemaVersion: 2, config: {digest: D, size: 2}, layers: []})), 'application/vnd.docker.distribution.manifest.v2+json', 'x')
  assert.equal(img.kind, 'image')
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({schemaVersion: 2, config: {digest: '../../etc', size: 2}, layers: []})), undefined, 'x'), /malformed digest/)
})

test('login registry argument', () => {
  assert.equal(registryHost(undefined), 'docker.io')
  assert.equal(registryHost('https://index.docker.io/v1/'), 'docker.io')
  assert.equal(registryHost('localhost:5000'), 'localhost:5000')
  assert.throws(() => registryHost('bad host'))
})
