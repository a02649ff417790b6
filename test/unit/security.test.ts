import {test} from 'node:test'
import assert from 'node:assert/strict'
import {buildRunPlan, containerPaths} from '../../src/container/plan.js'
import {NsxError} from '../../src/cli/errors.js'
import {DEFAULT_DEVICE_RULES, deviceProgram, runDeviceProgram, v1DeviceWrites} from '../../src/security/devices.js'
import {ANY, encodeProgram} from '../../src/plan/security-ops.js'
import {DEFAULT_SECCOMP_PROFILE} from '../../src/security/seccomp-default.js'
import {kernelVersion, resolveSeccomp, SeccompTarget, unconditionalVerdict} from '../../src/security/seccomp-plan.js'
import {encodeSeccomp} from '../../src/plan/security-ops.js'
import {parseSeccompProfile} from '../../src/security/seccomp-profile.js'
import {parseSecurityOpts} from '../../src/security/seccomp.js'
import {parseSize, parseTmpfs, parseUlimit} from '../../src/security/spec.js'
import {securityOps} from '../../src/security/plan.js'

const DOCKER_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE']
const amd64 = (caps: string[] = DOCKER_CAPS): SeccompTarget => ({caps, goArch: 'amd64', kernel: [6, 1]})

test('the default profile for docker\'s capabilities: the allow-list, capability-guarded calls refused, clone without namespace flags, clone3 ENOSYS', () => {
  const f = resolveSeccomp(DEFAULT_SECCOMP_PROFILE, amd64(), 'default')
  assert.equal(f.defaultAction, 'errno:1')
  assert.deepEqual(f.arches, ['x86_64', 'x86', 'x32'])
  for (const s of ['read', 'execve', 'openat', 'futex', 'arch_prctl', 'modify_ldt', 'ptrace', 'chroot', 'io_uring_setup']) assert.equal(unconditionalVerdict(f, s), 'allow', s)
  for (const s of ['mount', 'unshare', 'setns', 'keyctl', 'add_key', 'kexec_load', 'open_by_handle_at', 'bpf', 'perf_event_open', 'reboot', 'init_module', 'arm_fadvise64_64'])
    assert.equal(unconditionalVerdict(f, s), 'errno:1', s)
  assert.equal(unconditionalVerdict(f, 'clone3'), 'errno:38')
  assert.equal(unconditionalVerdict(f, 'clone'), 'conditional')
  assert.deepEqual(f.rules.filter((r) => r.syscall === 'clone').map((r) => r.args), [[{index: 0, op: 'me', value: 0x7e020000, valueTwo: 0}]])
  assert.deepEqual(f.rules.filter((r) => r.syscall === 'personality').map((r) => r.args[0].value), [0, 8, 0x20000, 0x20008, 0xffffffff])
  // No rule repeats, none has the default action (libseccomp refuses those).
  const keys = f.rules.map((r) => `${r.action} ${r.syscall} ${JSON.stringify(r.args)}`)
  assert.equal(new Set(keys).size, keys.length)
  assert.ok(!f.rules.some((r) => r.action === f.defaultAction))
})

