/* Copy-on-write for mbufs that may be shared. A packet can be referenced
 * from more than one place: TCP keeps clones of what it sent for
 * retransmission, the in-memory wire hands the sender's mbuf straight to
 * the receiver, a generator sends indirect mbufs of one read-only pattern,
 * some PMDs deliver data in external buffers. Writing the bytes of such a
 * packet in place would change them for every other holder, so one helper
 * decides, everywhere in tern, whether a segment's bytes may be written.
 *
 * hooks/ is the bottom layer (it depends on nothing of ours), so this
 * header lives here and every layer above can use it. */
#ifndef TERN_MBUF_COW_H
#define TERN_MBUF_COW_H

#include <stdbool.h>

#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* True when the bytes of segment m (not the segments after it) may be
 * written: m is direct, nobody else holds m, and, when its data lives in
 * an external buffer, nobody else holds that buffer either. */
static inline bool tern_mbuf_writable(const struct rte_mbuf *m)
{
	if (RTE_MBUF_CLONED(m) || rte_mbuf_refcnt_read(m) != 1)
		return false;
	if (RTE_MBUF_HAS_EXTBUF(m) &&
	    rte_mbuf_ext_refcnt_read(m->shinfo) != 1)
		return false;
	return true;
}

/* True when the metadata of every segment (data_off, data_len, next...) is
 * ours to change: no segment's mbuf is referenced from elsewhere. The
 * bytes may still be shared (see tern_mbuf_writable). */
static inline bool tern_mbuf_meta_owned(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (rte_mbuf_refcnt_read(m) != 1)
			return false;
	return true;
}

#ifdef __cplusplus
}
#endif
#endif
