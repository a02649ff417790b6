import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseCpus, parseCpuset, parseMemory, parsePidsLimit} from '../../src/container/limits.js'
import {buildEnv, parseVolume, resolveCaps, resolveCommand, resolveUser} from '../../src/container/spec.js'
import {parseRunArgs} from '../../src/container/options.js'
import {expandEnv, resolveCallerEnv} from '../../src/container/env-flags.js'
import {encodeEnv} from '../../src/container/plan.js'
import {execEnv} from '../../src/container/exec.js'
import type {ImageDefaults} from '../../src/image/config.js'

const image = (d: Partial<ImageDefaults> = {}): ImageDefaults => ({entrypoint: [], cmd: [], env: [], workingDir: '', user: '', ...d})

test('--memory takes docker units and refuses nonsense and less than 6m', () => {
  assert.equal(parseMemory('512m'), 512 * 1024 * 1024)
  assert.equal(parseMemory('1g'), 1024 ** 3)
  assert.equal(parseMemory('1.5G'), 1.5 * 1024 ** 3)
  assert.equal(parseMemory('10485760'), 10485760)
  assert.equal(parseMemory('64MiB'), 64 << 20)
  assert.throws(() => parseMemory('lots'), /invalid --memory 'lots': expected a size/)
  assert.throws(() => parseMemory('-5m'), /invalid --memory/)
  assert.throws(() => parseMemory('1m'), /the minimum is 6m/)
})

test('--cpus, --pids-limit and --cpuset-cpus are checked against the machine', () => {
  assert.equal(parseCpus('0.5', 2), 0.5)
  assert.throws(() => parseCpus('3', 2), /the range is 0.01 to 2/)
  assert.throws(() => parseCpus('half', 2), /expected a number of CPUs/)
  assert.equal(parsePidsLimit('100'), 100)
  assert.equal(parsePidsLimit('-1'), undefined)
  assert.throws(() => parsePidsLimit('many'), /invalid --pids-limit/)
  assert.equal(parseCpuset('0-1', '0-1\n'), '0-1')
  assert.throws(() => parseCpuset('0,4', '0-1\n'), /CPU 4 not online \(online: 0-1\)/)
  assert.throws(() => parseCpuset('1-0', '0-1\n'), /empty range/)
})

test("capabilities: docker's default set, then --cap-drop, then --cap-add; ALL; unknown names list the valid ones", () => {
  const names = (caps: number[]) => caps.join(',')
  assert.equal(names(resolveCaps({capAdd: [], capDrop: [], privileged: false}, 40)), '0,1,3,4,5,6,7,8,10,13,18,27,29,31')
  assert.equal(names(resolveCaps({capAdd: ['sys_admin'], capDrop: ['ALL'], privileged: false}, 40)), '21')
  assert.equal(names(resolveCaps({capAdd: [], capDrop: ['CAP_NET_RAW', 'mknod'], privileged: false}, 40)), '0,1,3,4,5,6,7,8,10,18,29,31')
  assert.equal(resolveCaps({capAdd: [], capDrop: [], privileged: true}, 40).length, 41)
  assert.throws(() => resolveCaps({capAdd: ['FLY'], capDrop: [], privileged: false}, 40), /unknown capability 'FLY' for --cap-add \(valid: CHOWN, .*, ALL\)/)
  assert.throws(() => resolveCaps({capAdd: ['21'], capDrop: [], privileged: false}, 40), /unknown capability '21'/)
})

test("the command: arguments replace Cmd; --entrypoint replaces Entrypoint and drops Cmd; none at all is an error", () => {
  const d = image({entrypoint: ['/init'], cmd: ['serve', '--port', '80']})
  assert.deepEqual(resolveCommand({command: []}, d), ['/init', 'serve', '--port', '80'])
  assert.deepEqual(resolveCommand({command: ['sh']}, d), ['/init', 'sh'])
  assert.deepEqual(resolveCommand({command: [], entrypoint: 'probe'}, d), ['probe'])
  assert.deepEqual(resolveCommand({command: ['-x'], entrypoint: 'probe'}, d), ['probe', '-x'])
  assert.throws(() => resolveCommand({command: []}, image()), /no command/)
})

