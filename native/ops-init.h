/* ops-init.c: the container's init; what the supervisor (ctr-relay.c) asks of it. */
#ifndef NSX_OPS_INIT_H
#define NSX_OPS_INIT_H

/* ctr-term-grace in ms, -1 when not given. */
long init_term_grace_ms(void);

#endif
