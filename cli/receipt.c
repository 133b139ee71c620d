/* The person's appointment receipt (sesame lock PERSON --receipt FILE.html): what was done in
 * the session, in plain words, each entry with its verification code, the record's inclusion
 * proof that sesame audit check-receipt verifies (docs/audit-log.md, "Inclusion proof"). The
 * record shown is the one inside the proof, so the page cannot say anything the code does not
 * prove. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "receipt.h"
#include "words.h"

int cli_receipt_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		cli_error(_("cannot create the receipt %s: %s; the session is closed all the same, "
			    "without a receipt"),
			  path, strerror(errno));
	return fd;
}

static void receipt_head(FILE *f, const char *name)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
		words_lang());
	words_html(f, _("Appointment receipt"));
	fputs("</title><style>body{font-family:sans-serif;margin:2cm;font-size:13pt}"
	      "h1{font-size:24pt}.entry{border-top:1px solid #888;padding:6pt 0;"
	      "page-break-inside:avoid}.what{font-size:15pt;font-weight:bold}"
	      "pre{font-size:6pt;white-space:pre-wrap;overflow-wrap:anywhere;color:#333}"
	      "</style></head><body>\n<h1>",
	      f);
	words_html(f, _("Appointment receipt"));
	fputs("</h1>\n<p>", f);
	words_html(f, name);
	fputs("</p>\n<p>", f);
	words_html(f, _("What was done with your vault during this appointment. Each entry has a "
			"verification code: with it, you or an ombudsman can prove later that the "
			"entry is in Sesame's log, unchanged."));
	fputs("</p>\n", f);
}

static void receipt_entry(FILE *f, const char *proof, const struct audit_record *r)
{
	char line[CLI_MESSAGE_MAX];
	struct words_row row;

	words_row(r, &row);
	fputs("<div class=\"entry\"><p class=\"what\">", f);
	words_html(f, row.what);
	fputs("</p><p>", f);
	/* TRANSLATORS: when, then who: "Monday 30 November 2026 at 14:05, by Ana Dupont" */
	snprintf(line, sizeof(line), _("%s, by %s"), row.when, row.who);
	words_html(f, line);
	if (row.why[0]) {
		fputs("<br>", f);
		snprintf(line, sizeof(line), _("Purpose: %s"), row.why);
		words_html(f, line);
	}
	fprintf(f, "</p><p>%s %llu</p><pre class=\"code\">", _("Verification code of entry"),
		row.seq);
	words_html(f, proof);
	fputs("</pre></div>\n", f);
}

int cli_receipt_write(int fd, const cJSON *reply)
{
	const char *name = proto_string(reply, "name");
	long long missing = 0, not_proved = 0;
	struct audit_record r;
	const cJSON *p;
	FILE *f = fdopen(fd, "w");

	if (f == NULL) {
		close(fd);
		return -1;
	}
	receipt_head(f, name != NULL ? name : "");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(reply, "receipt"))
	{
		if (cJSON_IsString(p) && words_proof_record(p->valuestring, &r) == 0)
			receipt_entry(f, p->valuestring, &r);
		else
			missing++;
	}
	proto_int(reply, "receipt_missing", &not_proved);
	missing += not_proved;
	fputs("<p><small>", f);
	if (missing > 0)
		fprintf(f, _("%lld entries could not be given a code. "), missing);
	words_html(f, _("To check a code: copy it into a file and run sesame audit "
			"check-receipt FILE --key KEY, with the log's key kept by the structure."));
	fputs("</small></p>\n</body></html>\n", f);
	if (fflush(f) != 0 || fsync(fd) != 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}
