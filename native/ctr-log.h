/* The container's log, docker's json-file driver: written by the supervisor (ctr-log.c). */
#ifndef NSX_CTR_LOG_H
#define NSX_CTR_LOG_H
#include <stdbool.h>
#include <stddef.h>

enum log_stream { LOG_STDOUT = 0, LOG_STDERR = 1 };

/* Whether ctr-log was in the plan (a detached start). */
bool ctr_log_enabled(void);
/* Whether ctr-log-tee was too (a foreground run: logged and relayed). */
bool ctr_log_tee(void);
/* Open the log file (in the supervisor, after the fork). */
void ctr_log_open(void);
/* Bytes the container wrote on a stream: whole lines become entries, a partial line waits. */
void ctr_log_write(enum log_stream s, const char *data, size_t len);
/* The partial lines left, as entries without a newline (at the end). */
void ctr_log_flush(void);
#endif
