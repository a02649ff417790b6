import {cpSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {run, tempDir as tempDirOf} from './env.js'
import {lsetxattr} from '../../src/ffi/libc.js'
import {paxRecord, rawHeader} from '../../src/image/layer-tar.js'

/**
 * Fixtures for the image store tests: hand-made (and malicious) layers, written with the
 * store's own header writer, and real images built with umoci and skopeo from busybox-static.
 */

export interface TarSpec {
  name: string
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo'
  data?: string | Buffer
  mode?: number
  uid?: number
  gid?: number
  mtime?: number
  linkname?: string
  devmajor?: number
  devminor?: number
  /** Extra pax records (e.g. SCHILY.xattr.user.x); a pax header is also written for long names. */
  pax?: Record<string, string | Buffer>
}

const TYPEFLAG = {file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6'} as const

/** The ustar header of one entry, written by the store's own tar writer (src/image/layer-tar.ts). */
function header(name: string, typeflag: string, size: number, s: TarSpec): Buffer {
  const mode = s.mode ?? (typeflag === '5' ? 0o755 : 0o644)
  return rawHeader({name, type: typeflag, size, mode, uid: s.uid ?? 0, gid: s.gid ?? 0, mtime: s.mtime ?? 1700000000, linkname: s.linkname, devmajor: s.devmajor, devminor: s.devminor})
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)])

/** A complete tar (with its end-of-archive marker) of the given entries, in order. */
export function buildTar(entries: TarSpec[], opts: {endMarker?: boolean} = {}): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'dir' : 'file')
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data)
    const pax: Record<string, Buffer> = {}
    for (const [k, v] of Object.entries(e.pax ?? {})) pax[k] = Buffer.from(v)
    if (Buffer.byteLength(e.name) > 100) pax.path = Buffer.from(e.name)
    if (e.linkname && Buffer.byteLength(e.linkname) > 100) pax.linkpath = Buffer.from(e.linkname)
    if (Object.keys(pax).length > 0) {
      const body = Buffer.concat(Object.entries(pax).map(([k, v]) => paxRecord(k, v)))
      parts.push(header('PaxHeaders/x', 'x', body.length, {name: ''}), pad(body))
    }
    parts.push(header(e.name, TYPEFLAG[type], type === 'file' ? data.length : 0, e))
    if (type === 'file' && data.length > 0) parts.push(pad(data))
  }
  if (opts.endMarker !== false) parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

/** A temp dir removed when the test ends, pass or fail. */
export const tempDir = (t: TestContext, prefix = 'nsx-img-'): string => tempDirOf(t, prefix)

function must(cmd: string, args: string[], opts: {cwd?: string} = {}): string {
  const r = run(cmd, args, opts)
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

const BUSYBOX = '/usr/bin/busybox' // busybox-static: no shared libraries to copy

/**
 * An OCI layout built by umoci from busybox-static, tag "latest", three layers:
 * 1. /bin/busybox, /bin/sh -> busybox, /etc/motd, /etc/old/{a,b}, a hard link /bin/ash
 * 2. /etc/motd deleted (a whiteout), /etc/old made opaque (deleted and re-created with c)
 * 3. /etc/hostname added, with the xattr user.nsx-test=kept
 * Config: Cmd ["/bin/sh"], Env FOO=bar, WorkingDir /etc, User 0:0.
 */
export function buildBusyboxOci(dir: string, opts: {tag?: string; extraFiles?: Record<string, string>} = {}): string {
  const tag = opts.tag ?? 'latest'
  const layout = join(dir, 'oci')
  const img = `${layout}:${tag}`
  must('umoci', ['init', '--layout', layout])
  must('umoci', ['new', '--image', img])
  const bundle = (n: number) => join(dir, `bundle${n}`)
  must('umoci', ['unpack', '--image', img, bundle(1)])
  const r1 = join(bundle(1), 'rootfs')
  mkdirSync(join(r1, 'bin'), {recursive: true})
  mkdirSync(join(r1, 'etc', 'old'), {recursive: true})
  cpSync(BUSYBOX, join(r1, 'bin', 'busybox'))
  symlinkSync('busybox', join(r1, 'bin', 'sh'))
  must('ln', [join(r1, 'bin', 'busybox'), join(r1, 'bin', 'ash')])
  writeFileSync(join(r1, 'etc', 'motd'), 'hello from layer 1\n')
  writeFileSync(join(r1, 'etc', 'old', 'a'), 'a\n')
  writeFileSync(join(r1, 'etc', 'old', 'b'), 'b\n')
  // Extra files for layer 1 (path in the image -> host file), e.g. a static probe program.
  for (const [inImage, host] of Object.entries(opts.extraFiles ?? {})) {
    mkdirSync(join(r1, inImage, '..'), {recursive: true})
    cpSync(host, join(r1, inImage))
  }
  must('umoci', ['repack', '--image', img, bundle(1)])
  must('umoci', ['unpack', '--image', img, bundle(2)])
  const r2 = join(bundle(2), 'rootfs')
  unlinkSync(join(r2, 'etc', 'motd'))
  rmSync(join(r2, 'etc', 'old'), {recursive: true})
  mkdirSync(join(r2, 'etc', 'old'))
  writeFileSync(join(r2, 'etc', 'old', 'c'), 'c\n')
  must('umoci', ['repack', '--image', img, bundle(2)])
  must('umoci', ['unpack', '--image', img, bundle(3)])
  writeFileSync(join(bundle(3), 'rootfs', 'etc', 'hostname'), 'probe\n')
  lsetxattr(join(bundle(3), 'rootfs', 'etc', 'hostname'), 'user.nsx-test', Buffer.from('kept')) // umoci writes it as SCHILY.xattr
  must('umoci', ['repack', '--image', img, bundle(3)])
  must('umoci', ['config', '--image', img, '--config.cmd', '/bin/sh', '--config.env', 'FOO=bar', '--config.workingdir', '/etc', '--config.user', '0:0'])
  for (let n = 1; n <= 3; n++) rmSync(bundle(n), {recursive: true, force: true})
  return layout
}

/** A static probe program compiled from C (needs gcc and libc6-dev): prints "probe" and its arguments. */
export function buildStaticProbe(dir: string): string {
  const src = join(dir, 'probe.c')
  writeFileSync(src, '#include <stdio.h>\nint main(int argc, char **argv) { printf("probe"); for (int i = 1; i < argc; i++) printf(" %s", argv[i]); printf("\\n"); return 0; }\n')
  const out = join(dir, 'probe')
  must('gcc', ['-static', '-O2', '-o', out, src])
  return out
}

/** The same image as a docker archive, written by skopeo, named NAME. */
export function toDockerArchive(layout: string, tag: string, file: string, name: string): string {
  must('skopeo', ['copy', '-q', `oci:${layout}:${tag}`, `docker-archive:${file}:${name}`])
  return file
}

/** Unpack with umoci (the peer) for comparison. */
export function umociUnpack(layout: string, tag: string, bundle: string): string {
  must('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle])
  return join(bundle, 'rootfs')
}
