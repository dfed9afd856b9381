/* Packet capture to pcapng, a hook user. The hook runs on the lcores and
 * only copies packets (rte_pcapng_copy) onto a multi-producer ring; the
 * control thread drains the ring into the file, so lcores never make a
 * syscall. Ring full or copy failure: the packet is counted as missed. */
#ifndef TERN_CAPTURE_H
#define TERN_CAPTURE_H

#include <stdint.h>

#include <tern/hooks.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_capture;

struct tern_capture_stats {
	uint64_t captured;	/* copied onto the ring */
	uint64_t written;	/* written to the file */
	uint64_t missed;	/* ring full or no mbuf for the copy */
};

/* Opens path for writing (truncates). port: only frames of this link, or
 * UINT16_MAX for all. snaplen 0 = whole frames. NULL with rte_errno. */
struct tern_capture *tern_capture_open(const char *path, uint16_t port,
				       uint32_t snaplen);
/* Drains what is left, closes the file, frees the ring and pool. Call
 * only after the hook is removed from every chain. */
void tern_capture_close(struct tern_capture *c);
/* The hook to add at ETH_INPUT and ETH_OUTPUT, with c as arg. */
enum tern_verdict tern_capture_hook(void *c, struct rte_mbuf *m,
				    const struct tern_hook_ctx *ctx);
/* Writes what the ring holds; returns packets written, or -errno. */
int tern_capture_drain(struct tern_capture *c);
void tern_capture_stats_get(const struct tern_capture *c,
			    struct tern_capture_stats *out);

#ifdef __cplusplus
}
#endif
#endif
