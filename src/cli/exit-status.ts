/**
 * What each command's exit status means, as data: `--help` prints it (src/cli/help.ts) and
 * the man pages' EXIT STATUS section is made from it (src/doc/manpage.ts). A command sets
 * `static exitStatus` to one of these (or its own list); one without says the inspection
 * commands' 0/1.
 */
export interface ExitStatusEntry {
  /** "0", "125", "128+N", or "the command's". */
  code: string
  meaning: string
}

/** Inspection commands (ls, inspect, pstree, uidmap, top) and nsx's own housekeeping. */
export const INSPECTION_EXIT_STATUS: readonly ExitStatusEntry[] = [
  {code: '0', meaning: 'success'},
  {code: '1', meaning: 'failure: a bad argument, no such process, container or cgroup, or something that could not be read; one line on stderr says which'},
]

/** enter and unshare: nsenter's and unshare's convention. */
export const COMMAND_EXIT_STATUS: readonly ExitStatusEntry[] = [
  {code: 'N', meaning: 'the command\'s own exit status'},
  {code: '125', meaning: 'nsx itself failed (a bad option, a namespace that cannot be joined or made); nothing was run'},
  {code: '126', meaning: 'the command was found but cannot be executed (permission denied, not executable)'},
  {code: '127', meaning: 'the command was not found'},
  {code: '128+N', meaning: 'the command was killed by signal N: nsx dies of the same signal, so a shell sees 128+N'},
]

/** Container verbs that run a container's command (run): docker's convention. */
export const CONTAINER_RUN_EXIT_STATUS: readonly ExitStatusEntry[] = [
  {code: 'N', meaning: 'the container command\'s exit status (with -d: 0 once it is started)'},
  {code: '125', meaning: 'nsx itself failed (a bad option, an image or layer that cannot be used, a name in use); no container was left'},
  {code: '126', meaning: 'the container command cannot be executed'},
  {code: '127', meaning: 'the container command was not found'},
  {code: '128+N', meaning: 'the container command was killed by signal N (137: SIGKILL, from nsx stop after its grace period or for passing the memory limit)'},
]

/** create: docker create's. */
export const CONTAINER_CREATE_EXIT_STATUS: readonly ExitStatusEntry[] = [
  {code: '0', meaning: 'the container was made; its id is printed'},
  {code: '125', meaning: 'nsx failed (a bad option, an image or layer that cannot be used, a name in use); nothing was left'},
]

/** start and attach: 0/1, or with -a (attach: always) the container command's status. */
export const CONTAINER_ATTACH_EXIT_STATUS: readonly ExitStatusEntry[] = [
  {code: '0', meaning: 'started (without -a), or detached from with the detach keys'},
  {code: '1', meaning: 'no such container, an ambiguous id prefix, or one in the wrong state (docker\'s messages)'},
  {code: 'N', meaning: 'attached: the container command\'s exit status (125, 126, 127 and 128+N as nsx run\'s)'},
]

/** exec: docker exec's convention. */
export const EXEC_EXIT_STATUS: readonly ExitStatusEntry[] = [
  {code: 'N', meaning: 'the command\'s own exit status (with -d: 0 once it is exec\'d)'},
  {code: '1', meaning: 'the container does not exist, is not running, or is paused (docker\'s messages)'},
  {code: '125', meaning: 'any other failure of nsx; nothing was run'},
  {code: '126', meaning: 'the command cannot be executed, or its working directory (-w) cannot be entered'},
  {code: '127', meaning: 'the command was not found'},
]

/** The entries a command declares, or the inspection commands' 0/1. */
export function exitStatusOf(command: {exitStatus?: readonly ExitStatusEntry[]}): readonly ExitStatusEntry[] {
  return command.exitStatus ?? INSPECTION_EXIT_STATUS
}
