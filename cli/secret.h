/* Reading a secret (PIN, recovery key, password) from the person: through pinentry, the program
 * GnuPG uses, speaking its Assuan protocol; or from a file descriptor, for automation.
 * Secrets come back in sodium_malloc buffers; free them with sodium_free. */
#ifndef SESAME_CLI_SECRET_H
#define SESAME_CLI_SECRET_H

#include <stddef.h>

#define SECRET_MAX 1024 /* longest secret accepted (a password); PINs are far shorter */

enum secret_result {
	SECRET_OK = 0,
	SECRET_CANCELLED = -1, /* the person pressed Cancel or closed the prompt */
	SECRET_ERROR = -2,     /* no pinentry program, protocol error, I/O error */
	SECRET_TOOLONG = -3,   /* longer than SECRET_MAX */
	SECRET_EOF = -4,       /* the descriptor had no more lines */
	SECRET_MISMATCH = -5,  /* asked twice (repeat), the entries differed every time */
};

struct secret_prompt {
	const char *title;	 /* window title (SETTITLE) */
	const char *description; /* what is asked and why, for the person (SETDESC) */
	const char *prompt;	 /* the label before the field, e.g. "PIN:" (SETPROMPT) */
	const char *error;  /* shown first, e.g. "Wrong PIN, 3 attempts left" (SETERROR), or NULL */
	const char *repeat; /* if not NULL, ask twice with this label (SETREPEAT) */
	const char *mismatch; /* message when the two entries differ (SETREPEATERROR) */
};

/* Ask through pinentry. The program is $SESAME_PINENTRY if set, else "pinentry" from PATH. The
 * prompt goes to the terminal of stdin (OPTION ttyname, ttytype) or the desktop, in the
 * current locale (OPTION lc-ctype, lc-messages). */
int secret_pinentry(const struct secret_prompt *prompt, char **secret);

/* Read one line (without its newline) from fd, byte by byte so that later lines stay unread for
 * the next call. A final line without a newline is accepted. */
int secret_from_fd(int fd, char **secret);

#endif
