/** A generic tree printer with box-drawing branches, as pstree and lsns --tree draw them. */
export interface TreeNode {
  label: string
  children: TreeNode[]
}

export interface TreeGlyphs {
  tee: string
  elbow: string
  pipe: string
  blank: string
}

export const UNICODE_GLYPHS: TreeGlyphs = {tee: '├─', elbow: '└─', pipe: '│ ', blank: '  '}
export const ASCII_GLYPHS: TreeGlyphs = {tee: '|-', elbow: '`-', pipe: '| ', blank: '  '}

export function glyphsFor(env: NodeJS.ProcessEnv = process.env): TreeGlyphs {
  const lang = `${env.LC_ALL ?? ''}${env.LC_CTYPE ?? ''}${env.LANG ?? ''}`
  return /utf-?8/i.test(lang) || lang === '' ? UNICODE_GLYPHS : ASCII_GLYPHS
}

export function renderTree(roots: TreeNode[], glyphs: TreeGlyphs = UNICODE_GLYPHS): string {
  const out: string[] = []
  const walk = (node: TreeNode, prefix: string, isLast: boolean, isRoot: boolean) => {
    out.push(isRoot ? node.label : `${prefix}${isLast ? glyphs.elbow : glyphs.tee}${node.label}`)
    const childPrefix = isRoot ? '' : prefix + (isLast ? glyphs.blank : glyphs.pipe)
    node.children.forEach((c, i) => walk(c, childPrefix, i === node.children.length - 1, false))
  }
  for (const r of roots) walk(r, '', true, true)
  return out.join('\n') + (out.length > 0 ? '\n' : '')
}
