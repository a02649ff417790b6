import {readFileSync} from 'node:fs'

/**
 * nsx's version from package.json, for the fast paths' -V (enter, unshare), which never load
 * oclif. Found from this module whether it runs from dist/src/cli (tsc), dist/fast (the
 * bundle bin/nsx loads, where import.meta.url is the bundle's) or src/cli (tests under tsx).
 */
export function packageVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {name?: string; version?: string}
      if (pkg.name === 'nsx' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // try the other layout
    }
  }
  return 'unknown'
}
