import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {request} from 'node:http'
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawnSync} from 'node:child_process'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {needContainerTools} from '../helpers/container.js'
import {docker, dockerCli, startService} from '../helpers/docker-cli.js'
import {needCommand, nsx, nsxJson} from '../helpers/env.js'
import {needRegistry, startRegistry} from '../helpers/registry.js'

/**
 * The Engine API's image and volume endpoints driven by the real docker CLI (Debian's docker.io
 * client) and docker-py (python3-docker): build a seed-shaped Dockerfile, push to a registry on
 * loopback, rmi, pull back (the same id), history, inspect, save, load, commit, volumes; every
 * result checked in nsx's own store. A client gone mid-build leaves no image.
 */

const work = mkdtempSync(join(tmpdir(), 'nsx-apiimg-'))
after(() => rmSync(work, {recursive: true, force: true}))

const SEED = `FROM busybox
MAINTAINER nsx-test@example.com
ARG V
RUN mkdir -p /bootstrap && echo built > /bootstrap/marker && echo RUN-$((40+2))
COPY requirements.txt /bootstrap/requirements.txt
ENV APP_HOME=/srv/app LANG=C.UTF-8
WORKDIR /srv/app
RUN ["/bin/sh", "-c", "cat /bootstrap/requirements.txt > deps && echo $ARG_V >> deps"]
EXPOSE 8888
ENTRYPOINT ["/bin/sh", "-c", "cat /bootstrap/marker /srv/app/deps; pwd; echo $LANG"]
`

function tmpEntries(store: string): string[] {
  try {
    return readdirSync(join(store, 'tmp'))
  } catch {
    return []
  }
}

