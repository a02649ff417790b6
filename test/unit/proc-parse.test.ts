import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseStat, parseStatus} from '../../src/proc/process.js'
import {parseNsLink, parseNsType} from '../../src/ns/types.js'
import {parsePid} from '../../src/proc/target.js'
import {AccessLog, singular} from '../../src/proc/fs.js'
import {NsxError} from '../../src/cli/errors.js'

const STATUS = `Name:\tsleep
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4242
Ngid:\t0
Pid:\t4242
PPid:\t4200
TracerPid:\t0
Uid:\t1000\t1000\t1000\t1000
Gid:\t100\t100\t100\t100
FDSize:\t64
Groups:\t100 27
NStgid:\t4242\t7\t1
NSpid:\t4242\t7\t1
NSpgid:\t4242\t7\t1
NSsid:\t4200\t0\t0
VmSize:\t    8000 kB
Threads:\t1
CapInh:\t0000000000000000
CapPrm:\t0000000000000000
CapEff:\t0000000000000000
CapBnd:\t000001ffffffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t1
Seccomp:\t2
Seccomp_filters:\t1
`

test('parseStatus reads ids, NSpid outermost first, capabilities and seccomp', () => {
  const s = parseStatus(STATUS)
  assert.equal(s.name, 'sleep')
  assert.equal(s.pid, 4242)
  assert.equal(s.ppid, 4200)
  assert.deepEqual(s.uid, [1000, 1000, 1000, 1000])
  assert.deepEqual(s.groups, [100, 27])
  assert.deepEqual(s.nspid, [4242, 7, 1])
  assert.equal(s.capBnd, 0x1ffffffffffn)
  assert.equal(s.noNewPrivs, true)
  assert.equal(s.seccomp, 2)
  assert.equal(s.kernelThread, false)
})

test('parseStatus marks a process without VmSize as a kernel thread', () => {
  assert.equal(parseStatus('Name:\tkthreadd\nPid:\t2\nPPid:\t0\n').kernelThread, true)
})

test('parseStat copes with spaces and parentheses in the command name', () => {
  const s = parseStat('123 (my (odd) name) S 1 123 123 0 -1 4194560 0 0 0 0 5 6 0 0 20 0 1 0 999 0 42 0')
  assert.equal(s.comm, 'my (odd) name')
  assert.equal(s.state, 'S')
  assert.equal(s.ppid, 1)
  assert.equal(s.utime, 5)
  assert.equal(s.stime, 6)
  assert.equal(s.starttime, 999)
})

test('parseNsLink reads nsfs link text and rejects anything else', () => {
  assert.deepEqual(parseNsLink('net:[4026531840]'), {type: 'net', inode: 4026531840})
  assert.equal(parseNsLink('/dev/null'), undefined)
  assert.equal(parseNsType('mount'), 'mnt')
  assert.equal(parseNsType('bogus'), undefined)
})

test('parsePid refuses non-numeric, negative and zero pids with a clear message', () => {
  assert.equal(parsePid('42'), 42)
  for (const bad of ['abc', '-1', '0', '1.5', '', ' 4', '99999999999']) {
    assert.throws(() => parsePid(bad), (e: unknown) => e instanceof NsxError && /pid/.test(e.message), bad)
  }
})

test('the access summary counts in the singular for one ("1 process"), the plural otherwise', () => {
  const log = new AccessLog()
  log.record('processes')
  log.record('/proc/PID/ns directories')
  log.record('/proc/PID/ns directories')
  assert.match(log.summary() ?? '', /^permission denied reading 1 process, 2 \/proc\/PID\/ns directories/)
  assert.equal(singular('directories'), 'directory')
  assert.equal(singular('fd tables'), 'fd table')
})
