/* JSON output: strings from the guest (process names, unit names) are hostile, so every byte
 * that is not printable ASCII or part of a valid UTF-8 sequence is escaped or replaced. */
#include "json-write.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jb_init(struct jbuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

void jb_free(struct jbuf *b)
{
	free(b->data);
	jb_init(b);
}

void jb_reset(struct jbuf *b)
{
	b->len = 0;
	b->failed = 0;
}

static int jb_reserve(struct jbuf *b, size_t extra)
{
	if (b->failed)
		return -1;
	if (b->len + extra <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + extra)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void jb_mem(struct jbuf *b, const char *s, size_t n)
{
	if (jb_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void jb_raw(struct jbuf *b, const char *s)
{
	jb_mem(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid or truncated. */
size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff)
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	return len;
}

static void jb_escape_byte(struct jbuf *b, unsigned char c)
{
	char tmp[8];

	switch (c) {
	case '"': jb_raw(b, "\\\""); return;
	case '\\': jb_raw(b, "\\\\"); return;
	case '\n': jb_raw(b, "\\n"); return;
	case '\r': jb_raw(b, "\\r"); return;
	case '\t': jb_raw(b, "\\t"); return;
	default:
		snprintf(tmp, sizeof tmp, "\\u%04x", c);
		jb_raw(b, tmp);
	}
}

void jb_str(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	jb_mem(b, "\"", 1);
	while (i < n) {
		unsigned char c = u[i];
		if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
			jb_escape_byte(b, c);
			i++;
			continue;
		}
		size_t len = utf8_seq_len(u + i, n - i);
		if (len == 0) {
			jb_raw(b, "\\ufffd");
			i++;
			continue;
		}
		jb_mem(b, s + i, len);
		i += len;
	}
	jb_mem(b, "\"", 1);
}

void jb_cstr(struct jbuf *b, const char *s)
{
	jb_str(b, s, strlen(s));
}

void jb_u64(struct jbuf *b, uint64_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof tmp, "%" PRIu64, v);
	jb_raw(b, tmp);
}

void jb_i64(struct jbuf *b, int64_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof tmp, "%" PRId64, v);
	jb_raw(b, tmp);
}

void jb_fixed2(struct jbuf *b, double v)
{
	char tmp[48];
	if (!isfinite(v) || v > 1e15 || v < -1e15)
		v = 0;
	snprintf(tmp, sizeof tmp, "%.2f", v);
	jb_raw(b, tmp);
}

void jb_key(struct jbuf *b, const char *key)
{
	jb_cstr(b, key);
	jb_mem(b, ":", 1);
}
