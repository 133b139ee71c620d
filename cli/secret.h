/* Reading a secret (PIN, recovery key, password) from the person: through pinentry, the program
 * GnuPG uses, speaking its Assuan protocol; or from a file descriptor, for automation.
 * Secrets come back in sodium_malloc buffers; free them with sodium_free. */
#ifndef SESAME_CLI_SECRET_H
#define SESAME_CLI_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h" /* SECRET_*, with every other code */

#define SECRET_MAX 1024 /* longest secret accepted (a password); PINs are far shorter */
/* Assuan's bound on a line a pinentry sends, CR LF included (libassuan's ASSUAN_LINELENGTH). */
#define SECRET_ASSUAN_LINE_MAX 1002

struct secret_prompt {
	const char *title;	 /* window title (SETTITLE) */
	const char *description; /* what is asked and why, for the person (SETDESC) */
	const char *prompt;	 /* the label before the field, e.g. "PIN:" (SETPROMPT) */
	const char *error;  /* shown first, e.g. "Wrong PIN, 3 attempts left" (SETERROR), or NULL */
	const char *repeat; /* if not NULL, ask twice with this label (SETREPEAT) */
	const char *mismatch; /* message when the two entries differ (SETREPEATERROR) */
	const char *ok;	    /* the buttons' labels, in the person's language (SETOK, SETCANCEL), */
	const char *cancel; /* or NULL for the pinentry's own */
};

/* Ask through pinentry. The program is $SESAME_PINENTRY if set, else "pinentry" from PATH. The
 * prompt goes to the terminal of stdin (OPTION ttyname, ttytype) or the desktop, in the
 * current locale (OPTION lc-ctype, lc-messages). */
int secret_pinentry(const struct secret_prompt *prompt, char **secret);

/* Read one line (without its newline) from fd, byte by byte so that later lines stay unread for
 * the next call. A final line without a newline is accepted. */
int secret_from_fd(int fd, char **secret);

/* A pinentry's reply to one command, gathered line by line by secret_reply_line. */
struct secret_reply {
	char *data;	/* sodium_malloc, SECRET_MAX + 1, for GETPIN's "D" lines; NULL: none due */
	size_t len;	/* decoded bytes in data, never a NUL among them */
	bool toolong;	/* the data went past SECRET_MAX; what came after was dropped */
	bool repeated;	/* "S PIN_REPEATED": the pinentry asked twice and compared itself */
	unsigned error; /* after "ERR": its libgpg-error code (low 16 bits), 0 if it gave none */
};

enum secret_line {
	SECRET_LINE_MORE = 0,	 /* "D", "S" or a comment: the reply goes on */
	SECRET_LINE_OK = 1,	 /* "OK": the command succeeded and the reply is over */
	SECRET_LINE_ERR = 2,	 /* "ERR": the command failed and the reply is over */
	SECRET_LINE_INQUIRE = 3, /* "INQUIRE": it waits for an answer (we send CAN) */
};

/* Parses one line of a pinentry's reply into r: len bytes, without the LF (a CR before it is
 * dropped). No I/O: it reads no byte past line + len. Returns a secret_line, or SECRET_FAILED for
 * a line that is no Assuan reply, holds a NUL byte or a bad or NUL %-escape, or is data when
 * r->data is NULL. */
int secret_reply_line(struct secret_reply *r, const char *line, size_t len);

#endif
