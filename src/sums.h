/*
 * sums: the expected checksum of an image, from --sha256 or from a
 * checksum list as distributions publish it.
 *
 * sums_find() reads a list in either of the two styles in use:
 *   GNU (sha256sum, sha512sum): "HEX  NAME", "HEX *NAME" (binary mode) or
 *     "HEX NAME"; a line starting with '\' has an escaped NAME ("\\" for a
 *     backslash, "\n" for a newline, "\r" for a carriage return). Debian's
 *     SHA512SUMS, Ubuntu's SHA256SUMS.
 *   BSD (sha256sum --tag, OpenBSD, Fedora's CHECKSUM): "SHA256 (NAME) =
 *     HEX", also "SHA256(NAME)= HEX" as openssl writes it.
 * Blank lines, '#' comments, CRLF line ends and a UTF-8 byte order mark are
 * skipped, and so are the wrappers of an OpenPGP clearsigned list (its
 * armor headers, "- " dash escapes, and every line of a signature or key
 * block, even an unterminated one). The signature is not verified.
 *
 * The hash kind comes from the line: BSD lines name it; a GNU digest's
 * length says it (64 digits: SHA-256, 128: SHA-512). A list whose own file
 * name says a kind (its last path component contains "sha256" or "sha512",
 * any case: SHA256SUMS, image.sha512, ...) must agree with the entry.
 *
 * NAME matches the entry's name exactly, or with leading "./"; an entry
 * for another path ("sub/NAME", "/srv/NAME") is a different file and does
 * not match (the error then names it). Two entries of one kind that
 * disagree, or an entry for NAME that cannot be read (a digest that is
 * not hex or not 64/128 digits, a NUL in the line, a kind that contradicts
 * the list's name, only MD5 or SHA-1), are errors; other lines qvm cannot
 * read are skipped, as sha256sum -c does. With both a SHA-256 and a
 * SHA-512 entry for NAME, SHA-512 is used. The text is read in place: any
 * line length, no copy.
 */
#ifndef QVM_SUMS_H
#define QVM_SUMS_H

#include <stddef.h>

enum sums_kind { SUMS_SHA256, SUMS_SHA512 };

struct sums_entry {
	enum sums_kind kind;
	char hex[129];		/* lowercase, NUL-terminated */
};

/* The hash program for a kind: "sha256sum" / "sha512sum". */
const char *sums_program(enum sums_kind kind);

/* "SHA-256" / "SHA-512", for messages. */
const char *sums_kind_name(enum sums_kind kind);

/* --sha256 HEX: 64 (SHA-512: 128) hex digits, any case -> out. 0, or -1
 * with a reason in errbuf. */
int sums_from_hex(const char *hex, enum sums_kind kind,
		  struct sums_entry *out, char *errbuf, size_t errsize);

/* The entry for file name `name` in a checksum list (text of len bytes,
 * list_name its path or URL, used for the kind and in messages). 0, or -1
 * with a reason in errbuf ("no entry for NAME in LIST", ...). */
int sums_find(const char *text, size_t len, const char *list_name,
	      const char *name, struct sums_entry *out, char *errbuf,
	      size_t errsize);

#endif
