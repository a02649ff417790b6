import {test} from 'node:test'
import assert from 'node:assert/strict'
import {endianness} from 'node:os'
import {getNsidRequest, parseNsidResponse} from '../../src/ns/netnsid.js'

const LE = endianness() === 'LE'

/** An RTM_NEWNSID answer carrying NETNSA_NSID = id (and, first, another attribute to skip). */
function answer(id: number, type = 88): Uint8Array {
  const buf = new Uint8Array(16 + 4 + 8 + 8)
  const v = new DataView(buf.buffer)
  v.setUint32(0, buf.length, LE)
  v.setUint16(4, type, LE)
  v.setUint16(20, 8, LE) // NETNSA_PID = 2, skipped
  v.setUint16(22, 2, LE)
  v.setInt32(24, 1234, LE)
  v.setUint16(28, 8, LE)
  v.setUint16(30, 1, LE) // NETNSA_NSID
  v.setInt32(32, id, LE)
  return buf
}

test('the RTM_GETNSID request carries the namespace fd as NETNSA_FD, in host byte order', () => {
  const req = getNsidRequest(7, 42)
  const v = new DataView(req.buffer)
  assert.equal(req.length, 28)
  assert.equal(v.getUint32(0, LE), 28, 'nlmsg_len')
  assert.equal(v.getUint16(4, LE), 90, 'RTM_GETNSID')
  assert.equal(v.getUint16(6, LE), 1, 'NLM_F_REQUEST')
  assert.equal(v.getUint32(8, LE), 42, 'sequence')
  assert.equal(req[16], 0, 'rtgen_family AF_UNSPEC')
  assert.equal(v.getUint16(20, LE), 8, 'rta_len')
  assert.equal(v.getUint16(22, LE), 3, 'NETNSA_FD')
  assert.equal(v.getInt32(24, LE), 7, 'the fd')
})

test('an answer gives the nsid, null for "not assigned", undefined for errors and short or foreign messages', () => {
  const a = answer(5)
  assert.equal(parseNsidResponse(a, a.length), 5)
  const u = answer(-1)
  assert.equal(parseNsidResponse(u, u.length), null)
  const e = answer(5, 2) // NLMSG_ERROR
  assert.equal(parseNsidResponse(e, e.length), undefined)
  assert.equal(parseNsidResponse(a, 10), undefined)
  const other = answer(5, 16) // RTM_NEWLINK: not ours
  assert.equal(parseNsidResponse(other, other.length), undefined)
})
