import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {api, ApiService, dockerCli, conformsOn, serviceWithBusybox, swaggerChecker} from '../helpers/api.js'
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
  svc = await serviceWithBusybox(fx)
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

const conforms = (method: string, url: string, template: string, body?: object): Promise<unknown> => conformsOn(svc!.socket, check, method, url, template, body)

test('docker diff: nsx diff NAME, nsx container diff, GET /containers/{id}/changes, the docker CLI and docker-py agree', async (t) => {
  if (skip(t)) return
  t.after(() => fx!.nsx(['rm', '-f', 'chg', 'chg-fresh']))
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
  const sleeper = spawn('sleep', ['1000'], {stdio: 'ignore'})
  try {
    const two = fx!.nsx(['diff', String(sleeper.pid), String(sleeper.pid)])
    assert.equal(two.status, 0, two.stderr)
  } finally {
    sleeper.kill()
  }
  // No such container: docker's message, exit 1 (docker diff's), 404 through the API.
  const none = fx!.nsx(['diff', 'chg-nonesuch'])
  assert.deepEqual([none.status, none.stderr.trim()], [1, 'nsx diff: No such container: chg-nonesuch'])
  const dnone = dk(['diff', 'chg-nonesuch'])
  assert.equal(dnone.status, 1)
  assert.match(dnone.stderr, /No such container: chg-nonesuch/)
  assert.equal((await api(svc!.socket, 'GET', '/v1.41/containers/chg-nonesuch/changes')).status, 404)
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
  t.after(() => fx!.nsx(['rm', '-f', 'upd', 'upd2']))
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
})

