/* The address of a credential's login page, checked when it is recorded: the assisted login
 * fills only https pages (or http on loopback when sesame.conf allows it), so an address that
 * could never be filled, or that is not a web address at all, is refused at once. */
#ifndef SESAME_COMMON_URL_H
#define SESAME_COMMON_URL_H

enum url_verdict {
	URL_OK = 0,
	URL_MALFORMED = 1,     /* not an absolute address: no scheme, no host, spaces, controls */
	URL_SCHEME = 2,	       /* a scheme other than https (javascript:, ftp:, file:, ...) */
	URL_HTTP = 3,	       /* http on a host that is not loopback */
	URL_HTTP_DISABLED = 4, /* http on loopback, which sesame.conf does not allow */
};

/* The verdict on url; allow_http_loopback is sesame.conf's allow_http_loopback. */
enum url_verdict url_check(const char *url, int allow_http_loopback);

#endif
