/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw_json: a small JSON reader for the selftests, enough to check what
 * stwctl -j prints key by key (the guest has no python, no jq).
 */
#ifndef STW_JSON_H
#define STW_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum stw_json_type {
	STW_JSON_NULL, STW_JSON_BOOL, STW_JSON_NUMBER, STW_JSON_STRING,
	STW_JSON_ARRAY, STW_JSON_OBJECT,
};

struct stw_json {
	enum stw_json_type type;
	bool b;
	double num;
	char *str;			/* STRING */
	size_t n;			/* ARRAY, OBJECT: how many */
	char **keys;			/* OBJECT */
	struct stw_json *items;		/* ARRAY, OBJECT */
};

/*
 * Parses one value from *@p and moves *@p past it (and past blanks).
 * Returns a malloc'ed tree (stw_json_free()), or NULL with @err (size
 * @len) saying what and where.
 */
struct stw_json *stw_json_parse(const char **p, char *err, size_t len);
void stw_json_free(struct stw_json *v);
/* The member @key of object @v, or NULL. */
const struct stw_json *stw_json_get(const struct stw_json *v,
				    const char *key);
const char *stw_json_type_name(enum stw_json_type t);

#endif /* STW_JSON_H */
