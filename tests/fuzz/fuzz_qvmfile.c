/*
 * fuzz_qvmfile: libFuzzer target for the qvm-file reader (qvmfile_parse,
 * with ynode's bounded loader under it), the argv builder (vmargs_build)
 * and the seed's YAML writer (seed_user_data, seed_meta_data,
 * seed_network_config through ynode_emit). The rules checked on every
 * accepted input are in oracle.h.
 *
 * Built and run by tests/fuzz/run.sh (make fuzz):
 *   clang -fsanitize=fuzzer,address,undefined
 */
#include <stdint.h>
#include <stdio.h>

#include "oracle.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* qvm reports through msg_error(); nobody needs to read it here. */
	FILE *null = fopen("/dev/null", "w");

	(void)argc;
	(void)argv;
	if (!null)
		abort();
	msg_set_streams(null, null);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return qvm_fuzz_one(data, size);
}