test('capabilities open what they guard: CAP_SYS_ADMIN drops the clone condition and clone3 ENOSYS; an old kernel has no ptrace', () => {
  const admin = resolveSeccomp(DEFAULT_SECCOMP_PROFILE, amd64([...DOCKER_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']), 'default')
  for (const s of ['mount', 'unshare', 'setns', 'clone', 'clone3', 'bpf', 'kcmp', 'process_vm_readv']) assert.equal(unconditionalVerdict(admin, s), 'allow', s)
  assert.equal(admin.rules.filter((r) => r.syscall === 'clone').length, 1)
  const old = resolveSeccomp(DEFAULT_SECCOMP_PROFILE, {...amd64(), kernel: [4, 4]}, 'default')
  assert.equal(unconditionalVerdict(old, 'ptrace'), 'errno:1')
  const arm = resolveSeccomp(DEFAULT_SECCOMP_PROFILE, {...amd64(), goArch: 'arm64'}, 'default')
  assert.deepEqual(arm.arches, ['aarch64', 'arm'])
  assert.equal(unconditionalVerdict(arm, 'arm_fadvise64_64'), 'allow')
  assert.equal(unconditionalVerdict(arm, 'arch_prctl'), 'errno:1')
  const s390 = resolveSeccomp(DEFAULT_SECCOMP_PROFILE, {...amd64(), goArch: 's390x'}, 'default')
  assert.deepEqual(s390.rules.filter((r) => r.syscall === 'clone').map((r) => r.args[0].index), [1])
})

test('the executor\'s filter text: default, architectures, one rule per line with its conditions', () => {
  const f = resolveSeccomp(parseSeccompProfile(JSON.stringify({defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86'], syscalls: [{names: ['execve', 'read'], action: 'SCMP_ACT_ALLOW'}, {name: 'socket', action: 'SCMP_ACT_ALLOW', args: [{index: 0, value: 40, op: 'SCMP_CMP_NE'}]}, {names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: 13}, {names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS'}]}), 'p'), amd64(), 'p')
  assert.equal(encodeSeccomp(f), 'default errno:1;arch x86_64 x86;rule allow execve;rule allow read;rule allow socket a0:ne:40;rule errno:13 write;rule kill_process kill')
})

test('a bad profile is one line naming what is wrong', () => {
  const bad: Array<[string, RegExp]> = [
    ['[', /^seccomp profile p: not valid JSON/],
    ['[]', /expected a JSON object/],
    ['{"defaultAction": "SCMP_ACT_NOTIFY"}', /defaultAction: unknown action "SCMP_ACT_NOTIFY"/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]}', /unknown architecture "SCMP_ARCH_Z80"/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}', /syscalls\[0\]: unknown action undefined/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}', /syscalls\[0\]: no syscall names/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["Read!"], "action": "SCMP_ACT_ALLOW"}]}', /invalid syscall name "Read!"/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 7, "value": 1, "op": "SCMP_CMP_EQ"}]}]}', /args\[0\]\.index must be 0\.\.5/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}', /unknown comparison "SCMP_CMP_LIKE"/],
  ]
  for (const [text, pattern] of bad) {
    assert.throws(() => parseSeccompProfile(text, 'p'), (e: unknown) => e instanceof NsxError && e.exitCode === 125 && pattern.test(e.message) && !e.message.includes('\n'), text)
  }
  // Parses, but blocks execve.
  assert.throws(() => resolveSeccomp(parseSeccompProfile('{"defaultAction": "SCMP_ACT_KILL"}', 'p'), amd64(), 'p'), /p: it blocks execve \(kill\)/)
  assert.doesNotThrow(() => resolveSeccomp(parseSeccompProfile('{"defaultAction": "SCMP_ACT_LOG"}', 'p'), amd64(), 'p'))
})

test('--security-opt: seccomp=unconfined, no-new-privileges forms; the rest refused', () => {
  assert.deepEqual(parseSecurityOpts(['seccomp=unconfined', 'no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']), {seccomp: {kind: 'unconfined'}})
  assert.throws(() => parseSecurityOpts(['seccomp=unconfined', 'seccomp:unconfined']), /only once/)
  assert.throws(() => parseSecurityOpts(['label=disable']), /unsupported --security-opt label=disable/)
  assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), /takes true or nothing/)
})

test('the device program allows exactly the rules: type, major, minor and each access', () => {
  const rules = [...DEFAULT_DEVICE_RULES, {type: 'c' as const, major: 10, minor: 229, access: 'rm'}, {type: 'b' as const, major: 8, minor: ANY, access: 'r'}]
  const prog = deviceProgram(rules)
  const allowed = (type: 'b' | 'c', ma: number, mi: number, acc: string) => runDeviceProgram(prog, type, ma, mi, acc)
  assert.equal(allowed('c', 1, 3, 'rw'), 1)
  assert.equal(allowed('c', 1, 3, 'm'), 1)
  assert.equal(allowed('c', 136, 7, 'rw'), 1)
  assert.equal(allowed('b', 1, 3, 'r'), 0, 'a block device with a char rule\'s numbers')
  assert.equal(allowed('c', 1, 1, 'r'), 0, '/dev/mem')
  assert.equal(allowed('c', 1, 1, 'm'), 0)
  assert.equal(allowed('c', 10, 229, 'r'), 1)
  assert.equal(allowed('c', 10, 229, 'w'), 0)
  assert.equal(allowed('c', 10, 229, 'rw'), 0)
  assert.equal(allowed('b', 8, 16, 'r'), 1)
  assert.equal(allowed('b', 8, 16, 'm'), 0)
  assert.equal(allowed('b', 9, 0, 'r'), 0)
  // 8 bytes per instruction: code, registers, offset, immediate.
  assert.equal(encodeProgram(prog).length, prog.length * 16)
  assert.equal(encodeProgram(prog).slice(0, 16), '6112000000000000')
  assert.equal(runDeviceProgram(deviceProgram([]), 'c', 1, 3, 'r'), 0)
})

