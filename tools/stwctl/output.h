/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: output helpers: enum names, human units, a small JSON writer
 * and the JSON form of the stw objects.
 */
#ifndef STWCTL_OUTPUT_H
#define STWCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stw_decode.h"

#define NS_BUF	24

/* "850ns", "85us", "1.2ms", "3.0s": three significant digits at most. */
const char *fmt_ns(char buf[NS_BUF], uint64_t ns);

/*
 * A streaming JSON writer: one line, or indented with -p. Every object
 * stwctl prints begins with "version" (see Documentation/stwctl-json.md).
 */
#define JSON_MAX_DEPTH	8

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

void json_begin(struct json *j, FILE *f);	/* opens it, "version" */
void json_end(struct json *j);			/* closes it, '\n', flush */
void json_obj(struct json *j, const char *key);	/* key NULL in an array */
void json_obj_end(struct json *j);
void json_arr(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_str(struct json *j, const char *key, const char *s);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

void json_vm(struct json *j, const char *key, const struct stw_vm *vm);
void json_world(struct json *j, const char *key, const struct stw_world *w);
/* "laggards": [...], "laggards_total", "laggards_truncated", ... */
void json_laggards(struct json *j, const struct stw_laggards *l);
void json_ids(struct json *j, const char *key, const struct stw_ids *ids);

#endif /* STWCTL_OUTPUT_H */
