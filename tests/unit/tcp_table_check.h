/* A check of TCP's connection table from the inside (tcp_table_check.c). */
#ifndef TERN_TCP_TABLE_CHECK_H
#define TERN_TCP_TABLE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_stack;

struct tcp_table_check_result {
	uint64_t ops;		/* inserts and deletions */
	uint64_t checks;	/* whole-table checks */
	uint32_t max_dist;	/* the longest distance from home seen */
	uint64_t far;		/* entries seen at tab_dmax or more (their
				 * home read from the block) */
	uint32_t dmax;		/* the table's tab_dmax */
};

/* Fills s's table to its capacity with random 4-tuples, then replaces a
 * random live one by a new one `rounds` times, checking against a plain
 * list every so often and at the end: every live tuple is found, every
 * deleted one is not, every slot's distance field says its distance
 * from home (or tab_dmax for that or more), the table holds exactly the
 * live entries. Releases all at the end. 0, or -1 with err set. */
int tcp_table_check(struct tern_stack *s, uint64_t seed, unsigned rounds,
		    struct tcp_table_check_result *res, char *err, size_t n);

#ifdef __cplusplus
}
#endif

#endif
