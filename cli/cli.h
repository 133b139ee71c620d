/* The sesame command: one command per file, each exporting cmd_NAME(argc, argv) and parsing its
 * own options; main.c only dispatches. Only this code talks to the person. */
#ifndef SESAME_CLI_CLI_H
#define SESAME_CLI_CLI_H

#include <libintl.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "home.h"
#include "proto.h"

#define _(s) gettext(s)
#define N_(s) (s)
/* A message with a context for translators (xgettext's glib preset knows C_). */
#define C_(ctx, s) cli_pgettext(ctx "\004" s)

#define CLI_MESSAGE_MAX 1024 /* one message to the person, with the values it names */

/* Exit codes, documented in sesame(1). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	      /* the request failed; the message says why */
	EXIT_USAGE = 2,	      /* bad arguments */
	EXIT_BADPIN = 3,      /* wrong PIN or recovery key */
	EXIT_BLOCKED = 4,     /* the vault is blocked: use the recovery key */
	EXIT_NOSESSION = 5,   /* no open session: unlock first */
	EXIT_AGENT = 6,	      /* the agent cannot be reached */
	EXIT_CANCELLED = 7,   /* the person cancelled the prompt */
	EXIT_TAMPERED = 10,   /* sesame audit: the log or a checkpoint was altered */
	EXIT_UNREADABLE = 11, /* sesame audit: the log cannot be read */
};

/* People asked for when checking a new name: the agent's largest page. */
#define CLI_SAME_NAMES_PAGE 200

/* The options several commands share. Each command names those it takes; --help goes with all. */
enum cli_option {
	CLI_OPT_JSON = 1 << 0,	    /* --json */
	CLI_OPT_PIN_FD = 1 << 1,    /* --pin-fd N */
	CLI_OPT_SECRET_FD = 1 << 2, /* --secret-fd N */
	CLI_OPT_PURPOSE = 1 << 3,   /* --purpose TEXT */
	CLI_OPT_SEARCH = 1 << 4,    /* --search TEXT */
	CLI_OPT_SHEET = 1 << 5,	    /* --sheet FILE.html */
	CLI_OPT_FORCE = 1 << 6,	    /* --force */
	CLI_OPT_CONSENT = 1 << 7,   /* --consent FILE.html */
};

struct cli_common {
	int json;
	int pin_fd;    /* -1: ask through pinentry */
	int secret_fd; /* -1: ask through pinentry */
	const char *purpose;
	const char *search;
	const char *sheet;
	const char *consent;
	int force;
};

/* What the options asked for: go on with the operands, or print the command's usage. */
enum cli_parsed {
	CLI_PARSED_OK,	 /* the operands are argv[optind] to argv[argc - 1] */
	CLI_PARSED_HELP, /* --help: the usage, on stdout */
	CLI_PARSED_BAD,	 /* getopt or cli_fd_arg has said what is wrong: the usage, on stderr */
};

