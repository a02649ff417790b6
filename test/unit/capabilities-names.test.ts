import {test} from 'node:test'
import assert from 'node:assert/strict'
import {CAPABILITIES, capabilityName, describeCapabilities, parseCapability} from '../../src/proc/capabilities.js'

test('the table has all 41 capabilities at their <linux/capability.h> bit numbers', () => {
  assert.equal(CAPABILITIES.length, 41)
  const bits: Record<string, number> = {
    CAP_CHOWN: 0,
    CAP_KILL: 5,
    CAP_SETUID: 7,
    CAP_NET_ADMIN: 12,
    CAP_SYS_PTRACE: 19,
    CAP_SYS_ADMIN: 21,
    CAP_SYS_RESOURCE: 24,
    CAP_AUDIT_WRITE: 29,
    CAP_SETFCAP: 31,
    CAP_AUDIT_READ: 37,
    CAP_PERFMON: 38,
    CAP_BPF: 39,
    CAP_CHECKPOINT_RESTORE: 40,
  }
  for (const [name, bit] of Object.entries(bits)) assert.equal(CAPABILITIES[bit], name)
  assert.equal(new Set(CAPABILITIES).size, 41, 'names are unique')
})

test('bits the table does not know are named cap_N, as capsh does', () => {
  assert.equal(capabilityName(41), 'cap_41')
  const d = describeCapabilities(1n << 41n, 40)
  assert.deepEqual(d.names, ['cap_41'])
})

test('a full set reads "all 41"; on a kernel with 38 capabilities, its full set reads "all 38"', () => {
  const full = describeCapabilities(0x1ffffffffffn, 40)
  assert.equal(full.summary, 'all 41')
  assert.equal(full.full, true)
  assert.equal(full.hex, '000001ffffffffff')
  const older = describeCapabilities(0x3fffffffffn, 37)
  assert.equal(older.summary, 'all 38')
  assert.equal(older.full, true)
})

test('a nearly full set lists what is missing; an empty one reads "none"', () => {
  const d = describeCapabilities(0x1fffeffffffn, 40)
  assert.equal(d.summary, 'all but CAP_SYS_RESOURCE (40 of 41)')
  assert.deepEqual(d.missing, ['CAP_SYS_RESOURCE'])
  assert.equal(d.full, false)
  assert.equal(describeCapabilities(0n, 40).summary, 'none')
})

test("docker's default set is listed by name, in bit order", () => {
  const d = describeCapabilities(0xa80425fbn, 40)
  assert.equal(d.names.length, 14)
  assert.deepEqual(d.names.slice(0, 3), ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER'])
  assert.equal(d.summary, d.names.join(', '))
  assert.ok(!d.names.includes('CAP_SYS_ADMIN'))
})

test('parseCapability takes full names, short names and numbers', () => {
  assert.equal(parseCapability('CAP_SYS_ADMIN'), 21)
  assert.equal(parseCapability('sys_admin'), 21)
  assert.equal(parseCapability('40'), 40)
  assert.equal(parseCapability('cap_bogus'), undefined)
})