test('cgroup v1: deny all, then allow each rule; --privileged (no rules) writes nothing', () => {
  assert.deepEqual(v1DeviceWrites(DEFAULT_DEVICE_RULES.slice(0, 1).concat([{type: 'c', major: 136, minor: ANY, access: 'rwm'}])), [
    {file: 'devices.deny', value: 'a'},
    {file: 'devices.allow', value: 'c 1:3 rwm'},
    {file: 'devices.allow', value: 'c 136:* rwm'},
  ])
  assert.deepEqual(v1DeviceWrites([]), [])
})

test('--tmpfs, --ulimit and sizes as docker reads them', () => {
  assert.deepEqual(parseTmpfs('/run'), {path: '/run', flags: ['noexec', 'nosuid', 'nodev'], data: ''})
  assert.deepEqual(parseTmpfs('/run/:rw,exec,size=64m,mode=1777,ro'), {path: '/run', flags: ['nosuid', 'nodev', 'ro'], data: 'size=64m,mode=1777'})
  assert.throws(() => parseTmpfs('/x:mode=999'), /bad value in 'mode=999'/)
  assert.throws(() => parseTmpfs('/'), /cannot mount over the container's root/)
  assert.throws(() => parseTmpfs('//proc/'), /cannot mount over \/proc/)
  assert.throws(() => parseTmpfs('/proc/sys'), /cannot mount over \/proc/)
  assert.equal(parseTmpfs('/procfs').path, '/procfs')
  assert.deepEqual(parseUlimit('nofile=1024:2048'), {name: 'nofile', soft: 1024, hard: 2048})
  assert.deepEqual(parseUlimit('core=-1'), {name: 'core', soft: -1, hard: -1})
  assert.throws(() => parseUlimit('nofile=-1:10'), /soft limit -1 is above the hard limit 10/)
  assert.throws(() => parseUlimit('nofile'), /expected NAME=SOFT\[:HARD\]/)
  assert.equal(parseSize('64m', '--shm-size'), 64 << 20)
  assert.equal(parseSize('1g', '--shm-size'), 1 << 30)
  assert.equal(parseSize('512', '--shm-size'), 512)
  assert.throws(() => parseSize('0', '--shm-size'), /greater than 0/)
  assert.deepEqual(kernelVersion('6.18.44-fc-v1272'), [6, 18])
})

test('with a v2 cgroup the device program is attached in the init before it joins anything; the filter is the last op before exec', () => {
  const security = {seccomp: resolveSeccomp(DEFAULT_SECCOMP_PROFILE, amd64(), 'default'), readOnly: false, tmpfs: [], devices: [], deviceRules: DEFAULT_DEVICE_RULES, ulimits: []}
  const ops = securityOps(security, {v2Cgroup: '/sys/fs/cgroup/unified/nsx-x', seccompCache: '/s/seccomp/abc.bpf'})
  assert.deepEqual(ops.init.map((o) => o.op), ['seccomp', 'devices-bpf'])
  assert.deepEqual(ops.last, [{op: 'seccomp-load'}])
  const spec = {name: 'w', hostname: 'w', argv: ['true'], env: [], workdir: '/', uid: 0, gid: 0, groups: [], caps: [], privileged: false, network: 'none' as const, volumes: [], interactive: false, tty: false, detach: false, security}
  const cg = {places: [{hierarchy: 'v2', version: 2 as const, parentDir: '/sys/fs/cgroup/unified', dir: '/sys/fs/cgroup/unified/nsx-x'}], enable: [], writes: []}
  const names = buildRunPlan(spec, ['/l'], containerPaths('/s/run/w', '/s/containers/w.json'), cg, {seccompCache: '/s/seccomp/abc.bpf'}).ops.map((o) => o.op)
  assert.deepEqual(names.slice(names.indexOf('ctr-supervise'), names.indexOf('ctr-supervise') + 4), ['ctr-supervise', 'seccomp', 'devices-bpf', 'unshare'])
  assert.deepEqual(names.slice(-3), ['close-fds', 'seccomp-load', 'ctr-exec'])
  // Unconfined: neither seccomp op.
  const userns = securityOps(security, {v2Cgroup: '/x', userns: true})
  assert.deepEqual([userns.supervisor.map((o) => o.op), userns.init.map((o) => o.op)], [['devices-bpf'], ['seccomp']])
  const none = securityOps({...security, seccomp: undefined, deviceRules: []}, {v2Cgroup: '/x'})
  assert.deepEqual([...none.init, ...none.last], [])
})
