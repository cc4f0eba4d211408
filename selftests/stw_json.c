// SPDX-License-Identifier: GPL-2.0
/*
 * stw_json: a recursive-descent JSON reader (RFC 8259, numbers as doubles,
 * \u escapes kept as '?' outside ASCII: enough to check key names and
 * types).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stw_json.h"

#define MAX_DEPTH	32

struct reader {
	const char *start, *p;
	char *err;
	size_t len;
	bool failed;
};

static void fail(struct reader *r, const char *what)
{
	if (!r->failed)
		snprintf(r->err, r->len, "%s at offset %td", what,
			 r->p - r->start);
	r->failed = true;
}

static void blanks(struct reader *r)
{
	while (*r->p && isspace((unsigned char)*r->p))
		r->p++;
}

static bool take(struct reader *r, char c)
{
	blanks(r);
	if (*r->p != c)
		return false;
	r->p++;
	return true;
}

/* The character an escape stands for, 0 if it is not one. */
static char unescape(char c)
{
	switch (c) {
	case '"': case '\\': case '/':	return c;
	case 'b':			return '\b';
	case 'f':			return '\f';
	case 'n':			return '\n';
	case 'r':			return '\r';
	case 't':			return '\t';
	}
	return 0;
}

/* \uXXXX: the character if ASCII, else '?'; 0 if malformed. */
static char unicode(struct reader *r)
{
	char hex[5] = { 0 };
	long c;

	if (strspn(r->p, "0123456789abcdefABCDEF") < 4)
		return 0;
	memcpy(hex, r->p, 4);
	r->p += 4;
	c = strtol(hex, NULL, 16);
	return c > 0 && c < 0x80 ? (char)c : '?';
}

static char *string(struct reader *r)
{
	size_t n = 0, cap = 16;
	char *s = malloc(cap), c;

	if (!s || *r->p++ != '"')
		goto err;
	while ((c = *r->p++) != '"') {
		if (!c || (unsigned char)c < 0x20)
			goto err;
		if (c == '\\') {
			c = *r->p++;
			c = c == 'u' ? unicode(r) : unescape(c);
			if (!c)
				goto err;
		}
		if (n + 1 >= cap) {
			char *t = realloc(s, cap *= 2);

			if (!t)
				goto err;
			s = t;
		}
		s[n++] = c;
	}
	s[n] = '\0';
	return s;
err:
	free(s);
	fail(r, "bad string");
	return NULL;
}

static bool value(struct reader *r, struct stw_json *v, int depth);

/* Appends a value (and for an object its key) to @v. */
static struct stw_json *grow(struct stw_json *v)
{
	struct stw_json *items = realloc(v->items, (v->n + 1) * sizeof(*items));
	char **keys;

	if (!items)
		return NULL;
	v->items = items;
	if (v->type == STW_JSON_OBJECT) {
		keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));
		if (!keys)
			return NULL;
		v->keys = keys;
		v->keys[v->n] = NULL;
	}
	memset(&v->items[v->n], 0, sizeof(*items));
	return &v->items[v->n++];
}

static bool members(struct reader *r, struct stw_json *v, char close,
		    int depth)
{
	struct stw_json *item;

	if (take(r, close))
		return true;
	do {
		item = grow(v);
		if (!item) {
			fail(r, "out of memory");
			return false;
		}
		if (v->type == STW_JSON_OBJECT) {
			blanks(r);
			v->keys[v->n - 1] = string(r);
			if (!v->keys[v->n - 1] || !take(r, ':')) {
				fail(r, "bad key");
				return false;
			}
		}
		if (!value(r, item, depth + 1))
			return false;
	} while (take(r, ','));
	if (!take(r, close)) {
		fail(r, close == '}' ? "expected , or }" : "expected , or ]");
		return false;
	}
	return true;
}

static bool literal(struct reader *r, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(r->p, word, n)) {
		fail(r, "bad literal");
		return false;
	}
	r->p += n;
	return true;
}

static bool value(struct reader *r, struct stw_json *v, int depth)
{
	char *end;

	blanks(r);
	if (depth > MAX_DEPTH) {
		fail(r, "too deep");
		return false;
	}
	switch (*r->p) {
	case '{':
	case '[':
		v->type = *r->p == '{' ? STW_JSON_OBJECT : STW_JSON_ARRAY;
		r->p++;
		return members(r, v, v->type == STW_JSON_OBJECT ? '}' : ']',
			       depth);
	case '"':
		v->type = STW_JSON_STRING;
		v->str = string(r);
		return v->str;
	case 't':
		v->type = STW_JSON_BOOL;
		v->b = true;
		return literal(r, "true");
	case 'f':
		v->type = STW_JSON_BOOL;
		return literal(r, "false");
	case 'n':
		v->type = STW_JSON_NULL;
		return literal(r, "null");
	}
	v->type = STW_JSON_NUMBER;
	v->num = strtod(r->p, &end);
	if (end == r->p || !(isdigit((unsigned char)*r->p) || *r->p == '-')) {
		fail(r, "unexpected character");
		return false;
	}
	r->p = end;
	return true;
}

static void release(struct stw_json *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		release(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

struct stw_json *stw_json_parse(const char **p, char *err, size_t len)
{
	struct reader r = { .start = *p, .p = *p, .err = err, .len = len };
	struct stw_json *v = calloc(1, sizeof(*v));

	if (!v) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	if (!value(&r, v, 0)) {
		stw_json_free(v);
		return NULL;
	}
	blanks(&r);
	*p = r.p;
	return v;
}

void stw_json_free(struct stw_json *v)
{
	if (!v)
		return;
	release(v);
	free(v);
}

const struct stw_json *stw_json_get(const struct stw_json *v,
				    const char *key)
{
	size_t i;

	if (v->type != STW_JSON_OBJECT)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (v->keys[i] && !strcmp(v->keys[i], key))
			return &v->items[i];
	return NULL;
}

const char *stw_json_type_name(enum stw_json_type t)
{
	static const char *const names[] = {
		"null", "bool", "number", "string", "array", "object",
	};

	return t <= STW_JSON_OBJECT ? names[t] : "?";
}
