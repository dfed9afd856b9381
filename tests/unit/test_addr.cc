// tern_addr: parsing, formatting, prefixes (DESIGN rule 5: dual family).
#include "harness.h"

using namespace tt;

TEST(Addr, ParseV4)
{
	tern_addr a;
	ASSERT_EQ(tern_addr_parse("10.0.0.1", &a), 0);
	EXPECT_EQ(a.family, TERN_AF_INET);
	EXPECT_EQ(a.v4, rte_cpu_to_be_32(0x0a000001));
	ASSERT_EQ(tern_addr_parse("255.255.255.255", &a), 0);
	EXPECT_EQ(a.v4, 0xffffffffu);
	ASSERT_EQ(tern_addr_parse("0.0.0.0", &a), 0);
	EXPECT_EQ(a.family, TERN_AF_INET);
	EXPECT_EQ(a.v4, 0u);
}

TEST(Addr, FormatV4RoundTrip)
{
	char buf[TERN_ADDR_STRLEN];
	tern_addr a = tern_addr_v4h(0xc0a80a01);
	EXPECT_STREQ(tern_addr_fmt(&a, buf, sizeof(buf)), "192.168.10.1");
	const char *samples[] = {"1.2.3.4", "10.0.0.255", "172.16.0.1", "0.0.0.0"};
	for (const char *s : samples) {
		tern_addr b;
		ASSERT_EQ(tern_addr_parse(s, &b), 0) << s;
		EXPECT_STREQ(tern_addr_fmt(&b, buf, sizeof(buf)), s);
	}
}

TEST(Addr, ParseAndFormatV6)
{
	tern_addr a;
	char buf[TERN_ADDR_STRLEN];
	ASSERT_EQ(tern_addr_parse("fe80::1", &a), 0);
	EXPECT_EQ(a.family, TERN_AF_INET6);
	EXPECT_EQ(a.v6[0], 0xfe);
	EXPECT_EQ(a.v6[1], 0x80);
	EXPECT_EQ(a.v6[15], 1);
	EXPECT_STREQ(tern_addr_fmt(&a, buf, sizeof(buf)), "fe80::1");
	ASSERT_EQ(tern_addr_parse("2001:db8::a:b", &a), 0);
	EXPECT_STREQ(tern_addr_fmt(&a, buf, sizeof(buf)), "2001:db8::a:b");
	ASSERT_EQ(tern_addr_parse("::", &a), 0);
	EXPECT_EQ(a.family, TERN_AF_INET6);
}

TEST(Addr, BadInputRejected)
{
	const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "abc",
			     "1.2.3.4 ", " 1.2.3.4", "1..2.3", "-1.2.3.4",
			     "1.2.3.4/24", "fe80:::1", "12345::", "10.0.0.1x"};
	for (const char *s : bad) {
		tern_addr a;
		EXPECT_EQ(tern_addr_parse(s, &a), -EINVAL) << "'" << s << "'";
	}
}

TEST(Addr, ParsePrefix)
{
	tern_addr a;
	uint8_t plen = 0;
	ASSERT_EQ(tern_addr_parse_prefix("10.0.0.2/24", &a, &plen), 0);
	EXPECT_EQ(a.v4, rte_cpu_to_be_32(0x0a000002));
	EXPECT_EQ(plen, 24);
	ASSERT_EQ(tern_addr_parse_prefix("0.0.0.0/0", &a, &plen), 0);
	EXPECT_EQ(plen, 0);
	ASSERT_EQ(tern_addr_parse_prefix("1.2.3.4/32", &a, &plen), 0);
	EXPECT_EQ(plen, 32);
	ASSERT_EQ(tern_addr_parse_prefix("2001:db8::/64", &a, &plen), 0);
	EXPECT_EQ(a.family, TERN_AF_INET6);
	EXPECT_EQ(plen, 64);

	const char *bad[] = {"10.0.0.2", "10.0.0.2/33", "10.0.0.2/", "10.0.0.2/-1",
			     "10.0.0.2/2x", "/24", "2001:db8::/129", "x/8"};
	for (const char *s : bad)
		EXPECT_EQ(tern_addr_parse_prefix(s, &a, &plen), -EINVAL) << s;
}

TEST(Addr, SamePrefix)
{
	tern_addr a = tern_addr_v4h(0x0a000001), b = tern_addr_v4h(0x0a0000c8),
		  c = tern_addr_v4h(0x0a000101);
	EXPECT_TRUE(tern_addr_same_prefix(&a, &b, 24));
	EXPECT_FALSE(tern_addr_same_prefix(&a, &b, 25));
	EXPECT_FALSE(tern_addr_same_prefix(&a, &c, 24));
	EXPECT_TRUE(tern_addr_same_prefix(&a, &c, 23));
	EXPECT_TRUE(tern_addr_same_prefix(&a, &c, 0));
	EXPECT_TRUE(tern_addr_same_prefix(&a, &a, 32));
	EXPECT_FALSE(tern_addr_same_prefix(&a, &b, 32));

	tern_addr x, y;
	ASSERT_EQ(tern_addr_parse("2001:db8::1", &x), 0);
	ASSERT_EQ(tern_addr_parse("2001:db8::ffff:1", &y), 0);
	EXPECT_TRUE(tern_addr_same_prefix(&x, &y, 64));
	EXPECT_FALSE(tern_addr_same_prefix(&x, &y, 128));
	// Families never share a prefix, not even /0.
	EXPECT_FALSE(tern_addr_same_prefix(&a, &x, 0));
}

TEST(Addr, Equality)
{
	tern_addr a = tern_addr_v4h(0x0a000001), b;
	ASSERT_EQ(tern_addr_parse("10.0.0.1", &b), 0);
	EXPECT_TRUE(tern_addr_eq(&a, &b));
	b = tern_addr_v4h(0x0a000002);
	EXPECT_FALSE(tern_addr_eq(&a, &b));
	tern_addr n1, n2;
	memset(&n1, 0, sizeof(n1));
	memset(&n2, 0, sizeof(n2));
	EXPECT_FALSE(tern_addr_is_set(&n1));
	EXPECT_TRUE(tern_addr_is_set(&a));
	tern_addr v6;
	ASSERT_EQ(tern_addr_parse("::a00:1", &v6), 0);
	EXPECT_FALSE(tern_addr_eq(&a, &v6));	// other family
}
