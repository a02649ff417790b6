import {closeSync, openSync, readdirSync, readSync, statSync} from 'node:fs'
import {join} from 'node:path'
import type {Store} from '../store/store.js'
import {endpointDir, endpointsDir, readEndpoint} from './records.js'
import type {Endpoint} from './types.js'

/**
 * A container's network bytes for `nsx top`, cheaply: a bridge container's traffic all
 * passes its host-side veth, whose counters are the container's with receive and send
 * swapped. So one read of /proc/net/dev (every link of the reader's network namespace, as
 * one netlink dump of them would give) serves every container, and the endpoint records
 * (ROOT/networks/endpoints/ID/endpoint.json: CNI's result names the host veth) say which
 * veth is whose; a record is read again only when its file has changed (connect,
 * disconnect, a restart). A container with no record (`--network none`, `host`, `container:NAME`) has
 * no counters of its own: nothing, not zero. A rootless one's stack (pasta, slirp4netns)
 * has no host-side link; it has no cgroup of its own either, so no row in `nsx top`.
 */

/** Bytes as the container sees them: received and sent by it, summed over its interfaces. */
export interface ContainerTraffic {
  rxBytes: number
  txBytes: number
}

interface Known {
  /** endpoint.json's inode and change time: read again when either moves. */
  stamp: string
  veths: string[]
}

/** The host-side veths of a container's attachments (the interface CNI's bridge made outside its sandbox). */
export function hostVeths(ep: Endpoint): string[] {
  const out: string[] = []
  for (const a of ep.attachments) {
    const ifaces = (a.result as {interfaces?: Array<{name?: string; sandbox?: string}>}).interfaces ?? []
    const bridges = new Set(a.plugins.map((p) => p.bridge).filter((b): b is string => typeof b === 'string'))
    for (const i of ifaces) if (typeof i.name === 'string' && !i.sandbox && !bridges.has(i.name)) out.push(i.name)
  }
  return out
}

/** /proc/net/dev: every link's receive and send bytes (its first and ninth counters). */
export function parseAllLinks(text: string, into: Map<string, ContainerTraffic>): void {
  into.clear()
  let at = text.indexOf('\n', text.indexOf('\n') + 1) + 1 // past the two header lines
  while (at > 0 && at < text.length) {
    const end = text.indexOf('\n', at)
    const line = text.slice(at, end < 0 ? text.length : end)
    at = end < 0 ? -1 : end + 1
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const f = line.slice(colon + 1).trim().split(/\s+/)
    if (f.length < 9) continue
    into.set(line.slice(0, colon).trim(), {rxBytes: Number(f[0]), txBytes: Number(f[8])})
  }
}

/** How often (in refreshes) a record already read is checked for a change, and a container without one looked for again. */
const RECHECK_EVERY = 5

/**
 * The containers' traffic, refreshed once per `nsx top` tick; `of` by the container id's
 * first 8 digits. Per refresh: one pread of /proc/net/dev (kept open) and its links parsed;
 * the records' directory listed only when a container not seen before is asked for, and a
 * record stat()ed every RECHECK_EVERY refreshes (so a connect or disconnect shows within
 * that many), never per container per refresh.
 */
export class ContainerTrafficReader {
  private refreshes = 0
  /** The refresh at which the records' directory was last listed. */
  private listedAt = -1
  /** Id prefix -> full id, of the records listed. */
  private readonly ids = new Map<string, string>()
  /** Prefixes asked for that had no record, and when that was last found. */
  private readonly absent = new Map<string, number>()
  private readonly known = new Map<string, Known & {checkedAt: number}>()
  private readonly links = new Map<string, ContainerTraffic>()
  private linksText = ''
  private parsedAt = -1
  private fd: number | undefined
  private buf = Buffer.alloc(16384)

  constructor(
    private readonly store: Store,
    private readonly netDev = '/proc/net/dev',
  ) {}

  /** This refresh's reading of every link's counters (one pread of a file kept open). */
  refresh(): void {
    this.refreshes++
    this.linksText = this.readNetDev()
  }

  /** A container's bytes (by the first 8 digits of its id), or undefined: no link of its own here. */
  of(idPrefix: string): ContainerTraffic | undefined {
    const k = this.record(idPrefix)
    if (k === undefined || k.veths.length === 0) return undefined
    if (this.parsedAt !== this.refreshes) {
      parseAllLinks(this.linksText, this.links)
      this.parsedAt = this.refreshes
    }
    let rx = 0
    let tx = 0
    let found = false
    for (const v of k.veths) {
      const l = this.links.get(v)
      if (l === undefined) continue
      found = true
      // The host side receives what the container sends.
      rx += l.txBytes
      tx += l.rxBytes
    }
    return found ? {rxBytes: rx, txBytes: tx} : undefined
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private readNetDev(): string {
    try {
      this.fd ??= openSync(this.netDev, 'r')
      // procfs hands a seq_file out a page or so per read: read on to the end.
      let len = 0
      for (;;) {
        if (len === this.buf.length) {
          const bigger = Buffer.alloc(this.buf.length * 2)
          this.buf.copy(bigger)
          this.buf = bigger
        }
        const n = readSync(this.fd, this.buf, len, this.buf.length - len, len)
        if (n === 0) return this.buf.toString('latin1', 0, len)
        len += n
      }
    } catch {
      return '' // no procfs: nothing to show
    }
  }

  /** The record of the container with this id prefix, read again when due and changed; undefined: none. */
  private record(prefix: string): (Known & {checkedAt: number}) | undefined {
    let id = this.ids.get(prefix)
    if (id === undefined) {
      const missed = this.absent.get(prefix)
      if (missed !== undefined && this.refreshes - missed < RECHECK_EVERY) return undefined
      if (this.listedAt !== this.refreshes) this.list()
      id = this.ids.get(prefix)
      if (id === undefined) {
        this.absent.set(prefix, this.refreshes)
        return undefined
      }
    }
    const old = this.known.get(id)
    if (old !== undefined && this.refreshes - old.checkedAt < RECHECK_EVERY) return old
    const file = join(endpointDir(this.store, id), 'endpoint.json')
    let stamp: string
    try {
      const st = statSync(file)
      stamp = `${st.ino}:${st.ctimeMs}`
    } catch {
      // removed: the container is gone or going
      this.known.delete(id)
      this.ids.delete(prefix)
      this.absent.set(prefix, this.refreshes)
      return undefined
    }
    if (old !== undefined && old.stamp === stamp) {
      old.checkedAt = this.refreshes
      return old
    }
    const ep = readEndpoint(this.store, id)
    const veths = ep === undefined ? [] : hostVeths(ep)
    // Being written, or its ADD still running (its result not there yet): read again next time.
    if (veths.length === 0) stamp = ''
    const k = {stamp, veths, checkedAt: stamp === '' ? -RECHECK_EVERY : this.refreshes}
    this.known.set(id, k)
    // Links came or went (network connect, disconnect): their sum is not the last one's continued, so no figure this time.
    if (old !== undefined && old.veths.length > 0 && old.veths.join() !== veths.join()) return {...k, veths: []}
    return k
  }

  private list(): void {
    this.listedAt = this.refreshes
    let names: string[]
    try {
      names = readdirSync(endpointsDir(this.store))
    } catch {
      names = []
    }
    this.ids.clear()
    for (const id of names) this.ids.set(id.slice(0, 8), id)
    for (const id of this.known.keys()) if (this.ids.get(id.slice(0, 8)) !== id) this.known.delete(id)
  }
}
