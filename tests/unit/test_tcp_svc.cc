// traffic_gen/ TCP services between two stacks over the in-memory wire:
// the body pattern and its CRC, HTTP GET of a body checksummed by the
// client, a send client into a discard server, echo, keep-alive with
// pipelined requests and error answers, client failures, conf checks.
#include "harness.h"

#include <netinet/in.h>
#include <rte_errno.h>

#include <string>

#include <tern/tcp.h>
#include <tern/tcp_svc.h>

using namespace tt;

namespace {

Bytes body(uint64_t off, size_t n)
{
	Bytes b(n);
	for (size_t i = 0; i < n; i++) {
		uint32_t k = (uint32_t)((off + i) % 65521);
		b[i] = (uint8_t)((k * 2654435761u) >> 24);
	}
	return b;
}

// A raw-API connection the test drives: what it sends, what comes back.
struct Raw {
	tern_stack *s = nullptr;
	tern_tcp_conn *c = nullptr;
	std::string got;
	bool connected = false, fin = false, closed = false;
	int err = -1;
};

void raw_connected(void *arg, tern_tcp_conn *) { static_cast<Raw *>(arg)->connected = true; }
void raw_recv(void *arg, tern_tcp_conn *, rte_mbuf *m)
{
	Raw *r = static_cast<Raw *>(arg);
	if (m == nullptr) {
		r->fin = true;
		return;
	}
	Bytes b = mbuf_bytes(m);
	r->got.append(b.begin(), b.end());
	rte_pktmbuf_free(m);
}
void raw_sent(void *, tern_tcp_conn *, uint32_t) {}
void raw_closed(void *arg, tern_tcp_conn *, int err)
{
	Raw *r = static_cast<Raw *>(arg);
	r->closed = true;
	r->err = err;
	r->c = nullptr;
}
const tern_tcp_ops kRawOps = {raw_connected, raw_recv, raw_sent, raw_closed};

class TcpSvc : public TwoStacks {
protected:
	void SetUp() override
	{
		TwoStacks::SetUp();
		if (HasFatalFailure())
			return;
		resolve_statically();
	}
	void TearDown() override
	{
		if (cli)
			tern_tcp_cli_destroy(cli);
		if (svc)
			tern_tcp_svc_destroy(svc);
		if (raw.c)
			tern_tcp_abort(A, raw.c);
		TwoStacks::TearDown();
	}
	void serve(tern_tcp_svc_kind kind, bool has_bytes = false, uint64_t bytes = 0)
	{
		tern_tcp_svc_conf c;
		memset(&c, 0, sizeof(c));
		c.kind = kind;
		c.port = 80;
		c.has_bytes = has_bytes;
		c.bytes = bytes;
		svc = tern_tcp_svc_create(B, &c);
		ASSERT_NE(svc, nullptr) << rte_strerror(rte_errno);
	}
	tern_tcp_cli_conf cli_conf(tern_tcp_cli_mode mode, uint64_t bytes)
	{
		tern_tcp_cli_conf c;
		memset(&c, 0, sizeof(c));
		c.mode = mode;
		c.remote = v4(kIpB);
		c.port = 80;
		c.has_bytes = true;
		c.bytes = bytes;
		return c;
	}
	tern_tcp_cli_stats cli_stats()
	{
		tern_tcp_cli_stats st;
		tern_tcp_cli_stats_get(cli, &st);
		return st;
	}
	tern_tcp_svc_stats svc_stats()
	{
		tern_tcp_svc_stats st;
		tern_tcp_svc_stats_get(svc, &st);
		return st;
	}
	bool run_until(const std::function<bool()> &pred, unsigned ms = 20000)
	{
		for (unsigned i = 0; i < ms; i++) {
			pump();
			if (svc)
				tern_tcp_svc_poll(svc);
			if (cli)
				tern_tcp_cli_poll(cli);
			if (pred())
				return true;
			step_ms(1);
		}
		return pred();
	}
	void raw_connect()
	{
		raw.s = A;
		raw.c = tcp_connect(A, kIpB, 80, &kRawOps, &raw);
		ASSERT_NE(raw.c, nullptr);
		ASSERT_TRUE(run_until([&] { return raw.connected; }));
	}
	// Both sides done: no connection left but TIME_WAIT.
	bool quiet()
	{
		return svc_stats().active == 0;
	}
	tern_tcp_svc *svc = nullptr;
	tern_tcp_cli *cli = nullptr;
	Raw raw;
};

}  // namespace

