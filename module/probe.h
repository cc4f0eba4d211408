/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe points: the named places in the protocol where an interleaving
 * matters (DESIGN.md section 7; uapi/stw_probe.h lists them). The race tests
 * park a thread at one of them to force an interleaving. Unarmed, a probe is
 * a static branch: a NOP on the fast path.
 */
#ifndef _STW_PROBE_H
#define _STW_PROBE_H

#include <linux/jump_label.h>

#include "uapi/stw_probe.h"

struct stw_vm;

DECLARE_STATIC_KEY_FALSE(stw_probe_key);

void __stw_probe(enum stw_probe_point point, struct stw_vm *vm);

static __always_inline void stw_probe(enum stw_probe_point point,
				      struct stw_vm *vm)
{
	if (static_branch_unlikely(&stw_probe_key))
		__stw_probe(point, vm);
}

int stw_probe_init(void);
void stw_probe_exit(void);

/*
 * Mutants (make check-mutants): a build with -DSTW_MUTANT=N puts back the
 * bug of race N of DESIGN.md section 5, so that race's test can show it
 * catches it. Never set in the default build, where every stw_mutant() is
 * a constant false.
 */
#ifndef STW_MUTANT
#define STW_MUTANT 0
#endif

static __always_inline bool stw_mutant(int race)
{
	return race == STW_MUTANT;
}

#endif /* _STW_PROBE_H */
