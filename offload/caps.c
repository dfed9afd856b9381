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
	bool tap = di->driver_name != NULL &&
		   strcmp(di->driver_name, "net_tap") == 0;
	/* TSO: each segment's IP and TCP checksums are the port's job too,
	 * so TSO is used only with both checksum offloads. ethdev reports
	 * no size limit: the IPv4 length field is the limit. */
	out->tso_max = (tx & RTE_ETH_TX_OFFLOAD_TCP_TSO) && out->tx_ip4_cksum &&
		       out->tx_tcp_cksum ? TERN_OL_TSO_MAX : 0;
	/* net_tap (22.11, pmd_tx_burst) refuses tso_segsz + l2 + l3 + l4
	 * above its MTU, which tern leaves at 1500 (offload.h). */
	out->tso_frame_max = tap ? RTE_ETHER_MTU : 0;
	out->tso_mbufs_max = di->tx_desc_lim.nb_seg_max;
	/* net_tap's TX checksum mis-sums odd-length segments (offload.h);
	 * TCP sends the application's mbufs as they are, so they occur. */
	out->tx_l4_cksum_even_segs = tap;
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
