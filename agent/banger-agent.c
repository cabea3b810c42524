/* banger-agent: answers the host's newline-delimited JSON requests over a virtio-serial port
 * (or stdin/stdout for tests). One request at a time; see README.md for the protocol. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json-scan.h"
#include "json-write.h"
#include "methods.h"

#define DEFAULT_PORT "/dev/virtio-ports/org.banger.agent"
#define MAX_LINE 65536
#define REOPEN_DELAY_S 1
/* A virtio port reads EOF at once while no host is connected. The kernel raises SIGIO on an
 * O_ASYNC port when the host connects; the timeout only bounds a missed signal. */
#define HOST_ABSENT_WAIT_S 1

struct channel {
	int in_fd;
	int out_fd;
	int stdio; /* test mode: poweroff only replies */
	int have_id;
	uint64_t id;
};

static char line[MAX_LINE];
static size_t line_len;
static int discarding;
static struct jbuf reply;
static struct jbuf result;

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void begin_reply(struct channel *ch, int ok)
{
	jb_reset(&reply);
	jb_raw(&reply, "{\"v\":1,\"id\":");
	if (ch->have_id)
		jb_u64(&reply, ch->id);
	else
		jb_raw(&reply, "null");
	jb_raw(&reply, ok ? ",\"ok\":true," : ",\"ok\":false,");
}

static int end_reply(struct channel *ch)
{
	jb_raw(&reply, "}\n");
	if (reply.failed) {
		static const char oom[] =
			"{\"v\":1,\"id\":null,\"ok\":false,\"error\":"
			"{\"code\":\"internal\",\"message\":\"out of memory\"}}\n";
		return write_all(ch->out_fd, oom, sizeof oom - 1);
	}
	return write_all(ch->out_fd, reply.data, reply.len);
}

__attribute__((format(printf, 3, 4))) static int send_error(struct channel *ch, const char *code,
							    const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	begin_reply(ch, 0);
	jb_raw(&reply, "\"error\":{\"code\":");
	jb_cstr(&reply, code);
	jb_raw(&reply, ",\"message\":");
	jb_cstr(&reply, message);
	jb_raw(&reply, "}");
	return end_reply(ch);
}

static int send_result(struct channel *ch)
{
	begin_reply(ch, 1);
	jb_raw(&reply, "\"result\":");
	jb_mem(&reply, result.data, result.len);
	if (result.failed)
		reply.failed = 1;
	return end_reply(ch);
}

static int run_method(struct channel *ch, int (*method)(struct jbuf *, struct method_error *))
{
	struct method_error err = { "internal", "" };

	jb_reset(&result);
	if (method(&result, &err) < 0)
		return send_error(ch, err.code, "%s", err.message);
	return send_result(ch);
}

static int poweroff(struct channel *ch)
{
	jb_reset(&result);
	jb_raw(&result, "{}");
	if (send_result(ch) < 0)
		return -1;
	if (ch->stdio) {
		fprintf(stderr, "banger-agent: --stdio: not powering off\n");
		return 0;
	}
	power_off();
	return 0;
}

static int dispatch(struct channel *ch, const struct request *req)
{
	const char *m = req->method;

	if (strcmp(m, "health") == 0)
		return run_method(ch, method_health);
	if (strcmp(m, "ports") == 0)
		return run_method(ch, method_ports);
	if (strcmp(m, "stats") == 0)
		return run_method(ch, method_stats);
	if (strcmp(m, "poweroff") == 0)
		return poweroff(ch);
	return send_error(ch, "bad_request", "unknown method \"%s\"", m);
}