test('docker system df and prune: nsx system df and the docker CLI print the same; GET /system/df, the prune endpoints and nsx system prune share one sweep', async (t) => {
  if (skip(t)) return
  t.after(() => {
    fx!.nsx(['rm', '-f', '-v', 'dfc'])
    fx!.nsx(['network', 'rm', 'dfnet'])
    fx!.nsx(['volume', 'rm', 'dfvol'])
    fx!.nsx(['load', '-i', join(fx!.dir, 'img', 'busybox.tar')])
  })
  // A second image sharing busybox's layer (shared size), a stopped container with a file, a volume, a network, a build cache entry.
  mkdirSync(join(fx!.dir, 'ctx'), {recursive: true})
  writeFileSync(join(fx!.dir, 'ctx', 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\n')
  const b = fx!.nsx(['build', '-t', 'dfimg:1', join(fx!.dir, 'ctx')], {timeout: 120000})
  assert.equal(b.status, 0, b.stderr)
  assert.equal(fx!.nsx(['run', '--name', 'dfc', '--network', 'none', '-v', 'dfvol:/data', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /data/z; head -c 50000 /dev/zero > /f']).status, 0)
  assert.equal(fx!.nsx(['network', 'create', 'dfnet']).status, 0)
  const nsxDf = fx!.nsx(['system', 'df'])
  assert.equal(nsxDf.status, 0, nsxDf.stderr)
  const dockerDf = dk(['system', 'df'])
  assert.equal(dockerDf.status, 0, dockerDf.stderr)
  assert.equal(nsxDf.stdout, dockerDf.stdout)
  const rows = nsxDf.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/))
  assert.deepEqual(rows.map((r) => r.slice(0, 3)), [['TYPE', 'TOTAL', 'ACTIVE'], ['Images', '2', '1'], ['Containers', '1', '0'], ['Local Volumes', '1', '1'], ['Build Cache', '1', '0']])
  // The API's answer conforms; the shared layer is counted once, and is each image's shared size.
  const u = await conforms('GET', '/system/df', '/system/df') as {LayersSize: number; Images: {RepoTags: string[]; Size: number; SharedSize: number; Containers: number}[]; Volumes: {Name: string; UsageData: {Size: number; RefCount: number}}[]; Containers: {SizeRw: number}[]}
  const busybox = u.Images.find((i) => i.RepoTags.includes('busybox:latest'))!
  assert.ok(busybox && u.Images.some((i) => i.RepoTags.includes('dfimg:1')), JSON.stringify(u.Images))
  const built = u.Images.find((i) => i.RepoTags.includes('dfimg:1'))!
  assert.equal(busybox.SharedSize, busybox.Size)
  assert.equal(built.SharedSize, busybox.Size)
  assert.ok(built.Size > busybox.Size)
  assert.equal(u.LayersSize, built.Size)
  assert.deepEqual([busybox.Containers, built.Containers], [1, 0])
  const vol = u.Volumes.find((v) => v.Name === 'dfvol')!
  assert.ok(vol.UsageData.Size >= 100000 && vol.UsageData.RefCount === 1, JSON.stringify(vol))
  assert.ok(u.Containers[0].SizeRw >= 50000, JSON.stringify(u.Containers))
  assert.deepEqual(JSON.parse(fx!.nsx(['system', 'df', '--json']).stdout).layersSize, u.LayersSize)
  const p = py("d = c.df()\nprint(json.dumps(sorted(d)))")
  assert.equal(p.status, 0, p.stderr)
  assert.deepEqual(JSON.parse(p.stdout), ['BuildCache', 'Containers', 'Images', 'LayersSize', 'Volumes'])
  assert.match(fx!.nsx(['system', 'df', '-v']).stdout, /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/)
  // Without -f and without a yes, nothing goes.
  const no = fx!.nsx(['system', 'prune'], {input: 'n\n'})
  assert.equal(no.status, 0, no.stderr)
  assert.match(no.stdout, /Are you sure you want to continue\? \[y\/N\] $/)
  assert.equal(JSON.parse(fx!.nsx(['ps', '-a', '--json']).stdout).length, 1)
  // docker builder prune through the API, checked against the swagger: the entry's layer is dfimg:1's (shared), so only all=1 takes it.
  assert.deepEqual(await conforms('POST', '/build/prune', '/build/prune'), {CachesDeleted: [], SpaceReclaimed: 0})
  const cache = await conforms('POST', '/build/prune?all=1', '/build/prune') as {CachesDeleted: string[]; SpaceReclaimed: number}
  assert.equal(cache.CachesDeleted.length, 1)
  // docker system prune -a --volumes: the docker CLI calls each area's prune; nsx's own finds nothing left.
  const dp = dk(['system', 'prune', '-a', '--volumes', '-f'])
  assert.equal(dp.status, 0, dp.stderr)
  assert.match(dp.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\ndfnet\n\nDeleted Volumes:\ndfvol\n\nDeleted Images:\n(untagged: .*\n)+(deleted: sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: \d/)
  const again = fx!.nsx(['system', 'prune', '-a', '--volumes', '-f', '--json'])
  assert.equal(again.status, 0, again.stderr)
  assert.deepEqual(JSON.parse(again.stdout), {ContainersDeleted: [], NetworksDeleted: [], VolumesDeleted: [], ImagesDeleted: [], CachesDeleted: [], SpaceReclaimed: 0})
  assert.equal(fx!.nsx(['system', 'df']).stdout.split('\n')[1].split(/\s{2,}/).slice(1, 4).join(' '), '0 0 0B')
})

test('nsx system prune removes what nsx makes, and the store keeps what running containers use', async (t) => {
  if (skip(t)) return
  t.after(() => {
    fx!.nsx(['rm', '-f', '-v', 'pr-live', 'pr-dead'])
    fx!.nsx(['volume', 'rm', 'prvol'])
  })
  assert.equal(fx!.nsx(['run', '-d', '--name', 'pr-live', '--network', 'none', '-v', 'prvol:/data', 'busybox', 'sleep', '1000']).status, 0)
  assert.equal(fx!.nsx(['run', '--name', 'pr-dead', '--network', 'none', 'busybox', 'true']).status, 0)
  const r = fx!.nsx(['system', 'prune', '-a', '--volumes', '-f'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /)
  const ps = JSON.parse(fx!.nsx(['ps', '-a', '--json']).stdout) as {name: string}[]
  assert.deepEqual(ps.map((c) => c.name), ['pr-live'])
  assert.equal(fx!.nsx(['volume', 'inspect', 'prvol']).status, 0)
})