int cmd_init(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_pin(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_consent(int argc, char **argv);
int cmd_history(int argc, char **argv);

/* consent.c: the consent page, into a file cli_consent_open created fresh (0600, never through a
 * link); with user's session open it lists their choices. Closes fd. */
int cli_consent_open(const char *path);
int cli_consent_write(int fd, const struct sesame_home *h, const char *name, const char *user);

/* enroll.c: the recovery sheet as a page to print, into fd (a file created fresh, 0600, never
 * through a link), which it closes. */
int cli_sheet_write(int fd, const char *name, const char *id, const char *recovery);

/* util.c */
const char *cli_program(void);
int cli_fd_arg(const char *arg, int *fd);
/* Parses the options in `accepted` (a set of enum cli_option) and --help, and stops at the first
 * one that is unknown or wrong; the operands are left from optind on. */
enum cli_parsed cli_common_parse(int argc, char **argv, unsigned accepted,
				 struct cli_common *common);
int cli_home(struct sesame_home *home);
int cli_home_mode(struct sesame_home *home, int system); /* system: sesame-agent --system's */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* During a long wait (KDF, browser start), text on a terminal's standard error only, never
 * with --json; cli_progress_done (and any cli_error) erases it. */
void cli_progress(const char *text, int json);
/* VAULT_E_PERM, with the file or directory it is about and the remedy. */
void cli_unsafe(const char *path);
void cli_progress_done(void);
const char *cli_strerror(int code);
int cli_exit_for(int code);
void cli_json_print(cJSON *obj); /* prints, then frees obj */

/* reasons.c: the message for a refusal that carries a reason (docs/protocol.md), or -1 */
int cli_reply_message(const cJSON *reply, char *out, size_t cap);
/* A configuration the command could not read: the file, the line, the key, what it takes. */
void cli_config_error(const struct sesame_home *h, int code);

/* checks.c: what can be refused before the person types a secret; each says why itself and
 * returns the exit code (EXIT_OK: go on). clean receives the name as it will be kept. */
/* force: go on although vault files cannot be read (one may be this person's). */
int cli_check_new_name(const struct sesame_home *h, const char *name, char *clean, size_t cap,
		       int json, int force);
/* Names on stderr each damaged vault file of a reply ("damaged", "unreadable"), with what to
 * do: returns how many there are. */
long long cli_damaged_report(const cJSON *reply);
int cli_check_add(const struct sesame_home *h, const char *user, const char *service,
		  const char *url, int replace, int json);
int cli_check_blocked(long long attempts_left, int json);
/* The person has a credential for service (their session open). */
int cli_check_service(const struct sesame_home *h, const char *user, const char *service, int json);
/* At a terminal, ask question and wait for the word "yes" (translated); 0 elsewhere. */
int cli_confirm(const char *question);

/* show.c: a date as people write it, in local time ("30 May 2027", « 30 mai 2027 »); the
 * columns a text takes on the terminal; a text padded, or cut with "…", to width columns. */
void cli_date(long long when, char *out, size_t cap);
const char *cli_pgettext(const char *ctx_msgid);
/* "of NAME" as the language writes it: « de Mme Martin », « d'Aïcha ». Returns out. */
const char *cli_of(const char *name, char *out, size_t cap);
size_t cli_width(const char *s);
void cli_print_cell(const char *s, size_t width);

/* client.c: one request to the agent, started on demand in per-user mode. Every wait is bounded
 * (sesame(1), "WAITS"); client_call_wait's wait_ms < 0 takes the bound of the request's op.
 * Failures are reported, naming what did not answer. */
int client_call(const struct sesame_home *home, cJSON *req, cJSON **reply);
int client_call_wait(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms);
/* The same, handing the agent the descriptor file (an export's: docs/protocol.md). */
int client_call_file(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms,
		     int file);
/* An enroll or recover: a reply that carries a new recovery key keeps its connection in *held
 * (else -1), since the agent undoes the change unless told the key was shown. */
int client_call_held(const struct sesame_home *home, cJSON *req, cJSON **reply, int *held);
/* Once the key is shown (shown 1), say so on held; with shown 0 hang up, which undoes the
 * change. Closes held. 0: the change stands; -2: the agent refused and undid it; -1: no answer
 * or not shown. */
int client_key_shown(int held, int shown);
/* Standard output took what was printed (flushed, and synced when it is a file). */
int client_stdout_ok(void);
/* A recovery the agent did not confirm: the key printed is void. */
void cli_key_void(void);
/* The reply's error as a message and exit code; prints it unless json. */
int client_failed(const cJSON *reply, int json);
/* Send req (consumed); on success print the reply as JSON, or through show, and confirm a new
 * recovery key shown (client_key_shown). Returns the exit code for the reply. */
int cli_run(const struct sesame_home *home, cJSON *req, int json,
	    void (*show)(const cJSON *reply, void *ctx), void *ctx);

/* secrets.c: a PIN or other secret from --pin-fd/--secret-fd or pinentry */
struct secret_ask {
	const char *description;
	const char *prompt;
	const char *error;
	int twice; /* ask for confirmation (pinentry only) */
};
int cli_secret(int fd, const struct secret_ask *ask, char **secret);
int cli_user_lookup(const struct sesame_home *h, const char *user, char *name, size_t cap,
		    long long *attempts_left);
/* Ask the PIN and open a session. announce: print the outcome on success (a command that goes
 * on, like login with --json, prints only its own result). */
int cli_unlock(const struct sesame_home *h, const char *user, int fd, const char *purpose, int json,
	       int announce);
int cli_new_pin(const struct sesame_home *h, int fd, const char *description, char **pin);
/* The end of a PIN change: ask the new PIN for name, then send {op, user, key: secret, new_pin}
 * through cli_run with show(reply, ctx), ctx being name when NULL. secret, already asked, is
 * wiped on every path, and so is the new PIN. */
int cli_send_new_pin(const struct sesame_home *h, int fd, const char *op, const char *user,
		     const char *key, char *secret, const char *name, int json,
		     void (*show)(const cJSON *reply, void *ctx), void *ctx);

#endif
