import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {api, ApiService, dockerCli, startApiService, swaggerChecker} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {containerToolsPresent, Fixture, makeFixture} from '../helpers/container.js'
import {IN_CI} from '../helpers/env.js'

/**
 * docker diff, docker update, docker system df and the prunes through both doors: nsx's own
 * commands and the Engine API (the docker CLI, docker-py), the API's answers checked against
 * moby's swagger 1.41, the two doors giving the same answers.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-apimore-') : undefined
let svc: ApiService | undefined
let docker: string
let check: Awaited<ReturnType<typeof swaggerChecker>>
after(() => svc?.stop())

before(async () => {
  check = await swaggerChecker()
  if (!fx) return
  docker = dockerCli()
  mkdirSync(join(fx.dir, 'img'), {recursive: true})
  const l = fx.nsx(['load', '-i', buildBusyboxArchive(join(fx.dir, 'img'))])
  assert.equal(l.status, 0, l.stderr)
  svc = await startApiService(fx.dir, fx.env)
  mkdirSync(join(fx.dir, 'docker-config'), {recursive: true})
})

function skip(t: {skip(m: string): void}): boolean {
  const py = spawnSync('python3', ['-c', 'import docker'], {encoding: 'utf8'})
  if (fx && py.status === 0) return false
  if (IN_CI) assert.fail(`needs root, gcc, busybox-static and python3-docker: ${py.stderr}`)
  t.skip('needs root, gcc, busybox-static and python3-docker')
  return true
}

function dk(args: string[]) {
  const r = spawnSync(docker, args, {encoding: 'utf8', timeout: 60000, env: {...process.env, DOCKER_HOST: svc!.host, DOCKER_CONFIG: join(fx!.dir, 'docker-config')}})
  return {status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
}

/** docker-py's APIClient against the service: `code` runs with `c` bound, its last line printed as JSON. */
function py(code: string) {
  const r = spawnSync('python3', ['-c', `import docker, json, sys\nc = docker.APIClient(base_url='${svc!.host}', version='1.41')\n${code}`], {encoding: 'utf8', timeout: 60000})
  return {status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
}

async function conforms(method: string, url: string, template: string, body?: object): Promise<unknown> {
  const r = await api(svc!.socket, method, `/v1.41${url}`, body === undefined ? undefined : JSON.stringify(body))
  assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${r.body}`)
  const parsed = r.body.trim() === '' ? undefined : JSON.parse(r.body)
  const errors = check(method, template, r.status, parsed)
  assert.equal(errors, '', `${method} ${url} does not conform to the 1.41 swagger:\n${errors}\n${r.body.slice(0, 2000)}`)
  return parsed
}

test('docker diff: nsx diff NAME, nsx container diff, GET /containers/{id}/changes, the docker CLI and docker-py agree', async (t) => {
  if (skip(t)) return
  // Added, changed, deleted (a whiteout), and a directory removed and made again (opaque: docker's D, then its new files A).
  const script = 'touch /test && echo more >> /etc/motd && rm /etc/group && rm -rf /tmp && mkdir /tmp && touch /tmp/x'
  const r = fx!.nsx(['run', '--name', 'chg', '--network', 'none', 'busybox', 'sh', '-c', script])
  assert.equal(r.status, 0, r.stderr)
  const expected = 'C /etc\nD /etc/group\nC /etc/motd\nA /test\nD /tmp\nA /tmp/x\n'
  const one = fx!.nsx(['diff', 'chg'])
  assert.equal(one.status, 0, one.stderr)
  assert.equal(one.stdout, expected)
  assert.equal(fx!.nsx(['container', 'diff', 'chg']).stdout, expected)
  const json = JSON.parse(fx!.nsx(['container', 'diff', '--json', 'chg']).stdout) as unknown
  const viaApi = await conforms('GET', '/containers/chg/changes', '/containers/{id}/changes')
  assert.deepEqual(viaApi, json)
  assert.deepEqual((json as {Kind: number}[]).map((c) => c.Kind), [0, 2, 0, 1, 2, 1])
  const d = dk(['diff', 'chg'])
  assert.equal(d.status, 0, d.stderr)
  assert.equal(d.stdout, expected)
  const p = py("print(json.dumps(c.diff('chg')))")
  assert.equal(p.status, 0, p.stderr)
  assert.deepEqual(JSON.parse(p.stdout), json)
  // A fresh container changed nothing: no mount point nsx made shows (docker's init layer keeps them out).
  const fresh = fx!.nsx(['create', '--name', 'chg-fresh', '--network', 'none', 'busybox', 'true'])
  assert.equal(fresh.status, 0, fresh.stderr)
  assert.equal(fx!.nsx(['start', '-a', 'chg-fresh']).status, 0)
  assert.equal(fx!.nsx(['diff', 'chg-fresh']).stdout, '')
  assert.deepEqual(await conforms('GET', '/containers/chg-fresh/changes', '/containers/{id}/changes'), [])
  // The two-argument form still compares isolation.
  const two = fx!.nsx(['diff', String(process.pid), String(process.pid)])
  assert.equal(two.status, 0, two.stderr)
  // No such container: docker's message, exit 1 (docker diff's), 404 through the API.
  const none = fx!.nsx(['diff', 'chg-nonesuch'])
  assert.deepEqual([none.status, none.stderr.trim()], [1, 'nsx diff: No such container: chg-nonesuch'])
  const dnone = dk(['diff', 'chg-nonesuch'])
  assert.equal(dnone.status, 1)
  assert.match(dnone.stderr, /No such container: chg-nonesuch/)
  assert.equal((await api(svc!.socket, 'GET', '/v1.41/containers/chg-nonesuch/changes')).status, 404)
  assert.equal(fx!.nsx(['rm', 'chg', 'chg-fresh']).status, 0)
})
