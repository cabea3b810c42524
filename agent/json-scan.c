/* Request scanner. Every byte comes from the host side of the channel and is treated as
 * hostile: bounds are checked on each step, recursion is capped, and strings must be UTF-8. */
#include "json-scan.h"
#include "json-write.h"

#include <string.h>

#define MAX_DEPTH 32
#define ID_MAX 9007199254740991ULL

struct scanner {
	const char *p;
	const char *end;
	const char *why;
};

struct decoded {
	char *out; /* NULL when the string is only validated */
	size_t cap;
	size_t len;
	int nul;
};

static int fail(struct scanner *sc, const char *why)
{
	if (!sc->why)
		sc->why = why;
	return -1;
}

static void skip_ws(struct scanner *sc)
{
	while (sc->p < sc->end &&
	       (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_byte(struct decoded *d, unsigned char c)
{
	if (d->out && d->len < d->cap)
		d->out[d->len] = (char)c;
	d->len++;
}

/* Encodes a code point as UTF-8; lone surrogates are kept as JavaScript would read them. */
static void put_code_point(struct decoded *d, unsigned cp)
{
	if (cp == 0)
		d->nul = 1;
	if (cp < 0x80) {
		put_byte(d, (unsigned char)cp);
	} else if (cp < 0x800) {
		put_byte(d, (unsigned char)(0xc0 | (cp >> 6)));
		put_byte(d, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		put_byte(d, (unsigned char)(0xe0 | (cp >> 12)));
		put_byte(d, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		put_byte(d, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

static int scan_escape(struct scanner *sc, struct decoded *d)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (sc->p >= sc->end)
		return fail(sc, "unterminated string");
	char c = *sc->p++;
	if (c != 'u') {
		hit = c ? strchr(from, c) : NULL;
		if (!hit)
			return fail(sc, "invalid escape in string");
		put_byte(d, (unsigned char)to[hit - from]);
		return 0;
	}
	if (sc->end - sc->p < 4)
		return fail(sc, "truncated \\u escape");
	unsigned cp = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex_val(sc->p[i]);
		if (h < 0)
			return fail(sc, "invalid \\u escape");
		cp = (cp << 4) | (unsigned)h;
	}
	sc->p += 4;
	put_code_point(d, cp);
	return 0;
}

static int scan_string(struct scanner *sc, struct decoded *d)
{
	if (sc->p >= sc->end || *sc->p != '"')
		return fail(sc, "expected a string");
	sc->p++;
	while (sc->p < sc->end) {
		unsigned char c = (unsigned char)*sc->p;
		if (c == '"') {
			sc->p++;
			return 0;
		}
		if (c < 0x20)
			return fail(sc, "control character in string");
		if (c == '\\') {
			sc->p++;
			if (scan_escape(sc, d) < 0)
				return -1;
			continue;
		}
		size_t n = utf8_seq_len((const unsigned char *)sc->p, (size_t)(sc->end - sc->p));
		if (n == 0)
			return fail(sc, "invalid UTF-8 in string");
		for (size_t i = 0; i < n; i++)
			put_byte(d, (unsigned char)sc->p[i]);
		sc->p += n;
	}
	return fail(sc, "unterminated string");
}

static size_t scan_digits(struct scanner *sc)
{
	const char *start = sc->p;
	while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
		sc->p++;
	return (size_t)(sc->p - start);
}

/* Validates a number; `is_int` tells whether it had neither fraction nor exponent. */
static int scan_number(struct scanner *sc, int *is_int)
{
	*is_int = 1;
	if (sc->p < sc->end && *sc->p == '-')
		sc->p++;
	const char *first = sc->p;
	size_t n = scan_digits(sc);
	if (n == 0 || (n > 1 && *first == '0'))
		return fail(sc, "invalid number");
	if (sc->p < sc->end && *sc->p == '.') {
		sc->p++;
		*is_int = 0;
		if (scan_digits(sc) == 0)
			return fail(sc, "invalid number");
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		sc->p++;
		*is_int = 0;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sc->p++;
		if (scan_digits(sc) == 0)
			return fail(sc, "invalid number");
	}
	return 0;
}

static int scan_value(struct scanner *sc, int depth);

static int scan_literal(struct scanner *sc, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return fail(sc, "invalid literal");
	sc->p += n;
	return 0;
}

static int scan_array(struct scanner *sc, int depth)
{
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == ']') {
		sc->p++;
		return 0;
	}
	for (;;) {
		if (scan_value(sc, depth + 1) < 0)
			return -1;
		skip_ws(sc);
		if (sc->p >= sc->end)
			return fail(sc, "unterminated array");
		char c = *sc->p++;
		if (c == ']')
			return 0;
		if (c != ',')
			return fail(sc, "expected ',' or ']' in array");
		skip_ws(sc);
	}
}

static int scan_object(struct scanner *sc, int depth)
{
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == '}') {
		sc->p++;
		return 0;
	}
	for (;;) {
		struct decoded key = { 0 };
		if (scan_string(sc, &key) < 0)
			return -1;
		skip_ws(sc);
		if (sc->p >= sc->end || *sc->p++ != ':')
			return fail(sc, "expected ':' in object");
		skip_ws(sc);
		if (scan_value(sc, depth + 1) < 0)
			return -1;
		skip_ws(sc);
		if (sc->p >= sc->end)
			return fail(sc, "unterminated object");
		char c = *sc->p++;
		if (c == '}')
			return 0;
		if (c != ',')
			return fail(sc, "expected ',' or '}' in object");
		skip_ws(sc);
	}
}

static int scan_value(struct scanner *sc, int depth)
{
	int is_int;

	if (depth > MAX_DEPTH)
		return fail(sc, "nesting too deep");
	skip_ws(sc);
	if (sc->p >= sc->end)
		return fail(sc, "expected a value");
	switch (*sc->p) {
	case '{': return scan_object(sc, depth);
	case '[': return scan_array(sc, depth);
	case '"': {
		struct decoded d = { 0 };
		return scan_string(sc, &d);
	}
	case 't': return scan_literal(sc, "true");
	case 'f': return scan_literal(sc, "false");
	case 'n': return scan_literal(sc, "null");
	default: return scan_number(sc, &is_int);
	}
}

/* Parses the integer token [start, end) when it has at most `max_digits` digits. */
static int token_to_int(const char *start, const char *end, size_t max_digits, int64_t *out)
{
	int neg = 0;
	uint64_t v = 0;

	if (start < end && *start == '-') {
		neg = 1;
		start++;
	}
	if (end <= start || (size_t)(end - start) > max_digits)
		return -1;
	for (const char *p = start; p < end; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int scan_id(struct scanner *sc, struct request *req)
{
	const char *start = sc->p;
	int is_int = 0;
	int64_t v;

	req->has_id = 1;
	if (sc->p >= sc->end || (*sc->p != '-' && (*sc->p < '0' || *sc->p > '9')))
		return scan_value(sc, 1);
	if (scan_number(sc, &is_int) < 0)
		return -1;
	if (is_int && token_to_int(start, sc->p, 16, &v) == 0 && v >= 0 && (uint64_t)v <= ID_MAX) {
		req->id_ok = 1;
		req->id = (uint64_t)v;
	}
	return 0;
}

static int scan_version(struct scanner *sc, struct request *req)
{
	const char *start = sc->p;
	int is_int = 0;
	int64_t v;

	req->has_v = 1;
	if (sc->p >= sc->end || (*sc->p != '-' && (*sc->p < '0' || *sc->p > '9')))
		return scan_value(sc, 1);
	if (scan_number(sc, &is_int) < 0)
		return -1;
	if (is_int && token_to_int(start, sc->p, 9, &v) == 0) {
		req->v_is_int = 1;
		req->v = (long)v;
	}
	return 0;
}

static int scan_method(struct scanner *sc, struct request *req)
{
	req->has_method = 1;
	if (sc->p >= sc->end || *sc->p != '"')
		return scan_value(sc, 1);
	struct decoded d = { req->method, REQ_METHOD_MAX, 0, 0 };
	if (scan_string(sc, &d) < 0)
		return -1;
	req->method_is_string = 1;
	req->method_nul = d.nul;
	req->method_len = d.len < REQ_METHOD_MAX ? d.len : REQ_METHOD_MAX;
	req->method[req->method_len] = '\0';
	return 0;
}

static int is_key(const struct decoded *k, const char *name)
{
	size_t n = strlen(name);
	return k->len == n && memcmp(k->out, name, n) == 0;
}

/* One `"key": value` member of the request object. */
static int scan_member(struct scanner *sc, struct request *req)
{
	char keybuf[16];
	struct decoded key = { keybuf, sizeof keybuf, 0, 0 };

	if (scan_string(sc, &key) < 0)
		return -1;
	skip_ws(sc);
	if (sc->p >= sc->end || *sc->p++ != ':')
		return fail(sc, "expected ':' in object");
	skip_ws(sc);
	if (is_key(&key, "v"))
		return req->has_v ? fail(sc, "duplicate key \"v\"") : scan_version(sc, req);
	if (is_key(&key, "id"))
		return req->has_id ? fail(sc, "duplicate key \"id\"") : scan_id(sc, req);
	if (is_key(&key, "method"))
		return req->has_method ? fail(sc, "duplicate key \"method\"")
				       : scan_method(sc, req);
	return scan_value(sc, 1);
}

int scan_request(const char *line, size_t len, struct request *req, const char **why)
{
	struct scanner sc = { line, line + len, NULL };

	memset(req, 0, sizeof *req);
	skip_ws(&sc);
	if (sc.p >= sc.end || *sc.p != '{') {
		*why = "request is not a JSON object";
		return -1;
	}
	sc.p++;
	skip_ws(&sc);
	if (sc.p < sc.end && *sc.p == '}') {
		sc.p++;
	} else {
		for (;;) {
			if (scan_member(&sc, req) < 0)
				goto bad;
			skip_ws(&sc);
			if (sc.p >= sc.end) {
				fail(&sc, "unterminated object");
				goto bad;
			}
			char c = *sc.p++;
			if (c == '}')
				break;
			if (c != ',') {
				fail(&sc, "expected ',' or '}' in object");
				goto bad;
			}
			skip_ws(&sc);
		}
	}
	skip_ws(&sc);
	if (sc.p != sc.end) {
		fail(&sc, "trailing bytes after the request object");
		goto bad;
	}
	return 0;
bad:
	*why = sc.why ? sc.why : "malformed JSON";
	return -1;
}
