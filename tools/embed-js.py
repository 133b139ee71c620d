#!/usr/bin/env python3
"""Embed a script in C: embed-js.py INPUT.js OUTPUT.h NAME writes `static const char NAME[]`
holding INPUT's text and a NUL, whole-line // comments and blank lines dropped (the browser
never needs them), every other line kept as written. The text is written as bytes: a string
literal that long is beyond what ISO C requires compilers to accept (-Woverlength-strings)."""
import sys


def main():
    src, dst, name = sys.argv[1:4]
    with open(src, encoding="utf-8") as f:
        lines = [line.rstrip() for line in f]
    kept = [line for line in lines if line.strip() and not line.strip().startswith("//")]
    text = "\n".join(kept) + "\n"
    if not text.isascii():  # the bytes are chars, signed on most targets: \u escapes instead
        sys.exit("%s: write non-ASCII characters as \\u escapes" % src)
    data = text.encode("ascii") + b"\0"
    body = "\n".join("\t" + ", ".join("0x%02x" % b for b in data[i:i + 12]) + ","
                     for i in range(0, len(data), 12))
    with open(dst, "w", encoding="utf-8") as f:
        f.write("/* Generated from %s by tools/embed-js.py: do not edit. */\n" %
                src.rsplit("/", 1)[-1])
        f.write("static const char %s[] = {\n%s\n};\n" % (name, body))


if __name__ == "__main__":
    main()
