import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync, SpawnSyncOptions} from 'node:child_process'
import {mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {api, ApiService, dockerCli, startApiService} from '../helpers/api.js'
import {containerToolsPresent, Fixture, hostMountsMentioning, makeFixture} from '../helpers/container.js'
import {IN_CI} from '../helpers/env.js'
import {buildTar} from '../helpers/images.js'

/**
 * The Engine API's archive endpoints (HEAD/GET/PUT /containers/{id}/archive) driven by their real
 * clients: the docker 20.10 CLI's `docker cp` both ways, on a stopped and a running container,
 * and docker-py's put_archive/get_archive; the stat header decoded; docker's errors.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-apicp-') : undefined
let svc: ApiService | undefined
let docker = ''
after(() => svc?.stop())

before(async () => {
  if (!fx) return
  docker = dockerCli()
  const b = fx.base
  mkdirSync(join(b, 'data', 'sub'), {recursive: true})
  writeFileSync(join(b, 'data', 'a'), 'a from the image\n')
  writeFileSync(join(b, 'data', 'sub', 'b'), 'b\n')
  writeFileSync(join(b, 'etc', 'shadow'), 'the container\'s shadow\n')
  symlinkSync('/etc/shadow', join(b, 'evil-abs'))
  mkdirSync(join(fx.dir, 'src', 'tree'), {recursive: true})
  writeFileSync(join(fx.dir, 'src', 'file'), 'from the host\n')
  writeFileSync(join(fx.dir, 'src', 'tree', 'x'), 'x\n')
  mkdirSync(join(fx.dir, 'docker-config'), {recursive: true})
  svc = await startApiService(fx.dir, fx.env)
})

function skip(t: {skip(m: string): void}): boolean {
  if (fx) return false
  if (IN_CI) assert.fail('the archive tests need root, gcc and busybox-static')
  t.skip('needs root, gcc and busybox-static')
  return true
}

function dk(args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(docker, args, {encoding: 'utf8', timeout: 60000, ...opts, env: {...process.env, DOCKER_HOST: svc!.host, DOCKER_CONFIG: join(fx!.dir, 'docker-config')}})
  return {status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
}

const pathStat = (h: string | string[] | undefined) => JSON.parse(Buffer.from(String(h), 'base64').toString()) as {name: string; size: number; mode: number; mtime: string; linkTarget: string}

test('HEAD, GET and PUT archive: the stat header, the tar, docker\'s statuses', async (t) => {
  if (skip(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'arc-raw']))
  assert.equal(f.nsx(['create', '--name', 'arc-raw', '--layer', f.base, 'sleep', '1000']).status, 0)
  const s = svc!.socket
  const head = await api(s, 'HEAD', '/v1.41/containers/arc-raw/archive?path=/data/a')
  assert.equal(head.status, 200)
  const st = pathStat(head.headers['x-docker-container-path-stat'])
  assert.deepEqual([st.name, st.size, st.mode, st.linkTarget], ['a', 17, 0o644, ''])
  assert.ok(!Number.isNaN(Date.parse(st.mtime)))
  const dir = pathStat((await api(s, 'HEAD', '/containers/arc-raw/archive?path=/data')).headers['x-docker-container-path-stat'])
  assert.equal(dir.mode >>> 0, (2 ** 31 + 0o755) >>> 0, 'a directory has Go\'s ModeDir bit')
  const link = pathStat((await api(s, 'HEAD', '/containers/arc-raw/archive?path=/evil-abs')).headers['x-docker-container-path-stat'])
  assert.equal(link.mode & (1 << 27), 1 << 27, 'a symlink has Go\'s ModeSymlink bit')
  assert.equal(link.linkTarget, '/etc/shadow')
  const get = await api(s, 'GET', '/containers/arc-raw/archive?path=/data/a')
  assert.equal(get.status, 200)
  assert.equal(get.headers['content-type'], 'application/x-tar')
  assert.equal(get.body.slice(0, 1), 'a')
  assert.ok(get.body.includes('a from the image\n'))
  assert.equal((await api(s, 'HEAD', '/containers/arc-raw/archive?path=/no/such')).status, 404)
  const missing = await api(s, 'GET', '/containers/arc-raw/archive?path=/no/such')
  assert.equal(missing.status, 404)
  assert.match(JSON.parse(missing.body).message, /Could not find the file \/no\/such in container arc-raw/)
  assert.equal((await api(s, 'GET', '/containers/nosuch/archive?path=/')).status, 404)
  assert.equal((await api(s, 'GET', '/containers/arc-raw/archive')).status, 400)
  const tar = buildTar([{name: 'put/', type: 'dir'}, {name: 'put/f', data: 'put\n', uid: 1234, gid: 1234}])
  const put = await api(s, 'PUT', '/containers/arc-raw/archive?path=/tmp&noOverwriteDirNonDir=true', tar, {'Content-Type': 'application/x-tar'})
  assert.equal(put.status, 200, put.body)
  const back = await api(s, 'HEAD', '/containers/arc-raw/archive?path=/tmp/put/f')
  assert.equal(pathStat(back.headers['x-docker-container-path-stat']).size, 4)
  const notDir = await api(s, 'PUT', '/containers/arc-raw/archive?path=/data/a', tar, {'Content-Type': 'application/x-tar'})
  assert.equal(notDir.status, 400)
  assert.match(JSON.parse(notDir.body).message, /extraction point is not a directory/)
  const clash = await api(s, 'PUT', '/containers/arc-raw/archive?path=/&noOverwriteDirNonDir=1', buildTar([{name: 'data', data: 'x'}]), {'Content-Type': 'application/x-tar'})
  assert.equal(clash.status, 400)
  assert.match(JSON.parse(clash.body).message, /cannot overwrite directory/)
  assert.equal((await api(s, 'PUT', '/containers/nosuch/archive?path=/', tar)).status, 404)
  assert.deepEqual(hostMountsMentioning(f.store), [])
})

function dockerCpChecks(f: Fixture, ctr: string, tag: string): void {
  const o = join(f.dir, 'out', tag)
  mkdirSync(o, {recursive: true})
  const ok = (args: string[]) => {
    const r = dk(['cp', ...args])
    assert.equal(r.status, 0, `docker cp ${args.join(' ')}: ${r.stderr}\n${svc!.log()}`)
  }
  ok([`${ctr}:/data`, join(o, 'newdir')])
  assert.equal(readFileSync(join(o, 'newdir', 'sub', 'b'), 'utf8'), 'b\n')
  mkdirSync(join(o, 'into'))
  ok([`${ctr}:/data/.`, join(o, 'into')])
  assert.equal(readFileSync(join(o, 'into', 'a'), 'utf8'), 'a from the image\n')
  ok([`${ctr}:/evil-abs`, join(o, 'link')])
  assert.equal(readlinkSync(join(o, 'link')), '/etc/shadow')
  ok(['-L', `${ctr}:/evil-abs`, join(o, 'followed')])
  assert.equal(readFileSync(join(o, 'followed'), 'utf8'), 'the container\'s shadow\n')
  ok([join(f.dir, 'src', 'file'), `${ctr}:/tmp/`])
  ok([join(f.dir, 'src', 'tree'), `${ctr}:/tmp/tree-${tag}`])
  ok([`${ctr}:/tmp/file`, join(o, 'roundtrip')])
  assert.equal(readFileSync(join(o, 'roundtrip'), 'utf8'), 'from the host\n')
  ok([`${ctr}:/tmp/tree-${tag}/x`, join(o, 'x')])
  assert.equal(readFileSync(join(o, 'x'), 'utf8'), 'x\n')
  const tarIn = dk(['cp', '-', `${ctr}:/tmp`], {input: buildTar([{name: `stdin-${tag}`, data: 'from stdin\n'}])})
  assert.equal(tarIn.status, 0, tarIn.stderr)
  ok([`${ctr}:/tmp/stdin-${tag}`, join(o, 'stdin')])
  assert.equal(readFileSync(join(o, 'stdin'), 'utf8'), 'from stdin\n')
  const none = dk(['cp', `${ctr}:/no/such`, o])
  assert.equal(none.status, 1)
  assert.equal(none.stderr.trim(), `Error: No such container:path: ${ctr}:/no/such`)
  const dirOverFile = dk(['cp', join(f.dir, 'src', 'tree'), `${ctr}:/tmp/file`])
  assert.equal(dirOverFile.status, 1)
  assert.match(dirOverFile.stderr, /cannot copy directory/)
}

test('docker cp both ways through the API, on a stopped and on a running container', async (t) => {
  if (skip(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'arc-cli']))
  assert.equal(f.nsx(['create', '--name', 'arc-cli', '--layer', f.base, 'sleep', '1000']).status, 0)
  dockerCpChecks(f, 'arc-cli', 'stopped')
  assert.deepEqual(hostMountsMentioning(f.store), [])
  assert.equal(dk(['start', 'arc-cli']).status, 0)
  dockerCpChecks(f, 'arc-cli', 'running')
  const unknown = dk(['cp', 'nosuch:/etc/passwd', f.dir])
  assert.equal(unknown.status, 1)
  assert.equal(unknown.stderr.trim(), 'Error: No such container:path: nosuch:/etc/passwd')
})

test('docker-py: put_archive and get_archive', async (t) => {
  if (skip(t)) return
  const py = spawnSync('python3', ['-c', 'import docker'], {encoding: 'utf8'})
  if (py.status !== 0) {
    if (IN_CI) assert.fail(`needs python3-docker: ${py.stderr}`)
    return t.skip('needs python3-docker')
  }
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'arc-py']))
  assert.equal(f.nsx(['run', '-d', '--name', 'arc-py', '--layer', f.base, 'sleep', '1000']).status, 0)
  const script = `
import io, tarfile, docker
c = docker.from_env().containers.get('arc-py')
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as tf:
    data = b'from docker-py\\n'
    info = tarfile.TarInfo('py/hello.txt'); info.size = len(data); info.mode = 0o640
    tf.addfile(info, io.BytesIO(data))
assert c.put_archive('/tmp', buf.getvalue()) is True
bits, stat = c.get_archive('/tmp/py/hello.txt')
raw = b''.join(bits)
with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
    m = tf.getmember('hello.txt')
    assert tf.extractfile(m).read() == b'from docker-py\\n'
    assert m.mode & 0o777 == 0o640, oct(m.mode)
assert stat['name'] == 'hello.txt' and stat['size'] == 15, stat
bits, stat = c.get_archive('/data')
with tarfile.open(fileobj=io.BytesIO(b''.join(bits))) as tf:
    assert sorted(tf.getnames()) == ['data', 'data/a', 'data/sub', 'data/sub/b'], tf.getnames()
for call in (lambda: c.get_archive('/no/such'), lambda: c.put_archive('/no/such', buf.getvalue())):
    try:
        call()
        raise SystemExit('expected NotFound')
    except docker.errors.NotFound:
        pass
print('archive: ok')
`
  const r = spawnSync('python3', ['-c', script], {encoding: 'utf8', timeout: 120000, env: {...process.env, DOCKER_HOST: svc!.host}})
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\nservice log:\n${svc!.log()}`)
  assert.match(r.stdout, /archive: ok/)
})
