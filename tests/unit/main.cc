// tern_unit: starts EAL once (no hugepages, no shared config, no PCI) and
// runs every GoogleTest. Each test makes its own mempool and stacks, so
// tests stay independent inside the one EAL.
#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_errno.h>

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);
	// --in-memory is refused together with --no-huge in DPDK 22.11;
	// --no-shconf keeps parallel runs from sharing a runtime directory,
	// --no-telemetry from fighting over the telemetry socket.
	char *eal_argv[] = {
		(char *)"tern_unit", (char *)"--no-huge", (char *)"--no-shconf",
		(char *)"--no-pci", (char *)"-m", (char *)"256", (char *)"-l",
		(char *)"0", (char *)"--no-telemetry",
		(char *)"--log-level=lib.eal:error",
	};
	int eal_argc = sizeof(eal_argv) / sizeof(eal_argv[0]);
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "tern_unit: rte_eal_init: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	int rc = RUN_ALL_TESTS();
	rte_eal_cleanup();
	return rc;
}
