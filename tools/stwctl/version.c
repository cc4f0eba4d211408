// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: the version, alone in its file so that only this one is
 * rebuilt when the tree (git describe) changes.
 */
#include "stwctl.h"

#ifndef STWCTL_VERSION
#define STWCTL_VERSION	"unknown"
#endif

const char stwctl_version[] = STWCTL_VERSION;
