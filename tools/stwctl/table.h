/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: aligned text tables for the human output.
 */
#ifndef STWCTL_TABLE_H
#define STWCTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS	12

struct table {
	int ncols;
	const char *const *headers;
	const char *align;	/* per column: 'l' or 'r' */
	int width[TABLE_MAX_COLS];
	char **cells;		/* nrows * ncols, owned */
	size_t nrows, cap;
};

void table_init(struct table *t, int ncols, const char *const *headers,
		const char *align);
/* Adds a row of NCOLS strings (copied); returns 0 or -1 (ENOMEM). */
int table_add(struct table *t, const char *const *row);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif /* STWCTL_TABLE_H */
