/*
 * oracle: what must hold for any input qvm's file reader accepts. Shared by
 * the libFuzzer target (fuzz_qvmfile.c) and the cmocka test that replays
 * what the fuzzer found (tests/test_hostile.c), so a fixture keeps being
 * checked by `make check` without clang.
 *
 * qvm_fuzz_one(data, size) feeds the bytes to qvmfile_parse() and, when
 * they parse:
 *   - vmargs_build() succeeds (qvmfile.h: the whole vm document must turn
 *     into virt-install arguments), argv[0] is virt-install, no argument
 *     holds a control character, no value is a word that starts with '-'
 *     (virt-install would take it for an option), the zvol disk's path is
 *     given exactly once, and the seed is the last argument, as a cdrom
 *     disk;
 *   - user-data is its payload byte for byte, or "#cloud-config\n" and
 *     then YAML that loads back into one document saying what the file's
 *     user-data says (less its "qvm" key): same shape, same texts, same
 *     types as YAML 1.1 (PyYAML, cloud-init) resolves them (a null stays
 *     a null, "0755" stays a string), same anchors and aliases;
 *   - meta-data and network-config load back the same way, and meta-data
 *     has instance-id and local-hostname.
 * A broken rule prints what broke (and the text) and aborts, which the
 * fuzzer reports as a crash and cmocka as a failed test.
 */
#ifndef QVM_FUZZ_ORACLE_H
#define QVM_FUZZ_ORACLE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "msg.h"
#include "qvmfile.h"
#include "seed.h"
#include "strvec.h"
#include "vmargs.h"
#include "ynode.h"

/* What a broken rule does after saying so: abort() for the fuzzer; the
 * cmocka test defines it to fail(). */
#ifndef ORACLE_STOP
#define ORACLE_STOP() abort()
#endif

#define ORACLE_DEVICE "/dev/zvol/tank/fuzz"
#define ORACLE_ISO "/var/lib/qvm/fuzz/seed.iso"

__attribute__((format(printf, 1, 2), noreturn))
static void oracle_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("oracle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ORACLE_STOP();
	abort();
}

/* How many option words qvm means to pass: one per top-level key (none
 * for false, one per list item), plus --noautoconsole --import --disk. */
static size_t oracle_options_meant(const struct ynode *doc)
{
	size_t n = 3;

	for (size_t i = 0; i + 1 < doc->n; i += 2) {
		const struct ynode *v = doc->items[i + 1];

		if (!strcmp(doc->items[i]->value, "qvm"))
			continue;
		if (v->type == YNODE_SEQ) {
			for (size_t j = 0; j < v->n; j++)
				n += ynode_bool(v->items[j]) != 0;
		} else {
			n += ynode_bool(v) != 0;
		}
	}
	return n;
}

/* Words starting with '-' after argv[0]: what virt-install may take for
 * options. */
static size_t oracle_option_words(const struct strvec *argv)
{
	size_t n = 0;

	for (size_t i = 1; i < argv->n; i++)
		n += argv->v[i][0] == '-';
	return n;
}

static void oracle_argv(const struct strvec *argv, const struct ynode *doc)
{
	size_t zvol_paths = 0;
	char seed[256];

	if (argv->n < 5 || strcmp(argv->v[0], "virt-install") != 0)
		oracle_fail("argv does not start with virt-install");
	for (size_t i = 0; i < argv->n; i++) {
		const unsigned char *c = (const unsigned char *)argv->v[i];

		for (; *c; c++)
			if (*c < 0x20 || *c == 0x7f)
				oracle_fail("argv[%zu] holds control character "
					    "0x%02x: '%s'", i, *c, argv->v[i]);
		if (i > 0 && !strcmp(argv->v[i - 1], "--disk") &&
		    !strncmp(argv->v[i], "path=" ORACLE_DEVICE,
			     strlen("path=" ORACLE_DEVICE)))
			zvol_paths++;
	}
	if (zvol_paths != 1)
		oracle_fail("the zvol disk's path is given %zu times",
			    zvol_paths);
	/* A value that starts with '-' must not be a word of its own: where
	 * the option before it takes an optional value (--cloud-init,
	 * --unattended, --wait), virt-install reads it as an option. */
	if (oracle_option_words(argv) != oracle_options_meant(doc))
		oracle_fail("%zu option words for %zu options: a value became "
			    "an option", oracle_option_words(argv),
			    oracle_options_meant(doc));
	snprintf(seed, sizeof(seed), "path=%s,device=cdrom", ORACLE_ISO);
	if (strcmp(argv->v[argv->n - 2], "--disk") != 0 ||
	    strcmp(argv->v[argv->n - 1], seed) != 0)
		oracle_fail("the seed is not the last argument: '%s %s'",
			    argv->v[argv->n - 2], argv->v[argv->n - 1]);
}

