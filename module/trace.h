/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of stop cycles, for perf, trace-cmd and bpftrace:
 *
 *	perf record -e 'stw:*' -a
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

#endif /* _STW_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
