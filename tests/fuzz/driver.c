/* Runs a fuzz target without libFuzzer: every file of the seed corpus, then a fixed number of
 * deterministic mutations of each (bit flips, truncations, splices, length fields pushed to
 * their bounds). It gives every build, sanitizers included, a regression run of the parsers;
 * the real coverage-guided search is the libFuzzer build (meson -Dfuzz=enabled with clang). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define INPUT_MAX (4 * 1024 * 1024)
#define MUTATIONS 4000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
	size_t at = *len > 0 ? next() % *len : 0;

	switch (next() % 6) {
	case 0:
		if (*len > 0)
			buf[at] ^= (uint8_t)(1U << (next() % 8));
		break;
	case 1:
		*len = at;
		break;
	case 2:
		if (*len > 0)
			buf[at] = (uint8_t)next();
		break;
	case 3: /* a length-looking byte pair pushed to an extreme */
		if (*len > 1)
			buf[at] = buf[at + (at + 1 < *len)] = (next() & 1) ? 0xff : 0x00;
		break;
	case 4:
		if (*len < cap)
			buf[(*len)++] = (uint8_t)next();
		break;
	default: /* duplicate a slice */
		if (*len > 0 && *len < cap / 2) {
			size_t n = next() % (*len - at) + 1;
			memmove(buf + at + n, buf + at, *len - at);
			*len += n;
		}
	}
}

static int run_file(const char *path, uint8_t *seed, uint8_t *work)
{
	FILE *fp = fopen(path, "rb");
	size_t len;

	if (fp == NULL)
		return -1;
	len = fread(seed, 1, INPUT_MAX / 2, fp);
	fclose(fp);
	LLVMFuzzerTestOneInput(seed, len);
	for (int i = 0; i < MUTATIONS; i++) {
		size_t n = len;
		memcpy(work, seed, len);
		for (uint64_t k = next() % 4 + 1; k > 0; k--)
			mutate(work, &n, INPUT_MAX);
		LLVMFuzzerTestOneInput(work, n);
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *seed = malloc(INPUT_MAX), *work = malloc(INPUT_MAX);
	int files = 0;

	if (argc != 2 || seed == NULL || work == NULL) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	DIR *d = opendir(argv[1]);
	struct dirent *e;
	if (d == NULL) {
		perror(argv[1]);
		return 2;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		if (run_file(path, seed, work) == 0)
			files++;
	}
	closedir(d);
	free(seed);
	free(work);
	printf("%d seed files, %d mutations each\n", files, MUTATIONS);
	return files > 0 ? 0 : 1;
}