test('docker build, push, rmi, pull, history, inspect, save, load, commit and volumes through nsx system service', async (t) => {
  if (!needContainerTools(t) || !needRegistry(t) || !needCommand(t, 'skopeo', 'skopeo') || !needCommand(t, 'umoci', 'umoci') || !dockerCli(t)) return
  const dir = mkdtempSync(join(work, 't-'))
  const store = join(dir, 'store')
  const env = {...process.env, NSX_ROOT: store}
  t.after(() => {
    nsx(['rm', '-f', 'api-commit'], {env})
    nsx(['gc'], {env})
  })
  const archive = buildBusyboxArchive(dir)
  assert.equal(nsx(['load', archive], {env}).status, 0)
  const svc = await startService(t, dir, env)
  const reg = await startRegistry(t)
  const d = (args: string[], input?: string) => {
    const r = docker(svc, args, {input})
    assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}${r.stdout}`)
    return r.stdout
  }
  assert.match(d(['images']), /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n(docker\.io\/library\/)?busybox +latest /)

  // docker build -t: the classic builder's lines, the image in nsx's store.
  const ctx = join(dir, 'ctx')
  mkdirSync(ctx)
  writeFileSync(join(ctx, 'Dockerfile'), SEED.replace('$ARG_V', 'v=$V'))
  writeFileSync(join(ctx, 'requirements.txt'), 'numpy\n')
  const built = d(['build', '-t', 'seed:1', '--build-arg', 'V=7', '--label', 'team=api', ctx])
  assert.match(built, /^Step 1\/10 : FROM busybox\n/m)
  assert.match(built, /RUN-42/)
  assert.match(built, /Successfully built [0-9a-f]{12}\nSuccessfully tagged seed:1(:latest)?\n/)
  const id = nsxJson<{images: {id: string; names: string[]}[]}>(['images', '--json'], {env}).images.find((i) => i.names.includes('seed:1'))?.id
  assert.ok(id, 'nsx images shows the built image')
  const run = nsx(['run', '--rm', '--image', 'seed:1'], {env})
  assert.equal(run.stdout, 'built\nnumpy\nv=7\n/srv/app\nC.UTF-8\n', run.stderr)
  const inspect = JSON.parse(d(['image', 'inspect', 'seed:1'])) as {Id: string; Config: {Labels: Record<string, string>; ExposedPorts: object; Entrypoint: string[]}; RootFS: {Layers: string[]}}[]
  assert.equal(inspect[0].Id, id)
  assert.deepEqual(inspect[0].Config.Labels, {team: 'api', maintainer: 'nsx-test@example.com'})
  assert.deepEqual(Object.keys(inspect[0].Config.ExposedPorts), ['8888/tcp'])
  assert.match(d(['history', 'seed:1']), /ENTRYPOINT/)

  // push to the registry, seen there by skopeo under the same id; rmi; pull back: the same id.
  const name = `${reg.host}/seed/app:1`
  d(['tag', 'seed:1', name])
  const pushed = d(['push', name])
  assert.match(pushed, /The push refers to repository \[127\.0\.0\.1:\d+\/seed\/app\]/)
  assert.match(pushed, /1: digest: sha256:[0-9a-f]{64} size: \d+/)
  const cfg = JSON.parse(spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`], {encoding: 'utf8'}).stdout) as {config: {digest: string}}
  assert.equal(cfg.config.digest, id)
  assert.match(d(['rmi', name]), new RegExp(`^Untagged: ${name.replace(/[.:/]/g, '\\$&')}\n`))
  const rmi = d(['rmi', 'seed:1'])
  assert.match(rmi, /Untagged: seed:1/)
  assert.match(rmi, new RegExp(`Deleted: ${id}`))
  assert.equal(docker(svc, ['image', 'inspect', 'seed:1']).status, 1)
  const pulled = d(['pull', name])
  assert.match(pulled, /Pull complete|Already exists/)
  assert.match(pulled, new RegExp(`Status: Downloaded newer image for ${name.replace(/[.:/]/g, '\\$&')}`))
  assert.equal((JSON.parse(d(['image', 'inspect', name])) as {Id: string}[])[0].Id, id, 'pulled back under the same id')
  const missing = docker(svc, ['pull', `${reg.host}/seed/none:1`])
  assert.equal(missing.status, 1)
  assert.match(missing.stderr, /manifest unknown|not found/)

  // save and load.
  const saved = join(dir, 'saved.tar')
  d(['save', '-o', saved, name])
  d(['rmi', name])
  assert.match(d(['load', '-i', saved]), /Loaded image: /)
  assert.equal((JSON.parse(d(['image', 'inspect', name])) as {Id: string}[])[0].Id, id)

  // commit a container nsx runs.
  const cm = nsx(['run', '-d', '--name', 'api-commit', '--image', 'busybox', '--', 'sh', '-c', 'echo committed > /hi; sleep 1000'], {env})
  assert.equal(cm.status, 0, cm.stderr)
  assert.equal(nsx(['exec', 'api-commit', 'cat', '/hi'], {env}).stdout, 'committed\n')
  const committed = d(['commit', '-m', 'via api', '-c', 'CMD ["cat", "/hi"]', 'api-commit', 'committed:1']).trim()
  assert.match(committed, /^sha256:[0-9a-f]{64}$/)
  assert.equal(nsx(['run', '--rm', '--image', 'committed:1'], {env}).stdout, 'committed\n')

  // volumes.
  assert.equal(d(['volume', 'create', '--label', 'k=v', 'apivol']), 'apivol\n')
  assert.match(d(['volume', 'ls']), /local +apivol/)
  assert.equal((JSON.parse(d(['volume', 'inspect', 'apivol'])) as {Labels: object}[])[0].Labels.constructor, Object)
  assert.match(nsx(['volume', 'ls'], {env}).stdout, /apivol/)
  const inUse = nsx(['run', '-d', '--name', 'api-vol', '-v', 'apivol:/data', '--image', 'busybox', '--', 'sleep', '1000'], {env})
  assert.equal(inUse.status, 0, inUse.stderr)
  t.after(() => nsx(['rm', '-f', 'api-vol'], {env}))
  const refused = docker(svc, ['volume', 'rm', 'apivol'])
  assert.equal(refused.status, 1)
  assert.match(refused.stderr, /volume is in use/)
  assert.equal(nsx(['rm', '-f', 'api-vol'], {env}).status, 0)
  assert.equal(d(['volume', 'rm', 'apivol']), 'apivol\n')
  assert.equal(docker(svc, ['volume', 'inspect', 'apivol']).status, 1)

  // docker-py (python3-docker) on the same socket.
  const py = spawnSync('/usr/bin/python3', ['-c', `
import docker, io, sys
c = docker.DockerClient(base_url=sys.argv[1])
img, logs = c.images.build(fileobj=io.BytesIO(b'FROM busybox\\nRUN echo py > /py\\n'), tag='pybuilt:1', rm=True)
print(img.tags)
print(c.images.get('pybuilt:1').id == img.id)
# cachefrom: only the images named are cache sources, every step after FROM from them (ENV, RUN, RUN).
df = b'FROM busybox\\nENV FOO=bar\\nRUN touch baz\\nRUN touch bax\\n'
for _ in c.api.build(fileobj=io.BytesIO(df), tag='pyc1', decode=True): pass
cached = lambda **kw: sum('Using cache' in x.get('stream', '') for x in c.api.build(fileobj=io.BytesIO(df), decode=True, **kw))
print(cached(tag='pyc2', cache_from=['pyc1']), cached(tag='pyc3', cache_from=['nosuchtag']))
# extrahosts: resolved in RUN and in its /etc/hosts.
hb = list(c.api.build(fileobj=io.BytesIO(b'FROM busybox\\nRUN ping -c1 -W5 hello.world.test\\nRUN cp /etc/hosts /h\\n'), tag='pyhosts', extra_hosts={'hello.world.test': '127.0.0.1'}, decode=True))
ctr = c.containers.create('pyhosts', 'true', network_mode='none')
bits, _ = ctr.get_archive('/h')
print([x for x in hb if 'errorDetail' in x], b'127.0.0.1\\thello.world.test' in b''.join(bits))
ctr.remove()
for i in ('pyc1', 'pyc2', 'pyc3', 'pyhosts'): c.images.remove(i)
v = c.volumes.create('pyvol', labels={'a': 'b'})
print(v.attrs['Labels'])
print(c.volumes.prune()['VolumesDeleted'])
print(sorted(t for i in c.images.list(name='pybuilt') for t in i.tags))
c.images.remove('pybuilt:1')
try:
    c.images.get('pybuilt:1')
except docker.errors.ImageNotFound:
    print('gone')
# A failed RUN: the stream's last line has the step's status as errorDetail's code (docker's); network_mode none is RUN's own namespace.
print(list(c.api.build(fileobj=io.BytesIO(b'FROM busybox\\nRUN exit 3\\n'), network_mode='none', decode=True))[-1]['errorDetail'])
`, svc.host], {encoding: 'utf8', timeout: 180000})
  assert.equal(py.status, 0, py.stderr)
  assert.equal(py.stdout, `['pybuilt:1']\nTrue\n3 0\n[] True\n{'a': 'b'}\n['pyvol']\n['pybuilt:1']\ngone\n{'code': 3, 'message': "The command '/bin/sh -c exit 3' returned a non-zero code: 3"}\n`)
  assert.deepEqual(tmpEntries(store), [])
})

