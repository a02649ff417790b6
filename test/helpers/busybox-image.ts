import assert from 'node:assert/strict'
import {cpSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {busyboxLayer, compileProbe} from './container.js'
import {run} from './env.js'

function must(cmd: string, args: string[]): void {
  const r = run(cmd, args)
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`)
}

/**
 * DIR/busybox.tar: a one-layer image of busybox-static and its common applets, Cmd /bin/sh,
 * in docker save format, named busybox:latest (built with umoci, written by skopeo). The
 * README's tour loads it; the JSON schema test runs containers from it.
 */
export function buildBusyboxArchive(dir: string): string {
  const rootfs = busyboxLayer(join(dir, 'rootfs'), compileProbe(join(dir, 'probe')))
  const layout = join(dir, 'oci')
  must('umoci', ['init', '--layout', layout])
  must('umoci', ['new', '--image', `${layout}:latest`])
  must('umoci', ['unpack', '--image', `${layout}:latest`, join(dir, 'bundle')])
  cpSync(rootfs, join(dir, 'bundle', 'rootfs'), {recursive: true, verbatimSymlinks: true})
  must('umoci', ['repack', '--image', `${layout}:latest`, join(dir, 'bundle')])
  must('umoci', ['config', '--image', `${layout}:latest`, '--config.cmd', '/bin/sh'])
  const archive = join(dir, 'busybox.tar')
  must('skopeo', ['copy', '-q', `oci:${layout}:latest`, `docker-archive:${archive}:busybox:latest`])
  for (const d of ['rootfs', 'oci', 'bundle', 'probe']) rmSync(join(dir, d), {recursive: true, force: true})
  return archive
}
