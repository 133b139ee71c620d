/* C2SP signed notes and checkpoints: golang.org/x/mod/sumdb/note known answers, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit_testutil.h"
#include "error.h"
#include "note.h"

static const char peter_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char enoch_vkey[] = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char peter_skey_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char text[] = "If you think cryptography is the answer to your problem,\n"
			   "then you don't know what your problem is.\n";

static void test_verifier_parse(void **state)
{
	struct note_verifier v;
	char out[NOTE_VKEY_MAX];
	char mangled[sizeof(peter_vkey)];

	(void)state;
	assert_int_equal(note_verifier_parse(peter_vkey, strlen(peter_vkey), &v), VAULT_OK);
	assert_string_equal(v.name, "PeterNeumann");
	assert_int_equal(v.keyid[0], 0xc7);
	assert_int_equal(note_verifier_format(&v, out, sizeof(out)), VAULT_OK);
	assert_string_equal(out, peter_vkey);
	assert_int_equal(note_verifier_parse(enoch_vkey, strlen(enoch_vkey), &v), VAULT_OK);
	/* Every one-byte change and every proper substring is refused, as in note_test.go. */
	for (size_t i = 0; i < strlen(peter_vkey); i++) {
		memcpy(mangled, peter_vkey, sizeof(mangled));
		mangled[i]++;
		assert_int_equal(note_verifier_parse(mangled, strlen(mangled), &v), VAULT_E_KEY);
		assert_int_equal(note_verifier_parse(peter_vkey, i, &v), VAULT_E_KEY);
		assert_int_equal(
		    note_verifier_parse(peter_vkey + i + 1, strlen(peter_vkey) - i - 1, &v),
		    VAULT_E_KEY);
	}
	/* Wrong-length key and unknown algorithm, with adjusted key ids (note_test.go). */
	assert_int_equal(
	    note_verifier_parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
				"LDE4izWy10TWBADKEY==",
				72 + 4, &v),
	    VAULT_E_KEY);
	assert_int_equal(
	    note_verifier_parse(
		"PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", 66, &v),
	    VAULT_E_KEY);
}

