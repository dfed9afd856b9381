/* libFuzzer entry: scripts/fuzz.sh builds it with clang
 * (-fsanitize=fuzzer,address) and runs it over tests/fuzz/corpus. */
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "fuzz_frame.h"

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
	if (tern_fuzz_frame(data, len) != 0)
		abort(); /* leaked mbufs: keep the input as a crash */
	return 0;
}