TEST(TcpPattern, BytesFillAndCrc)
{
	Bytes want = body(65000, 2000);	// across the period
	Bytes got(2000);
	tern_tcp_pattern_fill(got.data(), 65000, got.size());
	EXPECT_EQ(got, want);
	for (uint64_t off : {0ull, 1ull, 65520ull, 65521ull, 1000000007ull})
		EXPECT_EQ(tern_tcp_pattern_byte(off), body(off, 1)[0]) << off;
	EXPECT_EQ(tern_tcp_crc32(0, "123456789", 9), 0xcbf43926u);
	// incremental = whole
	uint32_t c = tern_tcp_crc32(0, want.data(), 700);
	c = tern_tcp_crc32(c, want.data() + 700, 1300);
	EXPECT_EQ(c, tern_tcp_crc32(0, want.data(), want.size()));
}

TEST_F(TcpSvc, HttpGetChecksumsTheBody)
{
	serve(TERN_TCP_SVC_HTTP);
	const uint64_t n = 3000000;
	tern_tcp_cli_conf cc = cli_conf(TERN_TCP_CLI_HTTP_GET, n);
	cli = tern_tcp_cli_create(A, &cc);
	ASSERT_NE(cli, nullptr) << rte_strerror(rte_errno);
	ASSERT_TRUE(run_until([&] { return cli_stats().state >= TERN_TCP_CLI_DONE; }));
	tern_tcp_cli_stats st = cli_stats();
	EXPECT_EQ(st.state, TERN_TCP_CLI_DONE) << st.why;
	EXPECT_EQ(st.http_status, 200);
	EXPECT_EQ(st.content_length, (int64_t)n);
	EXPECT_EQ(st.body_bytes, n);
	Bytes b = body(0, n);
	EXPECT_EQ(st.crc32, tern_tcp_crc32(0, b.data(), b.size()));
	EXPECT_GT(st.rx_bytes, n);	// and the header
	EXPECT_NE(st.local_port, 0);
	ASSERT_TRUE(run_until([&] { return quiet(); }));
	tern_tcp_svc_stats ss = svc_stats();
	EXPECT_EQ(ss.accepted, 1u);
	EXPECT_EQ(ss.requests, 1u);
	EXPECT_EQ(ss.responses_2xx, 1u);
	EXPECT_EQ(ss.closed, 1u);
	EXPECT_EQ(ss.failed, 0u);
	EXPECT_GT(ss.tx_bytes, n);
}

TEST_F(TcpSvc, SendClientIntoDiscard)
{
	serve(TERN_TCP_SVC_DISCARD);
	const uint64_t n = 1000003;
	tern_tcp_cli_conf cc = cli_conf(TERN_TCP_CLI_SEND, n);
	cli = tern_tcp_cli_create(A, &cc);
	ASSERT_NE(cli, nullptr);
	ASSERT_TRUE(run_until([&] { return cli_stats().state >= TERN_TCP_CLI_DONE; }));
	EXPECT_EQ(cli_stats().state, TERN_TCP_CLI_DONE) << cli_stats().why;
	EXPECT_EQ(cli_stats().acked, n);
	EXPECT_EQ(cli_stats().tx_bytes, n);
	ASSERT_TRUE(run_until([&] { return quiet(); }));
	EXPECT_EQ(svc_stats().rx_bytes, n);
	EXPECT_EQ(svc_stats().closed, 1u);
}

TEST_F(TcpSvc, EchoSendsBackWhatItReads)
{
	serve(TERN_TCP_SVC_ECHO);
	raw_connect();
	Bytes data = pattern(500000, 9);
	size_t off = 0;
	ASSERT_TRUE(run_until([&] {
		tcp_write_from(A, raw.c, data, off, 7001);
		return raw.got.size() == data.size();
	}));
	EXPECT_TRUE(Bytes(raw.got.begin(), raw.got.end()) == data);
	// our FIN: the echo closes after the last byte
	ASSERT_EQ(tern_tcp_shutdown_wr(A, raw.c), 0);
	ASSERT_TRUE(run_until([&] { return raw.fin; }));
	tern_tcp_close(A, raw.c);
	ASSERT_TRUE(run_until([&] { return raw.closed && quiet(); }));
	EXPECT_EQ(svc_stats().rx_bytes, data.size());
	EXPECT_EQ(svc_stats().tx_bytes, data.size());
}

