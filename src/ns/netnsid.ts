import {closeSync} from 'node:fs'
import {endianness} from 'node:os'
import {socketOpen, socketRecv, socketSend} from '../ffi/libc.js'
import type {NamespaceRecord} from './records.js'
import {openNamespaceFd} from './relations.js'

/**
 * NETNSID: the id the network subsystem gives a net namespace as seen from ours (the
 * "nsid" of `ip netns list-id` and of link-netnsid), asked of rtnetlink with RTM_GETNSID
 * and NETNSA_FD, as lsns does. The query only reads: the kernel does not assign an id for it.
 */

const AF_NETLINK = 16
const SOCK_RAW = 3
const SOCK_CLOEXEC = 0o2000000
const NETLINK_ROUTE = 0
const NLMSG_ERROR = 2
const RTM_NEWNSID = 88
const RTM_GETNSID = 90
const NLM_F_REQUEST = 1
const NETNSA_NSID = 1
const NETNSA_FD = 3
const NLMSG_HDRLEN = 16
/** nlmsghdr + rtgenmsg (one byte, aligned to four). */
const ATTRS_AT = NLMSG_HDRLEN + 4

const LE = endianness() === 'LE'

/** nlmsghdr, rtgenmsg{AF_UNSPEC}, one rtattr NETNSA_FD = fd; netlink uses host byte order. */
export function getNsidRequest(nsFd: number, seq: number): Uint8Array {
  const buf = new Uint8Array(ATTRS_AT + 8)
  const v = new DataView(buf.buffer)
  v.setUint32(0, buf.length, LE)
  v.setUint16(4, RTM_GETNSID, LE)
  v.setUint16(6, NLM_F_REQUEST, LE)
  v.setUint32(8, seq, LE)
  v.setUint32(12, 0, LE)
  v.setUint16(ATTRS_AT, 8, LE)
  v.setUint16(ATTRS_AT + 2, NETNSA_FD, LE)
  v.setInt32(ATTRS_AT + 4, nsFd, LE)
  return buf
}

/** The nsid in an RTM_NEWNSID answer: a number, null for "not assigned" (-1), undefined for an error or anything else. */
export function parseNsidResponse(buf: Uint8Array, length: number): number | null | undefined {
  if (length < ATTRS_AT) return undefined
  const v = new DataView(buf.buffer, buf.byteOffset, length)
  const msgLen = Math.min(v.getUint32(0, LE), length)
  const type = v.getUint16(4, LE)
  if (type === NLMSG_ERROR || type !== RTM_NEWNSID) return undefined
  for (let off = ATTRS_AT; off + 4 <= msgLen; ) {
    const rtaLen = v.getUint16(off, LE)
    const rtaType = v.getUint16(off + 2, LE)
    if (rtaLen < 4) return undefined
    if (rtaType === NETNSA_NSID && rtaLen >= 8) {
      const id = v.getInt32(off + 4, LE)
      return id < 0 ? null : id
    }
    off += (rtaLen + 3) & ~3
  }
  return undefined
}

/** Asks for the nsid of each net namespace through one netlink socket; close() when done. */
export class NetnsIds {
  private sock: number | undefined
  private failed = false
  private seq = 0
  private readonly reply = new Uint8Array(256)

  constructor(private readonly root?: string) {}

  /** The nsid, null when none is assigned, undefined when it cannot be asked (namespace gone, no netlink). */
  idOf(record: NamespaceRecord): number | null | undefined {
    if (record.type !== 'net' || this.failed) return undefined
    if (this.sock === undefined) {
      try {
        this.sock = socketOpen(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)
      } catch {
        this.failed = true
        return undefined
      }
    }
    const fd = openNamespaceFd(record, this.root)
    if (fd === undefined) return undefined
    try {
      socketSend(this.sock, getNsidRequest(fd, ++this.seq))
      const n = socketRecv(this.sock, this.reply)
      return parseNsidResponse(this.reply, n)
    } catch {
      return undefined
    } finally {
      closeSync(fd)
    }
  }

  close(): void {
    if (this.sock !== undefined) closeSync(this.sock)
    this.sock = undefined
  }
}
