/* `health`: who is answering (protocol and agent version), which boot this is, and what systemd
 * thinks of the system. systemd is optional: images without it report `"systemd":null`. */
#include "methods.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYSTEMCTL_TIMEOUT_MS 700
#define MAX_FAILED_UNITS 256

static size_t trimmed_len(const char *s, size_t n)
{
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) && s[n - 1] != '\0')
		n--;
	return n;
}

static void write_boot_id(struct jbuf *out)
{
	char buf[128];
	ssize_t n = read_small_file("/proc/sys/kernel/random/boot_id", buf, sizeof buf);

	jb_key(out, "bootId");
	if (n < 0)
		jb_raw(out, "null");
	else
		jb_str(out, buf, trimmed_len(buf, (size_t)n));
}

static void write_uptime(struct jbuf *out)
{
	char buf[128];

	jb_key(out, "uptimeSeconds");
	if (read_small_file("/proc/uptime", buf, sizeof buf) < 0)
		jb_raw(out, "null");
	else
		jb_fixed2(out, strtod(buf, NULL));
}

static void write_state(struct jbuf *out, const char *systemctl)
{
	const char *argv[] = { systemctl, "is-system-running", NULL };
	char buf[256];

	/* is-system-running exits non-zero for every state but "running": the word counts. */
	spawn_capture(argv, buf, sizeof buf, SYSTEMCTL_TIMEOUT_MS);
	size_t n = strcspn(buf, "\n");
	jb_key(out, "state");
	if (n == 0)
		jb_raw(out, "\"unknown\"");
	else
		jb_str(out, buf, trimmed_len(buf, n));
}

/* The first word of each line of `systemctl list-units --plain --no-legend`. */
static void write_failed_units(struct jbuf *out, const char *systemctl)
{
	const char *argv[] = { systemctl, "list-units", "--state=failed", "--plain", "--no-legend",
			       "--no-pager", NULL };
	static char buf[32768];
	int count = 0;

	jb_key(out, "failedUnits");
	if (spawn_capture(argv, buf, sizeof buf, SYSTEMCTL_TIMEOUT_MS) != 0) {
		jb_raw(out, "null");
		return;
	}
	jb_raw(out, "[");
	for (char *line = buf; *line && count < MAX_FAILED_UNITS;) {
		char *next = line + strcspn(line, "\n");
		char *word = line + strspn(line, " \t");
		size_t n = strcspn(word, " \t\n");
		if (n > 0 && word < next) {
			if (count++ > 0)
				jb_raw(out, ",");
			jb_str(out, word, n);
		}
		line = *next ? next + 1 : next;
	}
	jb_raw(out, "]");
}

static void write_systemd(struct jbuf *out)
{
	const char *systemctl = systemctl_path();

	jb_key(out, "systemd");
	/* The same test as sd_booted(3): this directory exists only when systemd is PID 1. */
	if (!systemctl || access("/run/systemd/system", F_OK) != 0) {
		jb_raw(out, "null");
		return;
	}
	jb_raw(out, "{");
	write_state(out, systemctl);
	jb_raw(out, ",");
	write_failed_units(out, systemctl);
	jb_raw(out, "}");
}

int method_health(struct jbuf *out, struct method_error *err)
{
	(void)err;
	jb_raw(out, "{");
	jb_key(out, "protocol");
	jb_u64(out, PROTOCOL_VERSION);
	jb_raw(out, ",");
	jb_key(out, "agentVersion");
	jb_cstr(out, AGENT_VERSION);
	jb_raw(out, ",");
	write_boot_id(out);
	jb_raw(out, ",");
	write_uptime(out);
	jb_raw(out, ",");
	write_systemd(out);
	jb_raw(out, "}");
	return 0;
}
