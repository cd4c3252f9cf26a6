/*
 * msg.c: a database's message cut to the one line racelab prints, and a server's
 * name as racelab prints it; see msg.h.
 */
#include "msg.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void msg_first_line(char *out, size_t n, const char *prefix, const char *msg)
{
	const char *p;
	size_t len;

	if (!msg || !*msg)
		msg = "unknown error";
	if (!strncmp(msg, "connection to server ", 21) && (p = strstr(msg, " failed: ")))
		msg = p + 9;
	while (isspace((unsigned char)*msg))
		msg++;
	if (!strncmp(msg, "FATAL:", 6) || !strncmp(msg, "ERROR:", 6))
		msg += 6;
	while (isspace((unsigned char)*msg))
		msg++;
	len = strcspn(msg, "\r\n");
	while (len > 0 && isspace((unsigned char)msg[len - 1]))
		len--;
	snprintf(out, n, "%s%.*s", prefix, (int)len, msg);
}

void msg_add_field(char *out, size_t n, const char *name, const char *value)
{
	size_t len = strlen(out);

	if (!value || !*value || len >= n)
		return;
	snprintf(out + len, n - len, strpbrk(value, " '\\") ? "%s%s='%s'" : "%s%s=%s",
	         len ? " " : "", name, value);
}
