/* Port capabilities from rte_eth_dev_info, and the offloads to enable. */
#include <string.h>

#include <rte_ethdev.h>

#include <tern/offload.h>

void tern_ol_caps_from_dev_info(const struct rte_eth_dev_info *di,
				struct tern_ol_caps *out)
{
	uint64_t tx = di->tx_offload_capa, rx = di->rx_offload_capa;
	out->tx_ip4_cksum = (tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	out->tx_udp_cksum = (tx & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
	out->tx_tcp_cksum = (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
	out->rx_ip4_cksum = (rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
	out->rx_l4_cksum = (rx & (RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
				  RTE_ETH_RX_OFFLOAD_TCP_CKSUM)) ==
			   (RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
			    RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
	/* TSO is used once TCP exists; report the limit already. */
	out->tso_max = (tx & RTE_ETH_TX_OFFLOAD_TCP_TSO) ? 64 * 1024 : 0;
	/* net_tap's TX checksum mis-sums odd-length segments (offload.h);
	 * TCP sends the application's mbufs as they are, so they occur. */
	out->tx_l4_cksum_even_segs = di->driver_name != NULL &&
				     strcmp(di->driver_name, "net_tap") == 0;
}

uint64_t tern_ol_port_tx_offloads(const struct tern_ol_caps *c)
{
	uint64_t o = 0;
	if (c->tx_ip4_cksum)
		o |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	if (c->tx_udp_cksum)
		o |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	if (c->tx_tcp_cksum)
		o |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	if (c->tso_max)
		o |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	return o;
}

uint64_t tern_ol_port_rx_offloads(const struct tern_ol_caps *c)
{
	uint64_t o = 0;
	if (c->rx_ip4_cksum)
		o |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	if (c->rx_l4_cksum)
		o |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	return o;
}
