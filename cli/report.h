/* sesame audit report: the auditor's page (docs/audit-log.md, "The auditor's report"). */
#ifndef SESAME_CLI_REPORT_H
#define SESAME_CLI_REPORT_H

#include <stddef.h>

#include "audit.h"

/* Limits of the page: what a reader can take in, whatever the log's size. */
#define REPORT_BURST_COUNT 3	  /* wrong PINs for one person ... */
#define REPORT_BURST_WINDOW 600	  /* ... each within this many seconds of the previous one */
#define REPORT_RECORDS_SHOWN 12	  /* records shown under one anomaly; the rest are counted */
#define REPORT_ANOMALIES_SHOWN 50 /* anomalies shown of one kind; the rest are counted */
#define REPORT_PURPOSES_SHOWN 6	  /* purposes kept for one worker and person */
#define REPORT_CHART_WORKERS 8	  /* workers with a colour of their own in the chart */
#define REPORT_PAIRS_SHOWN 500	  /* rows of "who opened whose vault" */

/* audit.c: what audit_verify found, as a sentence in the reader's language. */
void cli_audit_verify_sentence(const struct audit_verify_report *rep, char *out, size_t cap);
/* audit.c: a verifier key given as text, or as a file holding it. */
int cli_audit_load_key(const char *arg, struct note_verifier *v);
/* audit.c: a small file, malloc'd and NUL-terminated, or NULL. */
char *cli_audit_read_file(const char *path, size_t *len);

/* report.c: sesame audit [--dir DIR] report --html FILE [options]; args from "report" on. */
int cli_audit_report(const char *dir, int argc, char **argv);

#endif