TEST_F(TcpSvc, HttpKeepAlivePipeliningAndErrors)
{
	serve(TERN_TCP_SVC_HTTP);
	raw_connect();
	std::string req =
		"GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /nothing HTTP/1.1\r\n\r\n"
		"HEAD /bytes/5 HTTP/1.1\r\n\r\n"
		"POST /bytes/1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
		"GET http://h/bytes/3?x=1 HTTP/1.0\r\n\r\n"
		"GET /bytes/1 HTTP/1.1\r\n\r\n";	// after the 1.0 close: unanswered
	ASSERT_EQ(tern_tcp_write(A, raw.c, req.data(), (uint32_t)req.size()),
		  (int)req.size());
	ASSERT_TRUE(run_until([&] { return raw.fin; }));
	Bytes b10 = body(0, 10), b3 = body(0, 3);
	std::string want =
		"HTTP/1.1 200 OK\r\nServer: tern\r\nContent-Type: application/octet-stream\r\n"
		"Content-Length: 10\r\n\r\n" + std::string(b10.begin(), b10.end()) +
		"HTTP/1.1 404 Not Found\r\nServer: tern\r\nContent-Type: text/plain\r\n"
		"Content-Length: 10\r\n\r\nNot Found\n"
		"HTTP/1.1 200 OK\r\nServer: tern\r\nContent-Type: application/octet-stream\r\n"
		"Content-Length: 5\r\n\r\n"
		"HTTP/1.1 405 Method Not Allowed\r\nServer: tern\r\nContent-Type: text/plain\r\n"
		"Allow: GET, HEAD\r\nContent-Length: 19\r\n\r\nMethod Not Allowed\n"
		"HTTP/1.1 200 OK\r\nServer: tern\r\nContent-Type: application/octet-stream\r\n"
		"Content-Length: 3\r\nConnection: close\r\n\r\n" + std::string(b3.begin(), b3.end());
	EXPECT_EQ(raw.got, want);
	tern_tcp_close(A, raw.c);
	ASSERT_TRUE(run_until([&] { return raw.closed && quiet(); }));
	EXPECT_EQ(svc_stats().requests, 5u);
	EXPECT_EQ(svc_stats().responses_2xx, 3u);
	EXPECT_EQ(svc_stats().responses_4xx, 2u);
}

TEST_F(TcpSvc, HttpFixedBodyAndBadRequests)
{
	serve(TERN_TCP_SVC_HTTP, true, 7);
	raw_connect();
	std::string req = "GET /any/path HTTP/1.1\r\n\r\nGARBAGE\r\n\r\n";
	ASSERT_EQ(tern_tcp_write(A, raw.c, req.data(), (uint32_t)req.size()),
		  (int)req.size());
	ASSERT_TRUE(run_until([&] { return raw.fin; }));
	Bytes b7 = body(0, 7);
	EXPECT_EQ(raw.got.substr(0, raw.got.find("\r\n")), "HTTP/1.1 200 OK");
	size_t second = raw.got.find("HTTP/1.1 400 Bad Request");
	ASSERT_NE(second, std::string::npos) << raw.got;
	EXPECT_EQ(raw.got.substr(second - 7, 7), std::string(b7.begin(), b7.end()));
	EXPECT_NE(raw.got.find("Connection: close", second), std::string::npos);
}

