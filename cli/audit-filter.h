/* sesame audit show's filter arguments, checked and turned into the log's own forms. Each
 * function reports a wrong argument itself and returns -1; 0 when it is good. */
#ifndef SESAME_CLI_AUDIT_FILTER_H
#define SESAME_CLI_AUDIT_FILTER_H

#include "audit.h"
#include "cli.h"
#include "vault.h"

/* --since or --until: 2026-11-30, 30/11/2026, "2026-11-30 09:13[:05]", the same with T and an
 * offset (Z, +01:00), today/aujourd'hui, yesterday/hier. Local time unless an offset is given;
 * with until, a day alone means up to its end. out is the RFC 3339 UTC time. */
int audit_filter_time(const char *option, const char *arg, int until, char out[AUDIT_TIME_LEN + 1]);

/* --event: one of audit_event_names; the error lists them. */
int audit_filter_event(const char *arg);

/* --user: an id as it is, or an enrolled person's name, resolved by the agent. */
int audit_filter_user(const char *arg, char id[VAULT_USER_ID_HEX]);

#endif
