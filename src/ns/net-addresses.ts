import {readFileSync} from 'node:fs'
import {PROC_ROOT} from '../proc/fs.js'

/**
 * The addresses of a net namespace, read from the kernel through one of its processes (so
 * any namespace, an nsx container's or another runtime's, shows what it really has): IPv4
 * from /proc/PID/net/fib_trie (its "/32 host LOCAL" entries), IPv6 from /proc/PID/net/if_inet6
 * (global scope only). Loopback and link-local addresses are left out: every namespace has them.
 */
export function netAddresses(pid: number, root = PROC_ROOT): string[] {
  const out: string[] = []
  try {
    const lines = readFileSync(`${root}/${pid}/net/fib_trie`, 'latin1').split('\n')
    for (let i = 1; i < lines.length; i++) {
      if (lines[i].trim() !== '/32 host LOCAL') continue
      const m = /\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(lines[i - 1])
      if (m && !m[1].startsWith('127.') && !out.includes(m[1])) out.push(m[1])
    }
  } catch {
    // gone, or not readable
  }
  try {
    for (const line of readFileSync(`${root}/${pid}/net/if_inet6`, 'latin1').split('\n')) {
      const f = line.trim().split(/\s+/)
      // address, ifindex, prefix length, scope (0: global), flags, name
      if (f.length < 6 || f[3] !== '00') continue
      out.push(ipv6Text(f[0]))
    }
  } catch {
    // no IPv6, or gone
  }
  return out
}

/** 32 hex digits as RFC 5952 text: lower case, the longest run of zero groups (two or more) as "::". */
export function ipv6Text(hex: string): string {
  const groups = Array.from({length: 8}, (_, i) => parseInt(hex.slice(i * 4, i * 4 + 4), 16).toString(16))
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  if (best < 0) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`
}
