import {readText} from './fs.js'

/** uid -> user name from /etc/passwd (read once); numeric ids stay numeric when unknown. */
let passwd: Map<number, string> | undefined
let group: Map<number, string> | undefined

function load(path: string): Map<number, string> {
  const map = new Map<number, string>()
  for (const line of (readText(path) ?? '').split('\n')) {
    const f = line.split(':')
    if (f.length >= 3 && !map.has(Number(f[2]))) map.set(Number(f[2]), f[0])
  }
  return map
}

export function userName(uid: number): string | undefined {
  passwd ??= load('/etc/passwd')
  return passwd.get(uid)
}

export function groupName(gid: number): string | undefined {
  group ??= load('/etc/group')
  return group.get(gid)
}

/** user or group name -> id, from /etc/passwd or /etc/group (the first line that names it). */
export function idByName(name: string, kind: 'user' | 'group'): number | undefined {
  for (const line of (readText(kind === 'user' ? '/etc/passwd' : '/etc/group') ?? '').split('\n')) {
    const f = line.split(':')
    if (f.length >= 3 && f[0] === name && /^\d+$/.test(f[2])) return Number(f[2])
  }
  return undefined
}
