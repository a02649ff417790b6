import {createRequire} from 'node:module'

interface UnicodeChars {
  all: RegExp
  combining: RegExp
  surrogate: RegExp
}

let unicodeChars: UnicodeChars | undefined

/**
 * Text as blessed (without fullUnicode) would show it, one UTF-16 unit per terminal column:
 * a wide character becomes "??", one outside the basic plane "?", and zero-width ones
 * (combining marks, and the bidi controls and invisible operators blessed counts among
 * them) are dropped. What the dashboard paints goes through here, and so does what it
 * shortens to fit a column, so that its length is the width it takes.
 */
export function narrow(text: string): string {
  // Printable ASCII and the tree marks and ellipsis the dashboard adds: nothing to do.
  if (/^[\x20-\x7e\u25b8\u25be\u2026]*$/.test(text)) return text
  unicodeChars ??= (createRequire(import.meta.url)('blessed/lib/unicode.js') as {chars: UnicodeChars}).chars
  return text.replace(unicodeChars.all, '??').replace(unicodeChars.combining, '').replace(unicodeChars.surrogate, '?')
}