/* What PyYAML's safe_load (YAML 1.1, cloud-init's reader) makes of a
 * scalar, the one rule qvm applies (ynode_kind); other tags by name. */
static const char *oracle_type(const struct ynode *n)
{
	static const char *const names[] = {
		[YNODE_STR] = "str", [YNODE_NULL] = "null",
		[YNODE_BOOL] = "bool", [YNODE_INT] = "int",
		[YNODE_FLOAT] = "float", [YNODE_TIMESTAMP] = "timestamp",
	};
	enum ynode_kind k = ynode_kind(n);

	if (k != YNODE_OTHER)
		return names[k];
	return n->tag ? n->tag : n->value;	/* "<<", "=" */
}

static const char *oracle_kind(enum ynode_type t)
{
	return t == YNODE_SCALAR ? "scalar" : t == YNODE_MAP ? "mapping" :
	       t == YNODE_SEQ ? "sequence" : "alias";
}

/* Does b say what a says? Same shape, same texts, same types, same anchors
 * and aliases. Keys of a's top level listed in skip are not in b. Returns
 * NULL, or where they differ (in a static buffer). */
static const char *oracle_differ(const struct ynode *a, const struct ynode *b,
				 const char *skip, const char *path)
{
	static char where[512];
	size_t bi = 0;

	if (a->type != b->type) {
		snprintf(where, sizeof(where), "%s: a %s became a %s", path,
			 oracle_kind(a->type), oracle_kind(b->type));
		return where;
	}
	if ((a->anchor == NULL) != (b->anchor == NULL) ||
	    (a->anchor && strcmp(a->anchor, b->anchor))) {
		snprintf(where, sizeof(where), "%s: anchor &%s became &%s",
			 path, a->anchor ? a->anchor : "", b->anchor ? b->anchor : "");
		return where;
	}
	switch (a->type) {
	case YNODE_ALIAS:
	case YNODE_SCALAR:
		/* "", "~" and "null" are one null; where an empty one cannot
		 * be written (in flow, as a key) qvm writes "~". */
		if (a->type == YNODE_SCALAR && b->type == YNODE_SCALAR &&
		    !strcmp(oracle_type(a), "null") &&
		    !strcmp(oracle_type(b), "null"))
			return NULL;
		if (a->len != b->len || memcmp(a->value, b->value, a->len)) {
			snprintf(where, sizeof(where), "%s: '%s' became '%s'",
				 path, a->value, b->value);
			return where;
		}
		if (a->type == YNODE_SCALAR &&
		    strcmp(oracle_type(a), oracle_type(b)) != 0) {
			snprintf(where, sizeof(where), "%s: '%s', a %s, became "
				 "a %s", path, a->value, oracle_type(a),
				 oracle_type(b));
			return where;
		}
		return NULL;
	case YNODE_MAP:
	case YNODE_SEQ:
		for (size_t i = 0; i < a->n; i++) {
			char sub[512];
			const char *d;

			if (skip && a->type == YNODE_MAP && i % 2 == 0 &&
			    a->items[i]->type == YNODE_SCALAR &&
			    !strcmp(a->items[i]->value, skip)) {
				i++;
				continue;
			}
			if (bi >= b->n) {
				snprintf(where, sizeof(where), "%s: item %zu "
					 "is missing", path, i);
				return where;
			}
			snprintf(sub, sizeof(sub), "%s/%zu", path, i);
			d = oracle_differ(a->items[i], b->items[bi++], NULL,
					  sub);
			if (d)
				return d;
		}
		return NULL;
	}
	return NULL;
}

