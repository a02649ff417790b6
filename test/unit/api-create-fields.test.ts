import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {CONFIG_FIELDS, HOST_CONFIG_FIELDS} from '../../src/api/create-fields.js'
import {createArgs} from '../../src/api/create-body.js'
import {ApiError} from '../../src/api/http.js'
import {parseRunArgs} from '../../src/container/options.js'

type Schema = {properties?: Record<string, unknown>; allOf?: Array<{$ref?: string} & Schema>}
const swagger = JSON.parse(readFileSync(new URL('../fixtures/moby/engine-api-v1.41.json', import.meta.url), 'utf8')) as {definitions: Record<string, Schema>}

function props(name: string): string[] {
  const d = swagger.definitions[name]
  const out = new Set(Object.keys(d.properties ?? {}))
  for (const p of d.allOf ?? []) {
    if (p.$ref) for (const k of props(p.$ref.split('/').pop()!)) out.add(k)
    for (const k of Object.keys(p.properties ?? {})) out.add(k)
  }
  return [...out].sort()
}

test("the create body's table covers every field of API 1.41's ContainerConfig and HostConfig, no more", () => {
  assert.deepEqual(Object.keys(CONFIG_FIELDS).sort(), props('ContainerConfig'))
  assert.deepEqual(Object.keys(HOST_CONFIG_FIELDS).sort(), props('HostConfig'))
})

test('a body of defaults, as the docker CLI and docker-py send it, passes', () => {
  const body = {
    Image: 'busybox', Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false, StdinOnce: false,
    Env: [], Cmd: ['true'], Volumes: {}, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {}, StopSignal: 'SIGTERM', Shell: null, ArgsEscaped: false, NetworkDisabled: false, MacAddress: '',
    HostConfig: {
      Binds: null, ContainerIDFile: '', LogConfig: {Type: '', Config: {}}, NetworkMode: 'default', PortBindings: {}, RestartPolicy: {Name: 'no', MaximumRetryCount: 0}, AutoRemove: false,
      VolumeDriver: '', VolumesFrom: null, CapAdd: null, CapDrop: null, CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: '',
      Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '',
      ShmSize: 0, ConsoleSize: [0, 0], Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: null,
      BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: null, BlkioDeviceWriteIOps: null, CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '',
      CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null, KernelMemory: 0, KernelMemoryTCP: 0, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null,
      OomKillDisable: false, PidsLimit: null, Ulimits: null, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
      Runtime: 'runc', Sysctls: {}, StorageOpt: {}, Tmpfs: {}, Init: null,
    },
  }
  const o = parseRunArgs(createArgs(body))
  assert.equal(o.image, 'busybox')
  assert.deepEqual(o.command, ['true'])
})

test('a refused field with a value is a 400 that names it', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{HostConfig: {Cgroup: 'container:x'}}, /HostConfig\.Cgroup is not supported by nsx/],
    [{HostConfig: {Runtime: 'kata'}}, /HostConfig\.Runtime is not supported/],
    [{HostConfig: {StorageOpt: {size: '10G'}}}, /HostConfig\.StorageOpt/],
    [{HostConfig: {DeviceRequests: [{Driver: 'nvidia', Count: -1}]}}, /HostConfig\.DeviceRequests/],
    [{HostConfig: {UsernsMode: 'private'}}, /HostConfig\.UsernsMode/],
    [{HostConfig: {CpuRealtimeRuntime: 500}}, /HostConfig\.CpuRealtimeRuntime/],
    [{HostConfig: {MaskedPaths: ['/proc/x']}}, /HostConfig\.MaskedPaths/],
    [{HostConfig: {Init: false}}, /HostConfig\.Init false/],
    [{StopSignal: 'SIGUSR1'}, /^StopSignal is not supported/],
    [{Domainname: 'example.org'}, /^Domainname/],
  ]
  for (const [extra, re] of cases)
    assert.throws(() => createArgs({Image: 'busybox', ...extra}), (e: unknown) => e instanceof ApiError && e.status === 400 && re.test(e.message), JSON.stringify(extra))
})

test('the honoured fields reach nsx run as its flags', () => {
  const o = parseRunArgs(createArgs({
    Image: 'busybox',
    Volumes: {'/data': {}, '/bound': {}},
    MacAddress: '92:d0:c6:0a:29:33',
    HostConfig: {
      NetworkMode: 'mynet', Binds: ['/tmp:/bound'], PidMode: 'host', UTSMode: 'host', IpcMode: 'container:db', CgroupnsMode: 'host', Init: true, GroupAdd: [1000, 'staff'],
      DeviceCgroupRules: ['c 1:3 mr'], Links: ['/db:/web/database'], VolumesFrom: ['db:ro'], PublishAllPorts: true, OomKillDisable: true,
      BlkioDeviceReadBps: [{Path: '/dev/vda', Rate: 1048576}],
    },
  } as never))
  assert.equal(o.pid, 'host')
  assert.equal(o.uts, 'host')
  assert.equal(o.ipc, 'container:db')
  assert.equal(o.cgroupns, 'host')
  assert.equal(o.init, true)
  assert.deepEqual(o.groupAdd, ['1000', 'staff'])
  assert.deepEqual(o.deviceCgroupRules, ['c 1:3 mr'])
  assert.deepEqual(o.links, ['/db:/web/database'])
  assert.deepEqual(o.volumesFrom, ['db:ro'])
  assert.deepEqual(o.volumes, ['/tmp:/bound', '/data'])
  assert.equal(o.publishAll, true)
  assert.equal(o.macAddress, '92:d0:c6:0a:29:33')
  assert.equal(o.resources?.oomKillDisable, true)
  assert.deepEqual(o.resources?.deviceReadBps, ['/dev/vda:1048576'])
})

test("docs/api.md's table names every field with its treatment", () => {
  const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8')
  for (const [prefix, table] of [['', CONFIG_FIELDS], ['HostConfig.', HOST_CONFIG_FIELDS]] as const)
    for (const [k, r] of Object.entries(table)) assert.match(doc, new RegExp(`^\\| \`${prefix}${k}\` \\| ${r.treatment}`, 'm'), `${prefix}${k} (npx tsx over src/api/create-fields.ts makes the rows)`)
})

test("an endpoint's Links are nsx run's --link, as HostConfig.Links are (they were refused)", () => {
  const args = createArgs({Image: 'busybox', Cmd: ['true'], HostConfig: {NetworkMode: 'app'}, NetworkingConfig: {EndpointsConfig: {app: {Links: ['db:database']}}}})
  const i = args.indexOf('--link')
  assert.ok(i >= 0, args.join(' '))
  assert.equal(args[i + 1], 'db:database')
})