TEST_F(TcpSvc, ClientFailures)
{
	// nobody listens: refused
	tern_tcp_cli_conf cc = cli_conf(TERN_TCP_CLI_HTTP_GET, 10);
	cli = tern_tcp_cli_create(A, &cc);
	ASSERT_NE(cli, nullptr);
	ASSERT_TRUE(run_until([&] { return cli_stats().state >= TERN_TCP_CLI_DONE; }));
	EXPECT_EQ(cli_stats().state, TERN_TCP_CLI_FAILED);
	EXPECT_EQ(cli_stats().err, ECONNREFUSED);
	tern_tcp_cli_destroy(cli);
	// 404
	serve(TERN_TCP_SVC_HTTP);
	snprintf(cc.path, sizeof(cc.path), "/nope");
	cli = tern_tcp_cli_create(A, &cc);
	ASSERT_NE(cli, nullptr);
	ASSERT_TRUE(run_until([&] { return cli_stats().state >= TERN_TCP_CLI_DONE; }));
	EXPECT_EQ(cli_stats().state, TERN_TCP_CLI_FAILED);
	EXPECT_EQ(cli_stats().http_status, 404);
	EXPECT_STREQ(cli_stats().why, "HTTP status 404");
	tern_tcp_cli_destroy(cli);
	// a Content-Length other than the bytes expected
	snprintf(cc.path, sizeof(cc.path), "/bytes/11");
	cli = tern_tcp_cli_create(A, &cc);
	ASSERT_NE(cli, nullptr);
	ASSERT_TRUE(run_until([&] { return cli_stats().state >= TERN_TCP_CLI_DONE; }));
	EXPECT_EQ(cli_stats().state, TERN_TCP_CLI_FAILED);
	EXPECT_STREQ(cli_stats().why, "Content-Length 11, expected 10");
	tern_tcp_cli_destroy(cli);
	cli = nullptr;
	ASSERT_TRUE(run_until([&] { return quiet(); }));
}

TEST_F(TcpSvc, DestroyResetsOpenConnections)
{
	serve(TERN_TCP_SVC_HTTP);
	tern_tcp_cli_conf cc = cli_conf(TERN_TCP_CLI_HTTP_GET, 50000000);
	cli = tern_tcp_cli_create(A, &cc);
	ASSERT_NE(cli, nullptr);
	ASSERT_TRUE(run_until([&] { return cli_stats().body_bytes > 100000; }));
	EXPECT_EQ(svc_stats().active, 1u);
	tern_tcp_svc_destroy(svc);	// in the middle of the body
	svc = nullptr;
	ASSERT_TRUE(run_until([&] { return cli_stats().state >= TERN_TCP_CLI_DONE; }));
	EXPECT_EQ(cli_stats().state, TERN_TCP_CLI_FAILED);
	EXPECT_EQ(cli_stats().err, ECONNRESET);
	// the pool is full again at teardown (every body mbuf returned)
}

TEST(TcpSvcConf, ChecksNameTheField)
{
	tern_tcp_svc_conf s;
	memset(&s, 0, sizeof(s));
	const char *why = nullptr;
	s.kind = TERN_TCP_SVC_HTTP;
	EXPECT_EQ(tern_tcp_svc_conf_check(&s, &why), -EINVAL);
	EXPECT_STREQ(why, "port: must be 1..65535");
	s.port = 80;
	EXPECT_EQ(tern_tcp_svc_conf_check(&s, &why), 0);
	s.kind = TERN_TCP_SVC_ECHO;
	s.has_bytes = true;
	EXPECT_EQ(tern_tcp_svc_conf_check(&s, &why), -EINVAL);
	EXPECT_STREQ(why, "bytes: only an http service has a body");

	tern_tcp_cli_conf c;
	memset(&c, 0, sizeof(c));
	c.mode = TERN_TCP_CLI_SEND;
	c.remote = v4(kIpB);
	c.port = 9;
	EXPECT_EQ(tern_tcp_cli_conf_check(&c, &why), -EINVAL);
	EXPECT_STREQ(why, "bytes: a send client needs it");
	c.has_bytes = true;
	EXPECT_EQ(tern_tcp_cli_conf_check(&c, &why), 0);
	c.mode = TERN_TCP_CLI_HTTP_GET;
	snprintf(c.path, sizeof(c.path), "nope");
	EXPECT_EQ(tern_tcp_cli_conf_check(&c, &why), -EINVAL);
	EXPECT_STREQ(why, "path: must start with /");
	snprintf(c.path, sizeof(c.path), "/a b");
	EXPECT_EQ(tern_tcp_cli_conf_check(&c, &why), -EINVAL);
	EXPECT_STREQ(why, "path: no spaces or control characters");
}
