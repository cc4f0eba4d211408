/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: opening the stw client (lib/stw_client.h) and reporting its
 * failures the way every subcommand does.
 */
#ifndef STWCTL_NL_H
#define STWCTL_NL_H

#include "stwctl.h"

/*
 * Opens a socket on the family (joined to the events group if @events),
 * acting on -w's world. Returns 0, or an exit code after printing why (3: module not loaded).
 */
int ctl_open(struct stw_sock **s, const char *cmd, bool events);

/* The world the command acts on: -w's, else STW_WORLD_DEFAULT. */
const char *ctl_world(void);

/*
 * Prints "stwctl: CMD: <strerror>: <the kernel's message>" and what the
 * kernel pointed at; returns the exit code (4 for ETIMEDOUT, else 1).
 */
int ctl_fail(const struct stw_sock *s, const char *cmd);

#endif /* STWCTL_NL_H */
