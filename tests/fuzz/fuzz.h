/* libFuzzer entry point, shared by the fuzz targets and by the corpus driver. */
#ifndef SESAME_TESTS_FUZZ_H
#define SESAME_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
