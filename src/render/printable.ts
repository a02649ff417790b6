/**
 * Process names, command lines, hostnames, paths and cgroup names are anyone's bytes: before
 * they reach a terminal, control characters (C0, DEL, C1) are escaped as \xHH, as lsns and
 * pstree print them, so that they can neither drive the terminal nor forge lines of output.
 */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