/* text, which qvm wrote from src (less its "qvm" key), must load back as
 * one document that says the same; extra top-level keys may follow. */
static struct ystream oracle_reload(const char *what, const char *text,
				    const struct ynode *src)
{
	struct ystream s;
	char errbuf[512];
	const char *d;

	memset(&s, 0, sizeof(s));
	if (ystream_load(text, strlen(text), &s, errbuf, sizeof(errbuf)) < 0)
		oracle_fail("the %s qvm writes does not load back: %s\n"
			    "--- %s:\n%s---", what, errbuf, what, text);
	if (s.n != 1)
		oracle_fail("the %s qvm writes loads back as %zu documents\n"
			    "--- %s:\n%s---", what, s.n, what, text);
	d = oracle_differ(src, s.docs[0], "qvm", "");
	if (d)
		oracle_fail("the %s qvm writes does not say what the file "
			    "says: %s\n--- %s:\n%s---", what, d, what, text);
	return s;
}

static int qvm_fuzz_one(const uint8_t *data, size_t size)
{
	struct strvec argv = STRVEC_INIT;
	struct qvmfile qf;
	struct ystream s;
	char errbuf[512];
	char *text;

	if (qvmfile_parse("fuzz.yaml", (const char *)data, size, &qf) < 0)
		return 0;

	if (vmargs_build(qf.doc[QVM_DOC_VM], ORACLE_DEVICE, ORACLE_ISO, &argv,
			 errbuf, sizeof(errbuf)) < 0)
		oracle_fail("qvmfile_parse accepted a vm document that "
			    "vmargs_build refuses: %s", errbuf);
	oracle_argv(&argv, qf.doc[QVM_DOC_VM]);
	strvec_clear(&argv);

	text = seed_user_data(&qf, errbuf, sizeof(errbuf));
	if (!text)
		oracle_fail("no user-data for an accepted file: %s", errbuf);
	if (qf.payload) {
		if (strlen(text) != qf.payload_len ||
		    memcmp(text, qf.payload, qf.payload_len) != 0)
			oracle_fail("user-data is not the payload as written");
	} else {
		if (strncmp(text, "#cloud-config\n", 14) != 0)
			oracle_fail("user-data does not start with "
				    "#cloud-config");
		s = oracle_reload("user-data", text + 14,
				  qf.doc[QVM_DOC_USER_DATA]);
		ystream_free(&s);
	}
	free(text);

	text = seed_meta_data(&qf, "fuzz-0123abcd", errbuf, sizeof(errbuf));
	if (!text)
		oracle_fail("no meta-data for an accepted file: %s", errbuf);
	s = oracle_reload("meta-data", text, qf.doc[QVM_DOC_META_DATA]);
	if (s.n != 1 || s.docs[0]->type != YNODE_MAP ||
	    !ynode_map_get(s.docs[0], "instance-id") ||
	    !ynode_map_get(s.docs[0], "local-hostname"))
		oracle_fail("meta-data lacks instance-id or local-hostname\n"
			    "--- meta-data:\n%s---", text);
	ystream_free(&s);
	free(text);

	if (qf.doc[QVM_DOC_NETWORK_CONFIG]) {
		text = seed_network_config(&qf, errbuf, sizeof(errbuf));
		if (!text)
			oracle_fail("no network-config for an accepted file: "
				    "%s", errbuf);
		s = oracle_reload("network-config", text,
				  qf.doc[QVM_DOC_NETWORK_CONFIG]);
		ystream_free(&s);
		free(text);
	}
	qvmfile_free(&qf);
	return 0;
}

#endif
