import {readlinkSync} from 'node:fs'

/**
 * Block devices by their major:minor, as cgroup IO files name them: the name in /dev that
 * /sys/dev/block/MAJ:MIN links to ("254:0" is vda). Looked up once per device and remembered.
 */
const names = new Map<string, string | undefined>()

export function blockDeviceName(device: string, sysRoot = '/sys'): string | undefined {
  const key = sysRoot === '/sys' ? device : `${sysRoot}\0${device}`
  if (names.has(key)) return names.get(key)
  let name: string | undefined
  try {
    const target = readlinkSync(`${sysRoot}/dev/block/${device}`)
    name = target.slice(target.lastIndexOf('/') + 1) || undefined
  } catch {
    name = undefined
  }
  names.set(key, name)
  return name
}
