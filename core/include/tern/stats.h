/* Stack counters. One list, so the struct, the names the API reports and
 * the zeroing never drift apart. Every dropped packet increments exactly
 * one drop_* counter named for its reason (DESIGN conventions). */
#ifndef TERN_STATS_H
#define TERN_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(protocol, name): protocol groups counters in stats.get output. */
#define TERN_STACK_COUNTERS(X)                                                 \
	X(eth, rx_pkts)                                                        \
	X(eth, tx_pkts)                                                        \
	X(eth, drop_short)                                                     \
	X(eth, drop_not_for_us)                                                \
	X(eth, drop_unknown_type)                                              \
	X(eth, drop_no_iface)                                                  \
	X(eth, drop_hook_input)                                                \
	X(eth, drop_hook_output)                                               \
	X(eth, drop_tx_full)                                                   \
	X(eth, tx_tso)                                                         \
	X(eth, tx_gso)                                                         \
	X(eth, tx_gso_segs)                                                    \
	X(eth, drop_gso)                                                       \
	X(eth, rx_gro_merged)                                                  \
	X(arp, rx_requests)                                                    \
	X(arp, rx_replies)                                                     \
	X(arp, tx_requests)                                                    \
	X(arp, tx_replies)                                                     \
	X(arp, tx_gratuitous)                                                  \
	X(arp, drop_malformed)                                                 \
	X(arp, drop_unsupported)                                               \
	X(arp, drop_not_for_us)                                                \
	X(arp, drop_bad_sender)                                                \
	X(neigh, created)                                                      \
	X(neigh, learned)                                                      \
	X(neigh, confirmed)                                                    \
	X(neigh, evicted)                                                      \
	X(neigh, failed)                                                       \
	X(neigh, drop_unresolved)                                              \
	X(neigh, drop_queue_full)                                              \
	X(neigh, drop_table_full)                                              \
	X(neigh, drop_evicted)                                                 \
	X(neigh, drop_flushed)                                                 \
	X(ip4, rx_pkts)                                                        \
	X(ip4, tx_pkts)                                                        \
	X(ip4, drop_short)                                                     \
	X(ip4, drop_bad_version)                                               \
	X(ip4, drop_bad_hlen)                                                  \
	X(ip4, drop_bad_len)                                                   \
	X(ip4, drop_bad_cksum)                                                 \
	X(ip4, rx_fragments)                                                   \
	X(ip4, reassembled)                                                    \
	X(ip4, tx_fragmented)                                                  \
	X(ip4, tx_fragments)                                                   \
	X(ip4, pmtu_learned)                                                   \
	X(ip4, drop_frag_bad_len)                                              \
	X(ip4, drop_frag_oversize)                                             \
	X(ip4, drop_frag_reasm)                                                \
	X(ip4, drop_frag_timeout)                                              \
	X(ip4, drop_bad_src)                                                   \
	X(ip4, drop_not_for_us)                                                \
	X(ip4, drop_unknown_proto)                                             \
	X(ip4, drop_no_route)                                                  \
	X(ip4, drop_too_big)                                                   \
	X(icmp4, rx_echo_requests)                                             \
	X(icmp4, tx_echo_replies)                                              \
	X(icmp4, rx_other)                                                     \
	X(icmp4, rx_errors)                                                    \
	X(icmp4, drop_err_short)                                               \
	X(icmp4, drop_err_invalid)                                             \
	X(icmp4, drop_err_unmatched)                                           \
	X(icmp4, tx_unreachable)                                               \
	X(icmp4, drop_short)                                                   \
	X(icmp4, drop_bad_cksum)                                               \
	X(icmp4, drop_broadcast)                                               \
	X(icmp4, drop_ratelimit)                                               \
	X(udp, rx_pkts)                                                        \
	X(udp, tx_pkts)                                                        \
	X(udp, drop_short)                                                     \
	X(udp, drop_bad_len)                                                   \
	X(udp, drop_bad_cksum)                                                 \
	X(udp, drop_no_port)                                                   \
	X(udp, rx_errors)                                                      \
	X(tcp, rx_segs)                                                        \
	X(tcp, tx_segs)                                                        \
	X(tcp, rx_predicted_acks)                                              \
	X(tcp, rx_predicted_data)                                              \
	X(tcp, active_opens)                                                   \
	X(tcp, passive_opens)                                                  \
	X(tcp, attempt_fails)                                                  \
	X(tcp, estab_resets)                                                   \
	X(tcp, conn_timeouts)                                                  \
	X(tcp, rx_bytes)                                                       \
	X(tcp, tx_bytes)                                                       \
	X(tcp, retrans_segs)                                                   \
	X(tcp, rto_expired)                                                    \
	X(tcp, fast_retrans)                                                   \
	X(tcp, sack_retrans)                                                   \
	X(tcp, sack_recoveries)                                                \
	X(tcp, sack_reneging)                                                  \
	X(tcp, syncookies_sent)                                                \
	X(tcp, syncookies_recv)                                                \
	X(tcp, syncookies_failed)                                              \
	X(tcp, tw_reused)                                                      \
	X(tcp, dup_acks)                                                       \
	X(tcp, delayed_acks)                                                   \
	X(tcp, ooo_queued)                                                     \
	X(tcp, tx_rst)                                                         \
	X(tcp, rx_rst)                                                         \
	X(tcp, challenge_acks)                                                 \
	X(tcp, syn_retrans)                                                    \
	X(tcp, time_wait)                                                      \
	X(tcp, keepalive_probes)                                               \
	X(tcp, window_probes)                                                  \
	X(tcp, rx_icmp_errors)                                                 \
	X(tcp, drop_short)                                                     \
	X(tcp, drop_bad_hlen)                                                  \
	X(tcp, drop_bad_cksum)                                                 \
	X(tcp, drop_bad_flags)                                                 \
	X(tcp, drop_no_conn)                                                   \
	X(tcp, drop_listen_overflow)                                           \
	X(tcp, drop_table_full)                                                \
	X(tcp, drop_out_of_window)                                             \
	X(tcp, drop_paws)                                                      \
	X(tcp, drop_bad_ack)                                                   \
	X(tcp, drop_rst)                                                       \
	X(tcp, drop_syn)                                                       \
	X(tcp, drop_dup_data)                                                  \
	X(tcp, drop_ooo_full)                                                  \
	X(tcp, drop_ooo_pool_low)                                              \
	X(tcp, drop_no_ext)                                                    \
	X(tcp, ext_empty)                                                      \
	X(tcp, drop_after_close)                                               \
	X(tcp, drop_state)                                                     \
	X(mbuf, rx_unshared)                                                   \
	X(mbuf, drop_alloc_fail)

struct tern_stack_stats {
#define TERN_STATS_FIELD(proto, name) uint64_t proto##_##name;
	TERN_STACK_COUNTERS(TERN_STATS_FIELD)
#undef TERN_STATS_FIELD
};

struct tern_counter_desc {
	const char *proto;	/* "eth", "ip4", ... */
	const char *name;	/* "drop_bad_cksum", ... */
	unsigned offset;	/* byte offset in struct tern_stack_stats */
};

/* The table of every counter, in declaration order; *n gets its length. */
const struct tern_counter_desc *tern_stack_counter_descs(unsigned *n);

struct tern_iface_stats {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
};

#ifdef __cplusplus
}
#endif
#endif
