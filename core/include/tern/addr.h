/* Dual-family address type (DESIGN rule 5): one type holds IPv4 or IPv6,
 * even before the IPv6 wire code exists, so no API changes when it lands. */
#ifndef TERN_ADDR_H
#define TERN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tern_af {
	TERN_AF_NONE = 0,
	TERN_AF_INET = 4,
	TERN_AF_INET6 = 6,
};

struct tern_addr {
	uint8_t family;		/* enum tern_af */
	uint8_t pad[3];
	union {
		rte_be32_t v4;	/* network byte order */
		uint8_t v6[16];
	};
};

#define TERN_ADDR_STRLEN 48

static inline struct tern_addr tern_addr_v4(rte_be32_t be)
{
	struct tern_addr a;
	memset(&a, 0, sizeof(a));
	a.family = TERN_AF_INET;
	a.v4 = be;
	return a;
}

/* Host-order convenience: tern_addr_v4h(0x0a000001) is 10.0.0.1. */
static inline struct tern_addr tern_addr_v4h(uint32_t host)
{
	return tern_addr_v4(rte_cpu_to_be_32(host));
}

static inline bool tern_addr_is_set(const struct tern_addr *a)
{
	return a->family != TERN_AF_NONE;
}

bool tern_addr_eq(const struct tern_addr *a, const struct tern_addr *b);
/* True when a and b share the first plen bits (same family only). */
bool tern_addr_same_prefix(const struct tern_addr *a, const struct tern_addr *b,
			   uint8_t plen);
/* "10.0.0.1" or "fe80::1" -> 0, else -EINVAL. */
int tern_addr_parse(const char *s, struct tern_addr *out);
/* "10.0.0.1/24" -> 0, else -EINVAL (prefix required). */
int tern_addr_parse_prefix(const char *s, struct tern_addr *out, uint8_t *plen);
/* Writes the text form into buf (at least TERN_ADDR_STRLEN), returns buf. */
char *tern_addr_fmt(const struct tern_addr *a, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
