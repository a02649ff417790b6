import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {api, dockerCliFixture, startApiService} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {makeNetLab, needNetLab} from '../helpers/netns.js'

/**
 * What docker-py's own suite found nsx doing otherwise than docker, each through nsx's CLI and
 * the Engine API (docker-py, the docker CLI) alike: a bare -e NAME, --isolation, --log-driver
 * (none, an unknown one), --volume-driver, exec of a command that is not there (126), the wait
 * of an --rm container that exits 1, rm --link.
 */

const {h, skip, dk} = dockerCliFixture({after, before}, 'nsx-parity-')

/** docker-py: `c` the low-level client, `m` the high-level one; the script prints what the test reads. */
const py = (code: string) => {
  const r = spawnSync('python3', ['-c', `import docker, json\nc = docker.APIClient(base_url='${h.svc!.host}', version='1.41')\nm = docker.DockerClient(base_url='${h.svc!.host}', version='1.41')\n${code}`], {encoding: 'utf8', timeout: 120000})
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\nservice log:\n${h.svc!.log().slice(-2000)}`)
  return r.stdout
}
const inspect = (name: string) => JSON.parse(h.fx!.nsx(['container', 'inspect', name]).stdout)[0]
const count = () => (JSON.parse(h.fx!.nsx(['ps', '-a', '--json']).stdout) as unknown[]).length

test('a bare -e NAME: the caller\'s value through the CLI, else kept bare in Config.Env and unset in the process (the image\'s value too), as docker', (t) => {
  if (skip(t)) return
  // nsx run: Foo takes this caller's value; Bar (unset here) stays bare.
  const r = h.fx!.nsx(['run', '--name', 'envs', '-e', 'Foo', '-e', 'Bar', '--layer', h.fx!.base, '--', 'env'], {env: {Foo: 'caller'}})
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^Foo=caller$/m)
  assert.doesNotMatch(r.stdout, /^Bar/m)
  assert.deepEqual(inspect('envs').Config.Env.filter((e: string) => /^(Foo|Bar)/.test(e)), ['Foo=caller', 'Bar'])
  // docker-py sends Foo bare (its suite's test_create_with_environment_variable_no_value); the service's own environment is never read.
  const out = py(`x = c.create_container('busybox', ['env'], environment={'Foo': None, 'Other': 'one', 'Blank': '', 'PATH': None}, name='envpy')
print(json.dumps(c.inspect_container(x)['Config']['Env']))
c.start(x); c.wait(x); print(c.logs(x).decode())`)
  const [env, ...logs] = out.split('\n')
  const cfg = JSON.parse(env) as string[]
  for (const e of ['Foo', 'Other=one', 'Blank=', 'PATH']) assert.ok(cfg.includes(e), `${e} not in ${env}`)
  const got = logs.join('\n')
  assert.match(got, /^Other=one$/m)
  assert.match(got, /^Blank=$/m)
  assert.doesNotMatch(got, /^(Foo|PATH)=/m)
  // nsx exec: -e NAME unsets the container's NAME; the docker CLI's exec -e too.
  assert.equal(h.fx!.nsx(['run', '-d', '--name', 'envx', '-e', 'A=1', '-e', 'B=2', '--layer', h.fx!.base, '--', 'sleep', '1000']).status, 0)
  const x = h.fx!.nsx(['exec', '-e', 'A', '-e', 'C', 'envx', 'env'], {env: {C: 'caller'}})
  assert.equal(x.status, 0, x.stderr)
  assert.doesNotMatch(x.stdout, /^A=/m)
  assert.match(x.stdout, /^B=2$/m)
  assert.match(x.stdout, /^C=caller$/m)
  const dx = dk(['exec', '-e', 'B', 'envx', 'env'])
  assert.equal(dx.status, 0, dx.stderr)
  assert.doesNotMatch(dx.stdout, /^B=/m)
  assert.match(dx.stdout, /^A=1$/m)
  assert.equal(h.fx!.nsx(['rm', '-f', 'envs', 'envpy', 'envx']).status, 0)
})

test('--isolation: default kept and shown (HostConfig.Isolation), any other refused with docker\'s words; --volume-driver kept, refused only where it would make a volume', (t) => {
  if (skip(t)) return
  const before = count()
  assert.equal(h.fx!.nsx(['create', '--name', 'iso', '--isolation', 'default', '--volume-driver', 'foo', '--layer', h.fx!.base, '--', 'true']).status, 0)
  assert.equal(inspect('iso').HostConfig.Isolation, 'default')
  assert.equal(inspect('iso').HostConfig.VolumeDriver, 'foo')
  const bad = h.fx!.nsx(['run', '--rm', '--isolation', 'hyperv', '--layer', h.fx!.base, '--', 'true'])
  assert.equal(bad.status, 125)
  assert.equal(bad.stderr, 'nsx run: Invalid isolation: "hyperv" - linux only supports \'default\'\n')
  const vol = h.fx!.nsx(['run', '--rm', '--volume-driver', 'foo', '-v', 'parityvol:/data', '--layer', h.fx!.base, '--', 'true'])
  assert.equal(vol.status, 125)
  assert.equal(vol.stderr, 'nsx run: create parityvol: error looking up volume plugin foo: plugin "foo" not found\n')
  assert.equal(h.fx!.nsx(['volume', 'ls', '-q']).stdout.includes('parityvol'), false, 'the volume was made')
  // docker-py, as its suite: isolation='default' and volume_driver='foo' shown; the docker CLI's refusal.
  const out = py(`x = c.create_container('busybox', ['echo'], host_config=c.create_host_config(isolation='default'))
print(c.inspect_container(x)['HostConfig']['Isolation']); c.remove_container(x)
y = m.containers.create('busybox', 'sleep 300', volume_driver='foo'); print(y.attrs['HostConfig']['VolumeDriver']); y.remove()`)
  assert.equal(out, 'default\nfoo\n')
  const d = dk(['run', '--rm', '--isolation', 'process', 'busybox', 'true'])
  assert.equal(d.status, 125)
  assert.match(d.stderr, /Invalid isolation: "process" - linux only supports 'default'/)
  const dv = dk(['run', '--rm', '--volume-driver', 'foo', '-v', '/anon', 'busybox', 'true'])
  assert.equal(dv.status, 125)
  assert.match(dv.stderr, /error looking up volume plugin foo: plugin "foo" not found/)
  assert.equal(h.fx!.nsx(['rm', 'iso']).status, 0)
  assert.equal(count(), before, 'a refused create left a container')
})

test('--log-driver: an unknown one is docker\'s 500 "no log driver named"; none keeps no log (logs: docker\'s 501), attach and a foreground run still get the output', async (t) => {
  if (skip(t)) return
  const before = count()
  const u = h.fx!.nsx(['run', '--rm', '--log-driver', 'asdf', '--layer', h.fx!.base, '--', 'true'])
  assert.equal(u.status, 125)
  assert.equal(u.stderr, "nsx run: logger: no log driver named 'asdf' is registered\n")
  const r = await api(h.svc!.socket, 'POST', '/v1.41/containers/create', JSON.stringify({Image: 'busybox', Cmd: ['true'], HostConfig: {LogConfig: {Type: 'asdf', Config: {}}}}), {'Content-Type': 'application/json'})
  assert.equal(r.status, 500, r.body)
  assert.deepEqual(JSON.parse(r.body), {message: "logger: no log driver named 'asdf' is registered"})
  assert.equal(count(), before)

  // A foreground run's output is relayed; nothing is kept; logs says so, as docker's daemon.
  const f = h.fx!.nsx(['run', '--name', 'nolog', '--log-driver', 'none', '--layer', h.fx!.base, '--', 'sh', '-c', 'echo out; echo err >&2'])
  assert.equal(f.status, 0, f.stderr)
  assert.equal(f.stdout, 'out\n')
  assert.equal(f.stderr, 'err\n')
  const dir = inspect('nolog').Nsx.Dir as string
  assert.deepEqual(readdirSync(dir).filter((x) => x.startsWith('container.log')), [])
  assert.equal(inspect('nolog').HostConfig.LogConfig.Type, 'none')
  const l = h.fx!.nsx(['logs', 'nolog'])
  assert.equal(l.status, 1)
  assert.equal(l.stderr, 'nsx logs: configured logging driver does not support reading\n')
  const dl = dk(['logs', 'nolog'])
  assert.equal(dl.status, 1)
  assert.match(dl.stderr, /configured logging driver does not support reading/)
  // start -a attaches from the start on: the whole output.
  const s = h.fx!.nsx(['start', '-a', 'nolog'])
  assert.equal(s.status, 0, s.stderr)
  assert.equal(s.stdout, 'out\n')
  assert.ok(!existsSync(join(dir, 'container.log')))
  // docker-py's containers.run with log_config none returns None (its suite's test_run_with_none_driver).
  assert.equal(py(`print(m.containers.run('busybox', 'echo hello', log_config=dict(type='none'), remove=True))`), 'None\n')
  assert.equal(h.fx!.nsx(['rm', 'nolog']).status, 0)
  assert.equal(count(), before)
})

test('exec of a command that is not there: 126, as docker exec (nsx exec, exec inspect\'s ExitCode, docker exec)', (t) => {
  if (skip(t)) return
  assert.equal(h.fx!.nsx(['run', '-d', '--name', 'execs', '--layer', h.fx!.base, '--', 'sleep', '1000']).status, 0)
  const n = h.fx!.nsx(['exec', 'execs', 'docker', 'ps'])
  assert.equal(n.status, 126)
  assert.equal(h.fx!.nsx(['exec', 'execs', 'sh', '-c', 'no-such-cmd']).status, 127, "the command's own 127 stays its own")
  assert.equal(py(`print(m.containers.get('execs').exec_run('docker ps')[0])`), '126\n')
  assert.equal(dk(['exec', 'execs', 'docker', 'ps']).status, 126)
  assert.equal(h.fx!.nsx(['rm', '-f', 'execs']).status, 0)
})

test("the wait of an --rm container that exits 1 reports 1 while its supervisor removes it (docker-py's run with auto_remove raises ContainerError)", (t) => {
  if (skip(t)) return
  const before = count()
  // The supervisor removed the directory file by file: a reader between state.json and config.json saw "created", and wait answered 0.
  const out = py(`codes = []
for i in range(4):
    x = c.create_container('busybox', ['sh', '-c', 'echo error >&2; sleep 0.3; exit 1'], host_config=c.create_host_config(auto_remove=True))
    c.start(x)
    codes.append(c.wait(x)['StatusCode'])
print(codes)
try:
    m.containers.run('busybox', 'sh -c ">&2 echo error && sleep 1 && exit 1"', auto_remove=True)
    print('no error')
except docker.errors.ContainerError as e:
    print(e.exit_status, e.stderr)`)
  assert.equal(out, '[1, 1, 1, 1]\n1 None\n')
  const d = dk(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 0.3; exit 3'])
  assert.equal(d.status, 3, d.stderr)
  assert.equal(count(), before)
})

test('rm --link PARENT/ALIAS (DELETE /containers/PARENT/ALIAS?link=1): the link goes from PARENT, both containers stay', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  assert.equal(lab.nsx(['run', '-d', '--name', 'db', '--layer', lab.layer, '--', 'sleep', '1000']).status, 0)
  assert.equal(lab.nsx(['create', '--name', 'web', '--link', 'db:database', '--link', 'db:other', '--layer', lab.layer, '--', 'sleep', '1000']).status, 0)
  const links = () => JSON.parse(lab.nsx(['container', 'inspect', 'web']).stdout)[0].HostConfig.Links as string[]
  assert.deepEqual(links(), ['/db:/web/database', '/db:/web/other'])
  const r = lab.nsx(['rm', '--link', 'web/database'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'web/database\n')
  assert.deepEqual(links(), ['/db:/web/other'])
  const again = lab.nsx(['rm', '--link', 'web/database'])
  assert.equal(again.status, 1)
  assert.equal(again.stderr, 'nsx rm: No such container: web/database\n')
  const noParent = lab.nsx(['rm', '--link', 'db'])
  assert.equal(noParent.status, 1)
  assert.match(noParent.stderr, /^nsx rm: Conflict, cannot remove the default link name of the container\n$/)
  // docker-py, as its suite's test_remove_link.
  mkdirSync(join(lab.dir, 'img'), {recursive: true})
  assert.equal(lab.nsx(['load', '-i', buildBusyboxArchive(join(lab.dir, 'img'))]).status, 0)
  const s = await startApiService(lab.dir, {...process.env, NSX_ROOT: lab.store, NO_COLOR: '1', NSX_NETWORK: 'bridge'}, lab.pid)
  t.after(() => s.stop())
  const py = lab.run('python3', ['-c', `import docker
c = docker.APIClient(base_url='${s.host}', version='1.41')
c.remove_container('web/other', link=True)
print(c.inspect_container('web')['HostConfig']['Links'], sorted(x['Names'][0] for x in c.containers(all=True)))`])
  assert.equal(py.status, 0, `${py.stderr}\n${s.log()}`)
  assert.equal(py.stdout, "[] ['/db', '/web']\n")
  assert.equal(lab.nsx(['rm', '-f', 'web', 'db']).status, 0)
})
