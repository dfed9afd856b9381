/* Linux baseline for tern_bench_udp_null: the kernel's UDP send path onto
 * a `dummy` device (which, like net_null, discards every frame), with
 * sendmmsg() batches of the same burst size. Run inside a network
 * namespace that scripts/bench.sh prepares:
 *   linux_udp_dummy DST_IP SECONDS FRAME_SIZE BURST
 * Prints packets/s and TSC cycles per packet (user + kernel time of the
 * one core it runs on). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s DST_IP SECONDS FRAME_SIZE BURST\n", argv[0]);
		return 2;
	}
	double secs = atof(argv[2]);
	int size = atoi(argv[3]), burst = atoi(argv[4]);
	if (secs <= 0 || size < 64 || size > 1518 || burst < 1 || burst > 256) {
		fprintf(stderr, "linux_udp_dummy: bad arguments\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(9)};
	if (fd < 0 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		perror("linux_udp_dummy: socket/connect");
		return 1;
	}
	size_t payload = (size_t)size - 46; /* eth 14 + ip 20 + udp 8 + fcs 4 */
	char *buf = calloc(1, payload);
	struct mmsghdr *msgs = calloc((size_t)burst, sizeof(*msgs));
	struct iovec iov = {.iov_base = buf, .iov_len = payload};
	for (int i = 0; i < burst; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	uint64_t sent = 0, fails = 0;
	double t0 = now_s(), end = t0 + secs;
	uint64_t c0 = __rdtsc();
	while (now_s() < end) {
		for (int k = 0; k < 64; k++) {
			int n = sendmmsg(fd, msgs, (unsigned)burst, 0);
			if (n > 0)
				sent += (uint64_t)n;
			else
				fails++;
		}
	}
	uint64_t cycles = __rdtsc() - c0;
	double dt = now_s() - t0;
	printf("%-46s %8.3f Mpps  %8.1f cycles/pkt  (%llu pkts, %llu failed calls)\n",
	       "linux kernel UDP, sendmmsg -> discard dev", (double)sent / dt / 1e6,
	       sent ? (double)cycles / (double)sent : 0.0,
	       (unsigned long long)sent, (unsigned long long)fails);
	free(msgs);
	free(buf);
	close(fd);
	return 0;
}
