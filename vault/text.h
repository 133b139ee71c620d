/* Checks on text shared by every format: UTF-8 and lowercase hexadecimal ids. */
#ifndef SESAME_VAULT_TEXT_H
#define SESAME_VAULT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the one well-formed UTF-8 sequence at p, within left bytes, or 0: no
 * overlongs, no surrogates, nothing past U+10FFFF, no truncated sequence. Which control
 * characters are allowed is each caller's rule. */
size_t text_utf8_next(const uint8_t *p, size_t left);

/* 1 if all of s[0..len) is well-formed UTF-8 in the sense of text_utf8_next, else 0. */
int text_utf8_valid(const uint8_t *s, size_t len);

/* 1 if the character p[0..n) (one sequence from text_utf8_next, n >= 1) must never reach a
 * terminal or a reader as itself: C0 and C1 controls, DEL, the line and paragraph separators
 * (U+2028, U+2029), and the bidirectional marks, embeddings, overrides and isolates (U+061C,
 * U+200E, U+200F, U+202A..U+202E, U+2066..U+2069). Shown text replaces them with '?'. */
int text_char_unsafe(const uint8_t *p, size_t n);

/* 1 if all of s[0..len) is [0-9a-f], the spelling of every id Sesame writes, else 0. */
int text_hex_lower(const char *s, size_t len);

/* The value of one hexadecimal digit of either case, or -1. */
int text_hex_digit(char c);

#endif
