/* The mbuf field that chains packet queues (pktq.h). */
#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include "pktq.h"

int pktq_field_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "tern_pkt_next",
		.size = sizeof(struct rte_mbuf *),
		.align = __alignof__(struct rte_mbuf *),
	};
	/* Idempotent: the same name and shape give the same offset. */
	return rte_mbuf_dynfield_register(&desc);
}

int pktq_pos_field_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "tern_pkt_pos",
		.size = sizeof(uint32_t),
		.align = __alignof__(uint32_t),
	};
	return rte_mbuf_dynfield_register(&desc);
}