test('the environment: defaults, the image, --env-file, then -e; NAME alone takes the caller\'s value (the CLI) or stays bare, unset (moby)', () => {
  const given = resolveCallerEnv(['A=flag', 'FROM_HOST', 'NOT_SET', 'IMG'], {FROM_HOST: 'x'})
  assert.deepEqual(given, ['A=flag', 'FROM_HOST=x', 'NOT_SET', 'IMG'])
  // The service's own environment is never looked at: a bare name stays bare.
  const env = buildEnv({env: given, envFiles: [], tty: false}, image({env: ['A=image', 'PATH=/img/bin', 'IMG=1']}), 'h1', {NOT_SET: 'service'})
  assert.deepEqual(env, ['PATH=/img/bin', 'HOSTNAME=h1', 'A=flag', 'IMG', 'FROM_HOST=x', 'NOT_SET', 'HOME=/root'])
  // The process gets the NAME=VALUE entries only: IMG (the image's, unset by -e IMG) and NOT_SET are absent.
  assert.equal(encodeEnv(env), 'PATH=/img/bin\0HOSTNAME=h1\0A=flag\0FROM_HOST=x\0HOME=/root\0')
  assert.deepEqual(execEnv(['A=1', 'B=2', 'C'], {env: ['B', 'D=4', 'C'], envFiles: [], tty: false}, {B: 'host'}), ['A=1', 'D=4'])
  assert.equal(expandEnv('X', {}), undefined)
  assert.throws(() => buildEnv({env: ['=x'], envFiles: [], tty: false}, undefined, 'h'), /invalid environment variable '=x'/)
})

test('users: names and ids looked up in the image, with supplementary groups; unknown names refused', () => {
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n'
  const group = 'root:x:0:\napp:x:1001:\nwheel:x:10:app,other\n'
  assert.deepEqual(resolveUser('', passwd, group), {uid: 0, gid: 0, groups: []})
  assert.deepEqual(resolveUser('app', passwd, group), {uid: 1000, gid: 1001, groups: [10]})
  assert.deepEqual(resolveUser('1000', passwd, group), {uid: 1000, gid: 1001, groups: [10]})
  assert.deepEqual(resolveUser('app:wheel', passwd, group), {uid: 1000, gid: 10, groups: []})
  assert.deepEqual(resolveUser('42:43', undefined, undefined), {uid: 42, gid: 43, groups: []})
  assert.throws(() => resolveUser('ghost', passwd, group), /unable to find user ghost/)
  assert.throws(() => resolveUser('app:ghosts', passwd, group), /unable to find group ghosts/)
})

