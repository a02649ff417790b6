import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync} from 'node:fs'
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
})
