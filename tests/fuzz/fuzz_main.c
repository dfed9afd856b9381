/* libFuzzer entry: scripts/fuzz.sh builds it with clang
 * (-fsanitize=fuzzer,address) and runs it over tests/fuzz/corpus
 * (tern_fuzz_frame) or, built with -DTERN_FUZZ_TCP, over
 * tests/fuzz/tcp_corpus (tern_fuzz_tcp). */
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>

#ifdef TERN_FUZZ_TCP
#include "fuzz_tcp.h"
#else
#include "fuzz_frame.h"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	char *eal[] = {
		(*argv)[0], "--no-huge", "--no-shconf", "--no-pci", "-m", "256",
		"-l", "0", "--no-telemetry", "--log-level=lib.eal:error",
		"--log-level=*:error",
	};
	if (rte_eal_init(sizeof(eal) / sizeof(eal[0]), eal) < 0) {
		fprintf(stderr, "fuzz: rte_eal_init: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
#ifdef TERN_FUZZ_TCP
	if (tern_fuzz_tcp_one(data, len) != 0)
		abort(); /* a leak or a failed check: keep the input as a crash */
#else
	if (tern_fuzz_frame(data, len) != 0)
		abort(); /* leaked mbufs: keep the input as a crash */
#endif
	return 0;
}
