/* Error codes in the words the command and the agent show people, translated through gettext
 * in the caller's text domain ("sesame"): vault_strerror's texts are for logs and other
 * programs, and say the code rather than the remedy. */
#ifndef SESAME_COMMON_ERRTEXT_H
#define SESAME_COMMON_ERRTEXT_H

/* The code's text in the current locale; unknown codes get vault_strerror's, translated when the
 * catalogue has it. */
const char *sesame_strerror(int code);

#endif
