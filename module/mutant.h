/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mutants (make check-mutants): a build with -DSTW_MUTANT=N puts back the
 * bug of race N of the design document, so that race's test can show it
 * catches it. In the default build every hook below is a constant that the
 * compiler folds away, and mutant.c is not built.
 */
#ifndef _STW_MUTANT_H
#define _STW_MUTANT_H

#include <linux/types.h>

struct stw_vm;
struct stw_world;

/* Mutant 10's wake-up token, a bit of struct stw_vm::flags no build uses. */
#define STW_VM_MUTANT_WOKEN	(BITS_PER_LONG - 1)

#ifndef STW_MUTANT
#define STW_MUTANT 0
#endif

/* The condition that puts race @race's bug back in place. */
static __always_inline bool stw_mutant(int race)
{
	return race == STW_MUTANT;
}

#if STW_MUTANT
bool stw_mutant_dispatch(struct stw_vm *vm, u64 epoch);
bool stw_mutant_count_entered(struct stw_world *w);
void stw_mutant_mark_all_stopped(struct stw_world *w);
void stw_mutant_count_at_entry(struct stw_vm *vm);
bool stw_mutant_stop_by_hand(struct stw_vm *vm);
void stw_mutant_wake_sleeper(struct stw_vm *vm);
bool stw_mutant_woken(struct stw_vm *vm);
#else
static inline bool stw_mutant_dispatch(struct stw_vm *vm, u64 epoch)
{
	return false;
}

static inline bool stw_mutant_count_entered(struct stw_world *w)
{
	return false;
}

static inline void stw_mutant_mark_all_stopped(struct stw_world *w) { }
static inline void stw_mutant_count_at_entry(struct stw_vm *vm) { }
static inline bool stw_mutant_stop_by_hand(struct stw_vm *vm) { return false; }
static inline void stw_mutant_wake_sleeper(struct stw_vm *vm) { }
static inline bool stw_mutant_woken(struct stw_vm *vm) { return false; }
#endif

#endif /* _STW_MUTANT_H */