static int handle_line(struct channel *ch, const char *text, size_t len)
{
	struct request req;
	const char *why = NULL;

	ch->have_id = 0;
	if (memchr(text, '\0', len))
		return send_error(ch, "bad_request", "request contains a NUL byte");
	if (scan_request(text, len, &req, &why) < 0)
		return send_error(ch, "bad_request", "request is not valid JSON: %s", why);
	ch->have_id = req.id_ok;
	ch->id = req.id;
	if (req.v_is_int && req.v != PROTOCOL_VERSION)
		return send_error(ch, "version_mismatch",
				  "request uses protocol version %ld; this agent speaks version %d",
				  req.v, PROTOCOL_VERSION);
	if (!req.id_ok)
		return send_error(ch, "bad_request", "\"id\" must be an integer from 0 to 2^53-1");
	if (!req.v_is_int)
		return send_error(ch, "bad_request", "\"v\" must be an integer");
	if (!req.method_is_string)
		return send_error(ch, "bad_request", "\"method\" must be a string");
	if (req.method_nul)
		return send_error(ch, "bad_request", "\"method\" contains a NUL character");
	return dispatch(ch, &req);
}

/* Splits input into lines, refusing any longer than MAX_LINE once and skipping its rest. */
static int feed(struct channel *ch, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c == '\n') {
			int r = discarding ? 0 : handle_line(ch, line, line_len);
			discarding = 0;
			line_len = 0;
			if (r < 0)
				return -1;
		} else if (discarding) {
			continue;
		} else if (line_len == MAX_LINE) {
			discarding = 1;
			line_len = 0;
			ch->have_id = 0;
			if (send_error(ch, "too_large", "request line is longer than %d bytes",
				       MAX_LINE) < 0)
				return -1;
		} else {
			line[line_len++] = c;
		}
	}
	return 0;
}

/* Serves until EOF (returns 0) or a read or write error (returns -1). */
static int serve(struct channel *ch)
{
	char buf[8192];

	for (;;) {
		ssize_t n = read(ch->in_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (feed(ch, buf, (size_t)n) < 0)
			return -1;
	}
}

static int serve_stdio(void)
{
	struct channel ch = { 0, 1, 1, 0, 0 };

	if (serve(&ch) < 0)
		return 1;
	/* A last line without its newline is still a request. */
	if (line_len > 0 && !discarding && handle_line(&ch, line, line_len) < 0)
		return 1;
	return 0;
}

static int open_port(const char *path)
{
	int warned = 0;

	for (;;) {
		int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (!warned)
			fprintf(stderr, "banger-agent: waiting for \"%s\": %s\n", path,
				strerror(errno));
		warned = 1;
		sleep(REOPEN_DELAY_S);
	}
}

/* SIGIO stays blocked so it is only ever taken by sigtimedwait, never lost between calls. */
static void watch_host(int fd)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (fcntl(fd, F_SETOWN, getpid()) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) < 0)
		fprintf(stderr, "banger-agent: cannot watch host connections: %s\n",
			strerror(errno));
}

static void wait_for_host(void)
{
	sigset_t set;
	struct timespec ts = { HOST_ABSENT_WAIT_S, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigtimedwait(&set, NULL, &ts);
}

static __attribute__((noreturn)) void serve_port(const char *path)
{
	for (;;) {
		int fd = open_port(path);
		struct channel ch = { fd, fd, 0, 0, 0 };
		watch_host(fd);
		fprintf(stderr, "banger-agent: serving on \"%s\"\n", path);
		/* EOF means the host went away; a half-read line from it is meaningless. */
		while (serve(&ch) == 0) {
			line_len = 0;
			discarding = 0;
			wait_for_host();
		}
		fprintf(stderr, "banger-agent: \"%s\": %s; reopening\n", path, strerror(errno));
		line_len = 0;
		discarding = 0;
		close(fd);
		sleep(REOPEN_DELAY_S);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: banger-agent [--port PATH] | --stdio | --version\n");
}

int main(int argc, char **argv)
{
	const char *port = DEFAULT_PORT;
	int stdio = 0;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stdio") == 0) {
			stdio = 1;
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			port = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("banger-agent %s (protocol %d)\n", AGENT_VERSION, PROTOCOL_VERSION);
			return 0;
		} else {
			usage(strcmp(argv[i], "--help") == 0 ? stdout : stderr);
			return strcmp(argv[i], "--help") == 0 ? 0 : 2;
		}
	}
	jb_init(&reply);
	jb_init(&result);
	if (stdio)
		return serve_stdio();
	serve_port(port);
}
