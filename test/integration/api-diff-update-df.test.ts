import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
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

/** The container's cgroup file in a v1 hierarchy (or the cgroup2 one) named by its state. */
function cgroupFile(name: string, file: string): string {
  const id = JSON.parse(fx!.nsx(['container', 'inspect', name]).stdout)[0].Id as string
  const dirs = JSON.parse(readFileSync(join(fx!.store, 'run', id, 'state.json'), 'utf8')).cgroups as string[]
  for (const d of dirs) if (existsSync(join(d, file))) return readFileSync(join(d, file), 'utf8').trim()
  return assert.fail(`no ${file} in ${dirs.join(' ')}`)
}

const inspectOf = (name: string) => JSON.parse(fx!.nsx(['container', 'inspect', name]).stdout)[0] as {Id: string; HostConfig: {Memory: number; CpuShares: number; PidsLimit: number; RestartPolicy: {Name: string; MaximumRetryCount: number}}}

test('docker update: nsx update, POST /containers/{id}/update, the docker CLI and docker-py change the same limits and restart policy; what cannot change is refused', async (t) => {
  if (skip(t)) return
  const mem = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') ? 'memory.limit_in_bytes' : 'memory.max'
  const run = fx!.nsx(['run', '-d', '--name', 'upd', '--network', 'none', '--restart', 'always', '-m', '400m', 'busybox', 'sh', '-c', 'while [ ! -e /stop ]; do sleep 0.1; done; exit 3'])
  assert.equal(run.status, 0, run.stderr)
  // The docker CLI: every field of docker's UpdateConfig sent, the zero ones meaning "no change".
  const d = dk(['update', '--memory', '300m', '--cpu-shares', '512', '--pids-limit', '50', 'upd'])
  assert.deepEqual([d.status, d.stdout, d.stderr], [0, 'upd\n', ''])
  assert.equal(cgroupFile('upd', mem), String(300 << 20))
  assert.equal(cgroupFile('upd', 'pids.max'), '50')
  let h = inspectOf('upd').HostConfig
  assert.deepEqual([h.Memory, h.CpuShares, h.PidsLimit], [300 << 20, 512, 50])
  // The API checked against the swagger; nsx update sees what the API set.
  assert.deepEqual(await conforms('POST', '/containers/upd/update', '/containers/{id}/update', {Memory: 200 << 20, CpuShares: 0, PidsLimit: null}), {Warnings: []})
  assert.equal(cgroupFile('upd', mem), String(200 << 20))
  const n = fx!.nsx(['update', '--json', '--pids-limit', '60', 'upd'])
  assert.equal(n.status, 0, n.stderr)
  assert.deepEqual(JSON.parse(n.stdout)[0].limits, {memory: 200 << 20, cpuShares: 512, pids: 60})
  // docker-py, as its suite does it: memory, then the restart policy of the running container.
  const p = py("c.update_container('upd', mem_limit=300 * 1024 * 1024)\nc.update_container('upd', restart_policy={'Name': 'on-failure', 'MaximumRetryCount': 42})\nprint(json.dumps(c.inspect_container('upd')['HostConfig']['RestartPolicy']))")
  assert.equal(p.status, 0, p.stderr)
  assert.deepEqual(JSON.parse(p.stdout), {Name: 'on-failure', MaximumRetryCount: 42})
  h = inspectOf('upd').HostConfig
  assert.equal(h.Memory, 300 << 20)
  // The supervisor takes a new policy while it runs: "no", and the container's exit is its last.
  const id = inspectOf('upd').Id
  assert.equal(fx!.nsx(['update', '--restart', 'no', 'upd']).status, 0)
  const supervisor = Number(readFileSync(join(fx!.store, 'run', id, 'pids'), 'utf8').split(' ')[0])
  assert.equal(fx!.nsx(['exec', 'upd', 'touch', '/stop']).status, 0)
  const w = fx!.nsx(['wait', 'upd'])
  assert.equal(w.stdout, '3\n')
  const exited = new Promise<void>((resolve) => {
    const poll = () => (existsSync(`/proc/${supervisor}`) ? setTimeout(poll, 50) : resolve())
    poll()
  })
  await exited
  assert.match(readFileSync(join(fx!.store, 'run', id, 'exit'), 'utf8'), /^3 \d+ restarts=0/)
  // A stopped container's limits are saved for its next start.
  assert.equal(fx!.nsx(['update', '-m', '100m', 'upd']).status, 0)
  assert.equal(inspectOf('upd').HostConfig.Memory, 100 << 20)
  // Refused, one line, nothing changed: a restart policy for a container running without one, a field nsx lacks, a bad value, no such container.
  assert.equal(fx!.nsx(['run', '-d', '--name', 'upd2', '--network', 'none', 'busybox', 'sleep', '1000']).status, 0)
  const noPolicy = dk(['update', '--restart', 'always', 'upd2'])
  assert.equal(noPolicy.status, 1)
  assert.match(noPolicy.stderr, /container upd2 runs without a restart policy/)
  assert.equal(inspectOf('upd2').HostConfig.RestartPolicy.Name, 'no')
  const kmem = await api(svc!.socket, 'POST', '/v1.41/containers/upd2/update', JSON.stringify({KernelMemory: 1 << 20}))
  assert.deepEqual([kmem.status, JSON.parse(kmem.body).message], [400, 'nsx cannot update KernelMemory of a container'])
  const bad = dk(['update', '--cpu-shares', '1', 'upd2'])
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /invalid --cpu-shares '1'/)
  const none = await api(svc!.socket, 'POST', '/v1.41/containers/upd-nonesuch/update', JSON.stringify({Memory: 1 << 26}))
  assert.equal(none.status, 404)
  assert.equal(check('POST', '/containers/{id}/update', 404, JSON.parse(none.body)), '')
  const nsxNone = fx!.nsx(['update', '-m', '64m', 'upd-nonesuch'])
  assert.deepEqual([nsxNone.status, nsxNone.stderr], [1, 'nsx update: No such container: upd-nonesuch\n'])
  assert.equal(fx!.nsx(['rm', '-f', 'upd', 'upd2']).status, 0)
})
