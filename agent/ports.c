/* `ports`: listening TCP and bound (unconnected) UDP sockets from /proc/net, each with the first
 * process found holding it. The kernel's tables are trusted for format only: every field is
 * parsed with bounds, and process names are escaped on output. */
#include "methods.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SOCKETS 4096
#define TCP_LISTEN 0x0a
#define UDP_UNCONNECTED 0x07

struct sock {
	const char *protocol;
	const char *family;
	char address[INET6_ADDRSTRLEN];
	unsigned port;
	unsigned uid;
	unsigned long inode;
	long pid; /* 0 until a process is found */
	char comm[32];
};

struct table {
	const char *path;
	const char *protocol;
	const char *family;
	unsigned wanted_state;
};

static const struct table tables[] = {
	{ "/proc/net/tcp", "tcp", "ipv4", TCP_LISTEN },
	{ "/proc/net/tcp6", "tcp", "ipv6", TCP_LISTEN },
	{ "/proc/net/udp", "udp", "ipv4", UDP_UNCONNECTED },
	{ "/proc/net/udp6", "udp", "ipv6", UDP_UNCONNECTED },
};

/* /proc/net prints each 32-bit word of the address in host byte order, so copying the parsed
 * words back into memory restores the network-order bytes. */
static int decode_address(const char *hex, const char *family, char *out)
{
	size_t len = strlen(hex);
	unsigned char bytes[16];
	size_t words = len / 8;

	if ((len != 8 && len != 32) || (len == 8) != (strcmp(family, "ipv4") == 0))
		return -1;
	for (size_t i = 0; i < words; i++) {
		char word[9];
		memcpy(word, hex + i * 8, 8);
		word[8] = '\0';
		uint32_t v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(bytes + i * 4, &v, 4);
	}
	int af = words == 1 ? AF_INET : AF_INET6;
	return inet_ntop(af, bytes, out, INET6_ADDRSTRLEN) ? 0 : -1;
}

static int parse_line(const char *line, const struct table *t, struct sock *s)
{
	char local[65], remote[65];
	unsigned lport, rport, state, uid;
	unsigned long inode;

	/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
	int n = sscanf(line,
		       " %*u: %64[0-9A-Fa-f]:%x %64[0-9A-Fa-f]:%x %x"
		       " %*x:%*x %*x:%*x %*x %u %*d %lu",
		       local, &lport, remote, &rport, &state, &uid, &inode);
	if (n != 7 || state != t->wanted_state || lport > 65535)
		return -1;
	memset(s, 0, sizeof *s);
	if (decode_address(local, t->family, s->address) < 0)
		return -1;
	s->protocol = t->protocol;
	s->family = t->family;
	s->port = lport;
	s->uid = uid;
	s->inode = inode;
	return 0;
}

static void read_table(const struct table *t, struct sock *socks, size_t *count)
{
	char line[512];
	FILE *f = fopen(t->path, "re");

	if (!f)
		return;
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return;
	}
	while (*count < MAX_SOCKETS && fgets(line, sizeof line, f))
		if (parse_line(line, t, &socks[*count]) == 0)
			(*count)++;
	fclose(f);
}

static int by_inode(const void *a, const void *b)
{
	const struct sock *x = a, *y = b;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

static int is_pid_name(const char *name)
{
	if (!*name)
		return 0;
	for (; *name; name++)
		if (!isdigit((unsigned char)*name))
			return 0;
	return 1;
}

static void read_comm(long pid, char *out, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/comm", pid);
	ssize_t n = read_small_file(path, out, cap);
	if (n < 0) {
		out[0] = '\0';
		return;
	}
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

/* Marks each socket held by `pid`; returns how many were newly matched. */
static size_t match_process(long pid, struct sock *socks, size_t count)
{
	char dir_path[64], link_path[320], target[64];
	size_t matched = 0;

	snprintf(dir_path, sizeof dir_path, "/proc/%ld/fd", pid);
	DIR *dir = opendir(dir_path);
	if (!dir)
		return 0;
	for (struct dirent *e; (e = readdir(dir)) != NULL;) {
		snprintf(link_path, sizeof link_path, "%s/%s", dir_path, e->d_name);
		ssize_t n = readlink(link_path, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		unsigned long inode;
		char end;
		if (sscanf(target, "socket:[%lu%c", &inode, &end) != 2 || end != ']')
			continue;
		struct sock key = { .inode = inode };
		struct sock *hit = bsearch(&key, socks, count, sizeof *socks, by_inode);
		/* Several sockets may share an inode only across tables; mark every neighbour. */
		while (hit && hit > socks && hit[-1].inode == inode)
			hit--;
		for (; hit && hit < socks + count && hit->inode == inode; hit++) {
			if (hit->pid != 0)
				continue;
			hit->pid = pid;
			read_comm(pid, hit->comm, sizeof hit->comm);
			matched++;
		}
	}
	closedir(dir);
	return matched;
}

static void find_owners(struct sock *socks, size_t count)
{
	size_t unmatched = count;
	DIR *proc = opendir("/proc");

	if (!proc)
		return;
	for (struct dirent *e; unmatched > 0 && (e = readdir(proc)) != NULL;) {
		if (!is_pid_name(e->d_name) || strlen(e->d_name) > 10)
			continue;
		size_t m = match_process(strtol(e->d_name, NULL, 10), socks, count);
		unmatched = m > unmatched ? 0 : unmatched - m;
	}
	closedir(proc);
}

static void write_sock(struct jbuf *out, const struct sock *s)
{
	jb_raw(out, "{\"protocol\":");
	jb_cstr(out, s->protocol);
	jb_raw(out, ",\"family\":");
	jb_cstr(out, s->family);
	jb_raw(out, ",\"address\":");
	jb_cstr(out, s->address);
	jb_raw(out, ",\"port\":");
	jb_u64(out, s->port);
	jb_raw(out, ",\"uid\":");
	jb_u64(out, s->uid);
	jb_raw(out, ",\"inode\":");
	jb_u64(out, s->inode);
	jb_raw(out, ",\"pid\":");
	if (s->pid > 0)
		jb_i64(out, s->pid);
	else
		jb_raw(out, "null");
	jb_raw(out, ",\"process\":");
	if (s->pid > 0)
		jb_cstr(out, s->comm);
	else
		jb_raw(out, "null");
	jb_raw(out, "}");
}

int method_ports(struct jbuf *out, struct method_error *err)
{
	struct sock *socks = calloc(MAX_SOCKETS, sizeof *socks);
	size_t count = 0;

	if (!socks) {
		err->code = "internal";
		snprintf(err->message, sizeof err->message, "cannot list ports: out of memory");
		return -1;
	}
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		read_table(&tables[i], socks, &count);
	qsort(socks, count, sizeof *socks, by_inode);
	find_owners(socks, count);

	jb_raw(out, "{\"ports\":[");
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			jb_raw(out, ",");
		write_sock(out, &socks[i]);
	}
	jb_raw(out, "]}");
	free(socks);
	return 0;
}
