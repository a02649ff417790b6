import {chmodSync, copyFileSync, lchownSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, Stats, symlinkSync} from 'node:fs'
import {isAbsolute, join, normalize} from 'node:path'
import type {Volume as Mount} from '../container/spec.js'
import {LayerView} from '../image/layer-view.js'
import type {Store} from '../store/store.js'
import {createVolume, removeVolume, volumeData} from './volumes.js'

/**
 * A new container's volumes: each `-v NAME:/path` names a volume, made on first use; each
 * `-v /path` gets an anonymous one (a generated name). A volume that is empty when the
 * container is created gets a copy of what the image has at the path (docker's copy-up:
 * moby's copyExistingContents, including the directory's own owner and mode) unless
 * `nocopy`. Returns the mounts with their sources filled in; volumes made here are taken
 * back by `undo` if the container is not made after all.
 */
export function resolveVolumeMounts(store: Store, mounts: readonly Mount[], lowerDirs: readonly string[], undo: Array<() => void>, opts: {dryRun?: boolean; autoRemoveWith?: string} = {}): Mount[] {
  return mounts.map((m) => {
    if (m.volume === undefined && !m.anonymous) return m
    if (opts.dryRun) return {...m, source: m.volume !== undefined ? volumeData(store, m.volume) : '<anonymous volume>'}
    const {volume, created} = createVolume(store, {name: m.volume, anonymous: m.anonymous, autoRemoveWith: m.anonymous ? opts.autoRemoveWith : undefined})
    if (created) undo.push(() => removeVolume(store, volume.Name, {force: true}))
    const data = volume.Mountpoint
    if (!m.noCopy && readdirSync(data).length === 0) copyUp(lowerDirs, m.target, data)
    return {...m, source: data, volume: volume.Name}
  })
}

/** The paths an image declares with VOLUME (its config's `Volumes`), normalised, in order. */
export function imageVolumes(store: Store, imageId: string): string[] {
  let cfg: {config?: {Volumes?: Record<string, unknown> | null}}
  try {
    cfg = JSON.parse(readFileSync(join(store.imageDir(imageId), 'config.json'), 'utf8'))
  } catch {
    return []
  }
  const declared = Object.keys(cfg.config?.Volumes ?? {}).filter((p) => isAbsolute(p)).map((p) => normalize(p).replace(/(.)\/+$/, '$1'))
  return [...new Set(declared)].filter((p) => p !== '/')
}

/**
 * A container's mounts with an anonymous volume for each path the image declares (VOLUME) that
 * no `-v` or `--tmpfs` of the user covers (docker's rule), then ordered parents first (docker
 * sorts its mounts by the depth of their destination), so a `-v` below an image volume lands in it.
 */
export function withImageVolumes(mounts: readonly Mount[], declared: readonly string[], tmpfsTargets: readonly string[] = []): Mount[] {
  const taken = new Set([...mounts.map((m) => m.target), ...tmpfsTargets.map((t) => normalize(t))])
  const added: Mount[] = declared.filter((p) => !taken.has(p)).map((p) => ({source: '', target: p, readOnly: false, anonymous: true}))
  if (added.length === 0) return [...mounts]
  const depth = (p: string) => p.split('/').filter(Boolean).length
  return [...added, ...mounts].map((m, i) => ({m, i})).sort((a, b) => depth(a.m.target) - depth(b.m.target) || a.i - b.i).map((x) => x.m)
}

/** The anonymous volumes of a container's mounts (rm -v and run --rm remove them). */
export function anonymousVolumes(mounts: readonly Mount[]): string[] {
  return mounts.filter((m) => m.anonymous && m.volume !== undefined).map((m) => m.volume!)
}

/** Copy the image's directory at TARGET (its merged view across the layers) into DEST, keeping owners, modes, times and symlinks. */
export function copyUp(lowerDirs: readonly string[], target: string, dest: string): number {
  if (lowerDirs.length === 0) return 0
  const view = new LayerView(lowerDirs)
  const rel = view.resolve(target.replace(/^\/+/, ''))
  const node = view.lookup(rel)
  if (!node?.st.isDirectory()) return 0
  let copied = 0
  const walk = (relDir: string, to: string) => {
    for (const [name, n] of view.readdir(relDir)) {
      const d = join(to, name)
      const st = n.st
      if (st.isDirectory()) {
        mkdirSync(d)
        walk(relDir === '' ? name : `${relDir}/${name}`, d)
      } else if (st.isFile()) copyFileSync(n.abs, d)
      else if (st.isSymbolicLink()) symlinkSync(readlinkSync(n.abs), d)
      else continue // devices, fifos and sockets are not copied
      keep(d, st)
      copied++
    }
  }
  walk(rel, dest)
  keep(dest, node.st)
  return copied
}

function keep(path: string, st: Stats): void {
  lchownSync(path, st.uid, st.gid)
  if (!st.isSymbolicLink()) chmodSync(path, st.mode & 0o7777)
  lutimesSync(path, st.atime, st.mtime)
}
