/* Growable output buffer and a JSON writer that escapes every string it emits. */
#ifndef BANGER_JSON_WRITE_H
#define BANGER_JSON_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct jbuf {
	char *data;
	size_t len;
	size_t cap;
	int failed; /* set once an allocation failed; later writes are dropped */
};

void jb_init(struct jbuf *b);
void jb_free(struct jbuf *b);
void jb_reset(struct jbuf *b);
void jb_raw(struct jbuf *b, const char *s);
void jb_mem(struct jbuf *b, const char *s, size_t n);
/* A JSON string literal; invalid UTF-8 bytes become U+FFFD. */
void jb_str(struct jbuf *b, const char *s, size_t n);
void jb_cstr(struct jbuf *b, const char *s);
void jb_u64(struct jbuf *b, uint64_t v);
void jb_i64(struct jbuf *b, int64_t v);
/* A finite number with two decimals; non-finite values become 0. */
void jb_fixed2(struct jbuf *b, double v);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid or truncated. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* `"key":` with the key escaped. */
void jb_key(struct jbuf *b, const char *key);

#endif
