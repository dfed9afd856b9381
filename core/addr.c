/* Dual-family address helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/addr.h>

bool tern_addr_eq(const struct tern_addr *a, const struct tern_addr *b)
{
	if (a->family != b->family)
		return false;
	switch (a->family) {
	case TERN_AF_INET:
		return a->v4 == b->v4;
	case TERN_AF_INET6:
		return memcmp(a->v6, b->v6, 16) == 0;
	default:
		return true;
	}
}

bool tern_addr_same_prefix(const struct tern_addr *a, const struct tern_addr *b,
			   uint8_t plen)
{
	if (a->family != b->family)
		return false;
	const uint8_t *pa, *pb;
	unsigned max;
	if (a->family == TERN_AF_INET) {
		pa = (const uint8_t *)&a->v4;
		pb = (const uint8_t *)&b->v4;
		max = 32;
	} else if (a->family == TERN_AF_INET6) {
		pa = a->v6;
		pb = b->v6;
		max = 128;
	} else {
		return false;
	}
	if (plen > max)
		return false;
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(pa, pb, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (pa[full] & mask) == (pb[full] & mask);
}

int tern_addr_parse(const char *s, struct tern_addr *out)
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = TERN_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->v6) == 1) {
		out->family = TERN_AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

int tern_addr_parse_prefix(const char *s, struct tern_addr *out, uint8_t *plen)
{
	char buf[TERN_ADDR_STRLEN];
	if (s == NULL || out == NULL || plen == NULL)
		return -EINVAL;
	const char *slash = strchr(s, '/');
	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (tern_addr_parse(buf, out) != 0)
		return -EINVAL;
	const char *p = slash + 1;
	if (*p < '0' || *p > '9' || strlen(p) > 3)
		return -EINVAL;
	char *end;
	unsigned long v = strtoul(p, &end, 10);
	unsigned max = out->family == TERN_AF_INET ? 32 : 128;
	if (*end != '\0' || v > max)
		return -EINVAL;
	*plen = (uint8_t)v;
	return 0;
}

char *tern_addr_fmt(const struct tern_addr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	const char *r = NULL;
	if (a->family == TERN_AF_INET)
		r = inet_ntop(AF_INET, &a->v4, buf, (socklen_t)len);
	else if (a->family == TERN_AF_INET6)
		r = inet_ntop(AF_INET6, a->v6, buf, (socklen_t)len);
	if (r == NULL)
		snprintf(buf, len, "-");
	return buf;
}