test('a client that goes away mid-build leaves no image and nothing in tmp/', async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'skopeo', 'skopeo') || !needCommand(t, 'umoci', 'umoci') || !dockerCli(t)) return
  const dir = mkdtempSync(join(work, 'drop-'))
  const store = join(dir, 'store')
  const env = {...process.env, NSX_ROOT: store}
  t.after(() => nsx(['gc'], {env}))
  assert.equal(nsx(['load', buildBusyboxArchive(dir)], {env}).status, 0)
  const svc = await startService(t, dir, env)
  const ctx = join(dir, 'ctx')
  mkdirSync(ctx)
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo first > /f && sleep 2\nRUN echo second > /s\n')
  const tar = spawnSync('tar', ['-C', ctx, '-c', '.'])
  // Send the context, wait for the first step's line, then drop the connection.
  await new Promise<void>((resolve, reject) => {
    const req = request({socketPath: svc.socket, method: 'POST', path: '/v1.41/build?t=dropped:1', headers: {'Content-Type': 'application/x-tar'}}, (res) => {
      res.on('data', (b: Buffer) => {
        if (b.toString().includes('Step 2/3')) {
          req.destroy()
          resolve()
        }
      })
      res.on('end', () => reject(new Error('the build ended before the client dropped')))
    })
    req.on('error', () => {})
    req.end(tar.stdout)
  })
  // The service notices at the next step and cleans up: wait for tmp/ to empty (its own log says when it answered).
  const deadline = Date.now() + 60000
  while (tmpEntries(store).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  assert.deepEqual(tmpEntries(store), [])
  const images = nsxJson<{images: {names: string[]}[]}>(['images', '--json'], {env}).images
  assert.ok(!images.some((i) => i.names.some((n) => n.startsWith('dropped'))), 'no image recorded for the dropped build')
  // The service is still serving.
  assert.equal(docker(svc, ['version', '--format', '{{.Server.APIVersion}}']).stdout.trim(), '1.41')
})
