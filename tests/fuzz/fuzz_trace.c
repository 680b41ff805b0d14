/*
 * fuzz_trace.c - trace_decode on any bytes: a record it accepts has its
 * arguments, registers and stack copy inside the record, and a known call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The tracepoint ids the seeds use: enter 1-5, exit 11-15. */
	static const struct trace_ids ids = { { 1, 2, 3, 4, 5 }, { 11, 12, 13, 14, 15 } };
	/* Exactly `size` bytes, so reading past the record is caught. */
	uint8_t *rec = malloc(size ? size : 1);
	if (!rec)
		return 0;
	memcpy(rec, data, size);
	struct trace_record r;
	if (trace_decode(&ids, rec, size, &r)) {
		if ((unsigned)r.call >= TRACE_NCALLS)
			abort();
		if (r.stack && (r.stack < rec || r.stack + r.stack_size > rec + size))
			abort();
		if (!r.enter && (r.have_regs || r.stack))
			abort();
		volatile uint8_t sum = 0; /* touch every byte the caller may read */
		for (size_t i = 0; r.stack && i < r.stack_size; i++)
			sum ^= r.stack[i];
		(void)sum;
	}
	free(rec);
	return 0;
}
