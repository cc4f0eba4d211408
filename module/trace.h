/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of stop cycles and of the controller's decisions, for perf,
 * trace-cmd and bpftrace:
 *
 *	perf record -e 'stw:*' -a
 *	bpftrace -e 'tracepoint:stw:stw_stopped { @us = hist(args->tts_ns / 1000); }'
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM stw

#if !defined(_STW_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _STW_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(stw_stop_begin,
	TP_PROTO(u64 generation, u32 nr_vms),
	TP_ARGS(generation, nr_vms),
	TP_STRUCT__entry(
		__field(u64, generation)
		__field(u32, nr_vms)
	),
	TP_fast_assign(
		__entry->generation = generation;
		__entry->nr_vms = nr_vms;
	),
	TP_printk("generation=%llu vms=%u", __entry->generation,
		  __entry->nr_vms)
);

TRACE_EVENT(stw_stopped,
	TP_PROTO(u64 generation, u64 tts_ns, u32 step_vm),
	TP_ARGS(generation, tts_ns, step_vm),
	TP_STRUCT__entry(
		__field(u64, generation)
		__field(u64, tts_ns)
		__field(u32, step_vm)
	),
	TP_fast_assign(
		__entry->generation = generation;
		__entry->tts_ns = tts_ns;
		__entry->step_vm = step_vm;
	),
	TP_printk("generation=%llu tts_ns=%llu step_vm=%u",
		  __entry->generation, __entry->tts_ns, __entry->step_vm)
);

TRACE_EVENT(stw_resumed,
	TP_PROTO(u64 generation),
	TP_ARGS(generation),
	TP_STRUCT__entry(
		__field(u64, generation)
	),
	TP_fast_assign(
		__entry->generation = generation;
	),
	TP_printk("generation=%llu", __entry->generation)
);

DECLARE_EVENT_CLASS(stw_vm_class,
	TP_PROTO(u32 vm, u64 generation),
	TP_ARGS(vm, generation),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u64, generation)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->generation = generation;
	),
	TP_printk("vm=%u generation=%llu", __entry->vm, __entry->generation)
);

/* A VM parks at a stop point, and is released from it. */
DEFINE_EVENT(stw_vm_class, stw_vm_park,
	TP_PROTO(u32 vm, u64 generation),
	TP_ARGS(vm, generation)
);

DEFINE_EVENT(stw_vm_class, stw_vm_release,
	TP_PROTO(u32 vm, u64 generation),
	TP_ARGS(vm, generation)
);

/* A step begins: @vm may pass @polls polls. */
TRACE_EVENT(stw_step_begin,
	TP_PROTO(u64 generation, u32 vm, u32 polls),
	TP_ARGS(generation, vm, polls),
	TP_STRUCT__entry(
		__field(u64, generation)
		__field(u32, vm)
		__field(u32, polls)
	),
	TP_fast_assign(
		__entry->generation = generation;
		__entry->vm = vm;
		__entry->polls = polls;
	),
	TP_printk("generation=%llu vm=%u polls=%u", __entry->generation,
		  __entry->vm, __entry->polls)
);

/* A stop timed out with @laggards VMs not parked; @kept: not rolled back. */
TRACE_EVENT(stw_timeout,
	TP_PROTO(u64 generation, u32 laggards, bool kept),
	TP_ARGS(generation, laggards, kept),
	TP_STRUCT__entry(
		__field(u64, generation)
		__field(u32, laggards)
		__field(bool, kept)
	),
	TP_fast_assign(
		__entry->generation = generation;
		__entry->laggards = laggards;
		__entry->kept = kept;
	),
	TP_printk("generation=%llu laggards=%u kept=%d", __entry->generation,
		  __entry->laggards, __entry->kept)
);

DECLARE_EVENT_CLASS(stw_hold_class,
	TP_PROTO(u32 id, u32 kind, u32 holds),
	TP_ARGS(id, kind, holds),
	TP_STRUCT__entry(
		__field(u32, id)
		__field(u32, kind)
		__field(u32, holds)
	),
	TP_fast_assign(
		__entry->id = id;
		__entry->kind = kind;
		__entry->holds = holds;
	),
	TP_printk("hold=%u kind=%s holds=%u", __entry->id,
		  __print_symbolic(__entry->kind, { 0, "socket" },
				   { 1, "lease" }, { 2, "kernel" }),
		  __entry->holds)
);

/* A stop hold is taken, released, or its lease expired. */
DEFINE_EVENT(stw_hold_class, stw_hold_take,
	TP_PROTO(u32 id, u32 kind, u32 holds),
	TP_ARGS(id, kind, holds)
);

DEFINE_EVENT(stw_hold_class, stw_hold_release,
	TP_PROTO(u32 id, u32 kind, u32 holds),
	TP_ARGS(id, kind, holds)
);

DEFINE_EVENT(stw_hold_class, stw_lease_expired,
	TP_PROTO(u32 id, u32 kind, u32 holds),
	TP_ARGS(id, kind, holds)
);

#endif /* _STW_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
