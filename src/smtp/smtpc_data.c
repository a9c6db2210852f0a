/*
 * smtpc_data.c - the message text after 354: line ends made CRLF (RFC
 * 5321 2.3.8: a bare LF or a bare CR is a line end here, since the stored
 * message may use LF), a "." doubled at the start of every line (4.5.2),
 * and the terminating CRLF "." CRLF (4.1.1.4), a CRLF added first when
 * the text does not end with one. Works on pieces of any size: a CR at
 * the end of one piece waits for the next to see whether an LF follows.
 * Lines longer than 998 bytes are sent as they are (breaking them would
 * break the DKIM signature; the signer's side keeps them short).
 */
#include <string.h>

#include "smtp/smtpc_int.h"

void
smtpc_stuff(cp_smtpc_conn *c, const char *p, size_t n)
{
	size_t i = 0, start;

	while (i < n) {
		if (c->cr) {
			/* CR then anything: one line end (CRLF, or bare CR) */
			c->cr = 0;
			smtpc_out(c, "\r\n", 2);
			c->bol = 1;
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		if (c->bol && p[i] == '.')
			smtpc_out(c, ".", 1);
		c->bol = 0;
		start = i;
		while (i < n && p[i] != '\r' && p[i] != '\n')
			i++;
		smtpc_out(c, p + start, i - start);
		if (i == n)
			break;
		if (p[i] == '\n') {
			smtpc_out(c, "\r\n", 2);
			c->bol = 1;
		} else
			c->cr = 1;
		i++;
	}
}

void
smtpc_stuff_end(cp_smtpc_conn *c)
{
	if (c->cr) {
		c->cr = 0;
		smtpc_out(c, "\r\n", 2);
		c->bol = 1;
	}
	if (!c->bol)
		smtpc_out(c, "\r\n", 2);
	smtpc_out(c, ".\r\n", 3);
	c->bol = 1;
}
