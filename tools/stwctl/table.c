// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: aligned text tables, two spaces between columns.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, int ncols, const char *const *headers,
		const char *align)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS;
	t->headers = headers;
	t->align = align;
	for (i = 0; i < t->ncols; i++)
		t->width[i] = strlen(headers[i]);
}

int table_add(struct table *t, const char *const *row)
{
	size_t base = t->nrows * t->ncols;
	int i, len;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **cells = realloc(t->cells,
				       cap * t->ncols * sizeof(*cells));

		if (!cells)
			return -1;
		t->cells = cells;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = strdup(row[i] ? row[i] : "");
		if (!t->cells[base + i]) {
			while (i--)
				free(t->cells[base + i]);
			return -1;
		}
		len = strlen(row[i] ? row[i] : "");
		if (len > t->width[i])
			t->width[i] = len;
	}
	t->nrows++;
	return 0;
}

static void print_row(const struct table *t, const char *const *row,
		      FILE *f)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		if (i)
			fputs("  ", f);
		if (t->align[i] == 'r')
			fprintf(f, "%*s", t->width[i], row[i]);
		else if (i == t->ncols - 1)
			fputs(row[i], f);
		else
			fprintf(f, "%-*s", t->width[i], row[i]);
	}
	fputc('\n', f);
}

void table_print(const struct table *t, FILE *f)
{
	size_t r;

	print_row(t, t->headers, f);
	for (r = 0; r < t->nrows; r++)
		print_row(t, (const char *const *)&t->cells[r * t->ncols], f);
}

void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
	t->cap = 0;
}
