/* A small, strict JSON scanner for one request line: it validates the whole line and keeps only
 * the fields the agent needs (v, id, method). */
#ifndef BANGER_JSON_SCAN_H
#define BANGER_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define REQ_METHOD_MAX 64

struct request {
	int has_v;
	int v_is_int; /* v is an integer that fits in a long */
	long v;
	int has_id;
	int id_ok; /* id is an integer in 0..2^53-1, the range JSON peers agree on */
	uint64_t id;
	int has_method;
	int method_is_string;
	int method_nul; /* the decoded method contains U+0000 */
	size_t method_len;
	char method[REQ_METHOD_MAX + 1]; /* decoded, truncated to REQ_METHOD_MAX bytes */
};

/* Scans `len` bytes as one JSON object. Returns 0 and fills `req`, or -1 and points `why` at a
 * static reason. Never reads past `line + len`; nesting deeper than 32 levels is refused. */
int scan_request(const char *line, size_t len, struct request *req, const char **why);

#endif
