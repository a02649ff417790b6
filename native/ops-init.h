/* ops-init.c: the container init's identity and restrictions, used by ops-container.c. */
#ifndef NSX_OPS_INIT_H
#define NSX_OPS_INIT_H

#include <stdbool.h>

/* In the init: /proc/PID/cmdline "nsx-init", environ the container's, nsx's strings wiped; false if refused. */
bool init_retitle(void);
/* In the init, after forking the command: the command's capabilities, ids and no_new_privs. */
void init_drop_privileges(void);
/* ctr-term-grace in ms, -1 when not given. */
long init_term_grace_ms(void);

#endif
