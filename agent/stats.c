/* `stats`: memory, load, CPUs and the space left on the root and work disks. */
#include "methods.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The value in bytes of a `Name:   123 kB` line of /proc/meminfo, or -1 when absent. */
static int64_t meminfo_bytes(const char *meminfo, const char *name)
{
	size_t n = strlen(name);
	unsigned long long kib;

	for (const char *line = meminfo; *line;) {
		if (strncmp(line, name, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, " %llu", &kib) == 1 && kib < (1ULL << 50))
			return (int64_t)kib * 1024;
		const char *next = strchr(line, '\n');
		if (!next)
			break;
		line = next + 1;
	}
	return -1;
}

static void write_bytes_or_null(struct jbuf *out, int64_t v)
{
	if (v < 0)
		jb_raw(out, "null");
	else
		jb_i64(out, v);
}

static void write_memory(struct jbuf *out)
{
	static char buf[16384];
	if (read_small_file("/proc/meminfo", buf, sizeof buf) < 0)
		buf[0] = '\0';
	jb_raw(out, "\"memory\":{\"totalBytes\":");
	write_bytes_or_null(out, meminfo_bytes(buf, "MemTotal"));
	jb_raw(out, ",\"availableBytes\":");
	write_bytes_or_null(out, meminfo_bytes(buf, "MemAvailable"));
	jb_raw(out, "}");
}

static void write_load(struct jbuf *out)
{
	char buf[256];
	double l1, l5, l15;

	jb_raw(out, "\"loadAverage\":");
	if (read_small_file("/proc/loadavg", buf, sizeof buf) < 0 ||
	    sscanf(buf, "%lf %lf %lf", &l1, &l5, &l15) != 3) {
		jb_raw(out, "null");
		return;
	}
	jb_raw(out, "[");
	jb_fixed2(out, l1);
	jb_raw(out, ",");
	jb_fixed2(out, l5);
	jb_raw(out, ",");
	jb_fixed2(out, l15);
	jb_raw(out, "]");
}

/* Free space is what an unprivileged user may still write (f_bavail), as df reports it. */
static int write_filesystem(struct jbuf *out, const char *path, int first)
{
	struct statvfs st;

	if (statvfs(path, &st) < 0)
		return 0;
	uint64_t unit = st.f_frsize ? st.f_frsize : st.f_bsize;
	if (!first)
		jb_raw(out, ",");
	jb_raw(out, "{\"path\":");
	jb_cstr(out, path);
	jb_raw(out, ",\"totalBytes\":");
	jb_u64(out, (uint64_t)st.f_blocks * unit);
	jb_raw(out, ",\"usedBytes\":");
	jb_u64(out, (uint64_t)(st.f_blocks - st.f_bfree) * unit);
	jb_raw(out, ",\"freeBytes\":");
	jb_u64(out, (uint64_t)st.f_bavail * unit);
	jb_raw(out, "}");
	return 1;
}

int method_stats(struct jbuf *out, struct method_error *err)
{
	(void)err;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	jb_raw(out, "{");
	write_memory(out);
	jb_raw(out, ",");
	write_load(out);
	jb_raw(out, ",\"cpuCount\":");
	jb_i64(out, cpus > 0 ? cpus : 1);
	jb_raw(out, ",\"filesystems\":[");
	int written = write_filesystem(out, "/", 1);
	write_filesystem(out, "/root", written == 0);
	jb_raw(out, "]}");
	return 0;
}