static void peter_sk(uint8_t sk[NOTE_SK_LEN])
{
	uint8_t key[33], pub[NOTE_PUB_LEN];
	size_t len;

	assert_int_equal(sodium_base642bin(key, sizeof(key), peter_skey_b64, strlen(peter_skey_b64),
					   NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(len, 33);
	assert_int_equal(key[0], NOTE_ALG_ED25519);
	crypto_sign_seed_keypair(pub, sk, key + 1);
	sodium_memzero(key, sizeof(key));
}

static void test_known_answer(void **state)
{
	size_t len, body;
	char *note = atu_data("note-peterneumann.txt", &len);
	struct note_verifier peter, enoch;
	uint8_t sk[NOTE_SK_LEN];
	char out[NOTE_MAX];
	size_t outlen;
	const char *sig1;

	(void)state;
	assert_non_null(note);
	assert_int_equal(note_verifier_parse(peter_vkey, strlen(peter_vkey), &peter), VAULT_OK);
	assert_int_equal(note_verifier_parse(enoch_vkey, strlen(enoch_vkey), &enoch), VAULT_OK);
	assert_int_equal(note_open((uint8_t *)note, len, &peter, &body), VAULT_OK);
	assert_int_equal(body, strlen(text));
	assert_memory_equal(note, text, body);
	assert_int_equal(note_open((uint8_t *)note, len, &enoch, &body), VAULT_OK);

	/* Signing with the published private key gives the published signature line. */
	peter_sk(sk);
	assert_int_equal(
	    note_sign(text, strlen(text), "PeterNeumann", sk, out, sizeof(out), &outlen), VAULT_OK);
	sodium_memzero(sk, sizeof(sk));
	sig1 = strchr(strstr(note, "\n\n") + 2, '\n') + 1; /* end of the first signature line */
	assert_int_equal(outlen, (size_t)(sig1 - note));
	assert_memory_equal(out, note, outlen);

	/* An altered signature is refused; an altered text too. */
	note[strlen(text) + 1 + 3 + 13 + 10] ^= 1;
	assert_int_equal(note_open((uint8_t *)note, len, &peter, &body), VAULT_E_SIGNATURE);
	note[strlen(text) + 1 + 3 + 13 + 10] ^= 1;
	note[5] ^= 1;
	assert_int_equal(note_open((uint8_t *)note, len, &peter, &body), VAULT_E_SIGNATURE);
	note[5] ^= 1;
	free(note);
}

static void test_malformed(void **state)
{
	struct note_verifier peter;
	char buf[1024];
	size_t body;
	const char *sig = "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNI"
			  "uGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
	struct {
		const char *a, *b, *c;
	} bad[] = {
	    {"", text, ""},	  {"", text, "\n"},
	    {"\x01", text, "\n"}, {"", text, "\n- PeterNeumann x08go/ZJku\n"},
	    {"", text, "\n\n"},
	};

	(void)state;
	assert_int_equal(note_verifier_parse(peter_vkey, strlen(peter_vkey), &peter), VAULT_OK);
	snprintf(buf, sizeof(buf), "%s\n%s", text, sig);
	assert_int_equal(note_open((uint8_t *)buf, strlen(buf), &peter, &body), VAULT_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s%s%s", bad[i].a, bad[i].b, bad[i].c,
			 bad[i].a[0] ? sig : "");
		assert_int_equal(note_open((uint8_t *)buf, strlen(buf), &peter, &body),
				 VAULT_E_CHECKPOINT);
	}
	snprintf(buf, sizeof(buf), "%s\n%sUnexpected line.\n", text, sig);
	assert_int_equal(note_open((uint8_t *)buf, strlen(buf), &peter, &body), VAULT_E_CHECKPOINT);
	/* Signature by a key nobody asked about: unknown key. */
	snprintf(buf, sizeof(buf),
		 "%s\n\xe2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+"
		 "MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n",
		 text);
	assert_int_equal(note_open((uint8_t *)buf, strlen(buf), &peter, &body), VAULT_E_KEY);
	/* 101 signature lines is malformed. */
	{
		char *many = malloc(101 * strlen(sig) + sizeof(text) + 2);
		size_t pos = (size_t)sprintf(many, "%s\n", text);
		for (int i = 0; i < 101; i++)
			pos += (size_t)sprintf(many + pos, "%s", sig);
		assert_int_equal(note_open((uint8_t *)many, pos, &peter, &body),
				 VAULT_E_CHECKPOINT);
		free(many);
	}
}

static void test_checkpoint_roundtrip(void **state)
{
	uint8_t pub[NOTE_PUB_LEN], sk[NOTE_SK_LEN], pub2[NOTE_PUB_LEN], sk2[NOTE_SK_LEN];
	struct note_verifier v, v2;
	struct checkpoint cp, got;
	char note[NOTE_MAX], vtext[NOTE_VKEY_MAX];
	size_t len;

	(void)state;
	crypto_sign_keypair(pub, sk);
	crypto_sign_keypair(pub2, sk2);
	assert_int_equal(note_verifier_init(&v, "sesame.audit/test", pub), VAULT_OK);
	assert_int_equal(note_verifier_init(&v2, "sesame.audit/test", pub2), VAULT_OK);
	assert_int_equal(note_verifier_format(&v, vtext, sizeof(vtext)), VAULT_OK);
	assert_int_equal(note_verifier_parse(vtext, strlen(vtext), &v2), VAULT_OK);
	assert_memory_equal(v2.pub, pub, NOTE_PUB_LEN);
	assert_int_equal(note_verifier_init(&v2, "sesame.audit/test", pub2), VAULT_OK);
	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, "sesame.audit/test");
	cp.size = 1234567;
	randombytes_buf(cp.root, sizeof(cp.root));
	assert_int_equal(checkpoint_sign(&cp, v.name, sk, note, sizeof(note), &len), VAULT_OK);
	assert_non_null(strstr(note, "sesame.audit/test\n1234567\n"));
	assert_int_equal(checkpoint_open((uint8_t *)note, len, &v, "sesame.audit/test", &got),
			 VAULT_OK);
	assert_int_equal(got.size, cp.size);
	assert_memory_equal(got.root, cp.root, MERKLE_HASH_LEN);
	assert_int_equal(checkpoint_open((uint8_t *)note, len, &v2, "sesame.audit/test", &got),
			 VAULT_E_KEY);
	assert_int_equal(checkpoint_open((uint8_t *)note, len, &v, "sesame.audit/other", &got),
			 VAULT_E_CHECKPOINT);
	/* Sizes with a sign or leading zeros are malformed. */
	assert_int_equal(
	    checkpoint_body_parse((const uint8_t *)"o\n012\n"
						   "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
				  51, &got),
	    VAULT_E_CHECKPOINT);
	assert_int_equal(
	    checkpoint_body_parse((const uint8_t *)"o\n12\n"
						   "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
				  50, &got),
	    VAULT_OK);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sk2, sizeof(sk2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verifier_parse),
	    cmocka_unit_test(test_known_answer),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_checkpoint_roundtrip),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