test('volumes: HOST:CTR[:ro] (both absolute, the host path existing), NAME:CTR[:ro|nocopy], CTR alone; never over /', () => {
  assert.deepEqual(parseVolume('/tmp:/data'), {source: '/tmp', target: '/data', readOnly: false})
  assert.deepEqual(parseVolume('/tmp:/data/./x/:ro'), {source: '/tmp', target: '/data/x/', readOnly: true})
  // A name is a named volume, a container path alone an anonymous one; their source is filled in at create.
  assert.deepEqual(parseVolume('data:/srv:ro'), {source: '', target: '/srv', readOnly: true, volume: 'data'})
  assert.deepEqual(parseVolume('my.vol_1:/srv:nocopy'), {source: '', target: '/srv', readOnly: false, volume: 'my.vol_1', noCopy: true})
  assert.deepEqual(parseVolume('/tmp'), {source: '', target: '/tmp', readOnly: false, anonymous: true})
  assert.throws(() => parseVolume('/tmp:/x:rx'), /unknown option 'rx'/)
  assert.throws(() => parseVolume('/tmp:/x:nocopy'), /unknown option 'nocopy'/)
  assert.throws(() => parseVolume('a:/x'), /"a" includes invalid characters for a local volume name/)
  assert.throws(() => parseVolume('rel/dir:/x'), /includes invalid characters/)
  assert.throws(() => parseVolume(':/x'), /expected HOST:CONTAINER/)
  assert.throws(() => parseVolume('/tmp:/'), /cannot mount over the container's root/)
  assert.throws(() => parseVolume('data:/'), /cannot mount over the container's root/)
  assert.throws(() => parseVolume('/tmp:rel'), /container path must be absolute/)
})

test('options parse like docker run: clustered short flags, repeatable ones, the command after the first non-option', () => {
  const o = parseRunArgs(['-it', '--layer', 'a', '--layer=b', '-e', 'A=1', '-eB=2', '-v', '/x:/y', '-m', '64m', '--name', 'n', 'sh', '-c', 'echo -e'])
  assert.deepEqual([o.interactive, o.tty, o.layers, o.env, o.volumes, o.memory, o.name, o.command], [true, true, ['a', 'b'], ['A=1', 'B=2'], ['/x:/y'], '64m', 'n', ['sh', '-c', 'echo -e']])
  assert.throws(() => parseRunArgs(['--name', 'a', '--name', 'b']), /option --name may be given only once/)
  // -d with -t: the supervisor holds the terminal for nsx attach.
  assert.deepEqual(((d) => [d.detach, d.tty, d.image, d.command])(parseRunArgs(['-d', '-t', 'busybox', 'sh'])), [true, true, 'busybox', ['sh']])
  // docker's form: the first word is the image unless --image or --layer gives one.
  assert.deepEqual(((d) => [d.image, d.command])(parseRunArgs(['--image', 'bb', 'sh', '-c', 'x'])), ['bb', ['sh', '-c', 'x']])
  assert.deepEqual(((d) => [d.image, d.rm, d.restart, d.logOpts])(parseRunArgs(['--rm', '--restart', 'no', '--log-opt', 'max-size=1m', 'bb'])), ['bb', true, 'no', ['max-size=1m']])
  assert.throws(() => parseRunArgs(['--rm', '--restart', 'always', 'bb']), /conflicting options: --restart and --rm/)
  assert.throws(() => parseRunArgs(['--json', 'sh']), /--json only goes with --dry-run/)
  assert.throws(() => parseRunArgs(['--network', 'bad/name']), /expected none, host, bridge, container:NAME or a network's name/)
  assert.equal(parseRunArgs(['--network', 'bridge', 'bb']).network, 'bridge')
  assert.equal(parseRunArgs(['--network', 'container:web', 'bb']).network, 'container:web')
  assert.throws(() => parseRunArgs(['--network', 'host', '-p', '80', 'bb']), /-p needs a bridge network: --network host shares the host's/)
})

test('--userns CONTAINER:HOST:COUNT[,...]: container root mapped, no overlap', async () => {
  const {parseUserns} = await import('../../src/container/spec.js')
  assert.deepEqual(parseUserns('0:100000:65536'), [{inside: 0, outside: 100000, count: 65536}])
  assert.deepEqual(parseUserns('0:1000:1,1:100000:65535').length, 2)
  assert.throws(() => parseUserns('0:100000'), /expected CONTAINER:HOST:COUNT/)
  assert.throws(() => parseUserns('1:100000:10'), /container root \(id 0\) must be mapped/)
  assert.throws(() => parseUserns('0:1:10,5:100:10'), /overlap/)
  assert.throws(() => parseUserns('0:1:0'), /empty or too large/)
})

test('the default network: NSX_NETWORK, else bridge for root (docker\'s default), none for an ordinary user or with --userns', async () => {
  const {defaultNetwork, parseRunArgs} = await import('../../src/container/options.js')
  assert.equal(defaultNetwork({}, {uid: 0}), 'bridge')
  assert.equal(defaultNetwork({NSX_NETWORK: ''}, {uid: 0}), 'bridge', 'an empty NSX_NETWORK is no setting')
  assert.equal(defaultNetwork({}, {uid: 0, userns: true}), 'none')
  assert.equal(defaultNetwork({}, {uid: 1000}), 'none')
  assert.equal(defaultNetwork({NSX_NETWORK: 'none'}, {uid: 0}), 'none')
  assert.equal(defaultNetwork({NSX_NETWORK: 'bridge'}, {uid: 1000}), 'bridge')
  // parseRunArgs takes it when --network is not given (the suite sets NSX_NETWORK=none: test/run.mjs).
  const saved = process.env.NSX_NETWORK
  try {
    process.env.NSX_NETWORK = 'none'
    assert.equal(parseRunArgs(['bb']).network, 'none')
    assert.equal(parseRunArgs(['--network', 'bridge', 'bb']).network, 'bridge')
    delete process.env.NSX_NETWORK
    assert.equal(parseRunArgs(['bb']).network, process.getuid?.() === 0 ? 'bridge' : 'none')
    assert.equal(parseRunArgs(['--userns', '0:100000:65536', 'bb']).network, 'none')
  } finally {
    if (saved === undefined) delete process.env.NSX_NETWORK
    else process.env.NSX_NETWORK = saved
  }
  assert.equal(defaultNetwork({NSX_NETWORK: 'bridge'}), 'bridge')
  assert.equal(defaultNetwork({NSX_NETWORK: 'mynet'}), 'mynet')
  assert.throws(() => defaultNetwork({NSX_NETWORK: 'a,b'}), /invalid NSX_NETWORK/)
})

test('-p: docker\'s forms, ranges, protocols; bad ones are one clear line', async () => {
  const {parsePublish, exposedRequests} = await import('../../src/network/ports.js')
  assert.deepEqual(parsePublish('8080:80'), [{hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'tcp'}])
  assert.deepEqual(parsePublish('127.0.0.1:5353:53/udp'), [{hostIP: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp'}])
  assert.deepEqual(parsePublish('80'), [{hostIP: '', hostPort: 0, containerPort: 80, protocol: 'tcp'}])
  assert.deepEqual(parsePublish('127.0.0.1::80'), [{hostIP: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp'}])
  assert.deepEqual(parsePublish('8000-8001:80-81').map((p) => [p.hostPort, p.containerPort]), [[8000, 80], [8001, 81]])
  assert.throws(() => parsePublish('8000-8002:80-81'), /ranges differ in length/)
  assert.throws(() => parsePublish('80/sctp'), /protocol 'sctp'/)
  assert.throws(() => parsePublish('99999:80'), /out of range/)
  assert.throws(() => parsePublish('x.y:80:80'), /not an IP address/)
  assert.deepEqual(exposedRequests(['80/tcp', '53/udp', 'junk']).map((p) => `${p.containerPort}/${p.protocol}`), ['80/tcp', '53/udp'])
})
