/* The agent's methods and the small system helpers they share. Each method writes its JSON
 * result object into `out`, or fills `err` and returns -1. */
#ifndef BANGER_METHODS_H
#define BANGER_METHODS_H

#include <stddef.h>
#include <sys/types.h>

#include "json-write.h"

#define PROTOCOL_VERSION 1
#define AGENT_VERSION "0.1.0"

struct method_error {
	const char *code;
	char message[256];
};

int method_health(struct jbuf *out, struct method_error *err);
int method_ports(struct jbuf *out, struct method_error *err);
int method_stats(struct jbuf *out, struct method_error *err);

/* sync(), then `systemctl poweroff`, else reboot(RB_POWER_OFF). Returns only when systemd
 * accepted the job (it will stop the agent soon) or every way failed. */
void power_off(void);

/* Reads at most cap-1 bytes of a small file (/proc, /sys) and NUL-terminates them.
 * Returns the length, or -1 with errno set. */
ssize_t read_small_file(const char *path, char *buf, size_t cap);

/* Runs argv[0] (an absolute path) without a shell, stdin and stderr on /dev/null, and keeps at
 * most cap-1 bytes of its stdout, NUL-terminated. Kills it after `timeout_ms`. Returns its
 * exit status (0..255), or -1 when it could not run, was killed or timed out. */
int spawn_capture(const char *const argv[], char *out, size_t cap, int timeout_ms);

/* The first of /usr/bin/systemctl and /bin/systemctl that exists, or NULL. */
const char *systemctl_path(void);

#endif
