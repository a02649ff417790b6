import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import {join} from 'node:path'
import {ApiService, startApiService} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {containerToolsPresent, Fixture, makeFixture} from '../helpers/container.js'
import {IN_CI, REPO} from '../helpers/env.js'

/** docker-py (Debian's python3-docker) drives nsx through the Engine API: test/helpers/docker-py-workflow.py. */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-apipy-') : undefined
let svc: ApiService | undefined
after(() => svc?.stop())

test('docker-py: run, logs, exec, top, stats, rename, pause, stop, wait, restart, kill, remove, attach, errors', async (t) => {
  const py = spawnSync('python3', ['-c', 'import docker'], {encoding: 'utf8'})
  if (!fx || py.status !== 0) {
    if (IN_CI) assert.fail(`needs root, gcc, busybox-static and python3-docker: ${py.stderr}`)
    return t.skip('needs root, gcc, busybox-static and python3-docker')
  }
  mkdirSync(join(fx.dir, 'img'), {recursive: true})
  const l = fx.nsx(['load', '-i', buildBusyboxArchive(join(fx.dir, 'img'))])
  assert.equal(l.status, 0, l.stderr)
  svc = await startApiService(fx.dir, fx.env)
  const r = spawnSync('python3', [join(REPO, 'test', 'helpers', 'docker-py-workflow.py')], {encoding: 'utf8', timeout: 180000, env: {...process.env, DOCKER_HOST: svc.host}})
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\nservice log:\n${svc.log()}`)
  assert.match(r.stdout, /docker-py workflow: ok/)
  // The service runs its own bundle with the resident flags (bench/README.md, api.sh: RSS), and
  // the malloc setting it runs with is not passed on: an exec'd process does not see it.
  const cmdline = readFileSync(`/proc/${svc.proc.pid}/cmdline`, 'utf8').split('\0')
  assert.ok(cmdline.some((a) => a.endsWith('dist/fast/service.cjs')) && cmdline.includes('--no-opt'), cmdline.join(' '))
  assert.match(readFileSync(`/proc/${svc.proc.pid}/environ`, 'utf8'), /MALLOC_ARENA_MAX=1/)
  const env = spawnSync('python3', ['-c', `import docker; c = docker.DockerClient(base_url='${svc.host}'); w = c.containers.run('busybox', ['sleep', '30'], detach=True); print(w.exec_run(['env']).output.decode()); w.remove(force=True)`], {encoding: 'utf8', timeout: 60000})
  assert.equal(env.status, 0, env.stderr)
  assert.match(env.stdout, /PATH=/)
  assert.doesNotMatch(env.stdout, /MALLOC_ARENA_MAX|NSX_SERVICE/)
})

test('an idle kept-alive connection stays open until the client closes it, as dockerd keeps it', async (t) => {
  if (!fx) {
    if (IN_CI) assert.fail('needs root, gcc and busybox-static')
    return t.skip('needs root, gcc and busybox-static')
  }
  // Node's default keepAliveTimeout (5 s) closed it: a pooling client (docker-py's urllib3, a Node
  // agent) that sent its next request as the service closed got a reset or EPIPE. Go's net/http,
  // dockerd's, has no idle timeout unless told. The wait is the span under test (past 5 s).
  mkdirSync(join(fx.dir, 'keepalive'), {recursive: true})
  const ka = await startApiService(join(fx.dir, 'keepalive'), fx.env)
  const agent = new Agent({keepAlive: true, maxSockets: 1})
  try {
    const ping = () => new Promise<{status: number; reused: boolean}>((resolve, reject) => {
      const req = request({socketPath: ka.socket, path: '/_ping', agent}, (res) => {
        res.resume()
        res.on('end', () => resolve({status: res.statusCode ?? 0, reused: req.reusedSocket}))
      })
      req.on('error', reject)
      req.end()
    })
    assert.deepEqual(await ping(), {status: 200, reused: false})
    await sleep(6500)
    assert.deepEqual(await ping(), {status: 200, reused: true}, 'the service closed the idle connection')
  } finally {
    agent.destroy()
    await ka.stop()
  }
})
