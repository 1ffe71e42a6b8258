/*
 * test_ynode: YAML in, the same YAML out; hostile YAML refused or tamed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "strvec.h"
#include "ynode.h"

static char errbuf[512];

static struct ystream load_ok(const char *text)
{
	struct ystream s;

	if (ystream_load(text, strlen(text), &s, errbuf, sizeof(errbuf)) < 0)
		fail_msg("unexpected error: %s", errbuf);
	return s;
}

/* Loads text that must be refused and returns the message. */
static const char *load_error(const char *text, size_t len)
{
	struct ystream s;

	errbuf[0] = '\0';
	assert_int_equal(ystream_load(text, len, &s, errbuf, sizeof(errbuf)),
			 -1);
	assert_int_equal(s.n, 0);
	return errbuf;
}

static const struct ynode *get(const struct ynode *map, const char *key)
{
	const struct ynode *n = ynode_map_get(map, key);

	if (!n)
		fail_msg("key '%s' not found", key);
	return n;
}

static const char cloud_config[] =
	"qvm: user-data\n"
	"write_files:\n"
	"  - path: /etc/motd\n"
	"    permissions: \"0755\"\n"
	"    content: |\n"
	"      first line\n"
	"      second line\n"
	"        indented third\n"
	"description: >\n"
	"  folded text\n"
	"  on two lines\n"
	"packages: [nginx, curl]\n"
	"tagged: !!str 123\n"
	"defaults: &defaults {shell: /bin/bash, lock_passwd: true}\n"
	"users:\n"
	"  - name: admin\n"
	"    settings: *defaults\n"
	"greeting: \"héllo wörld ✓ 日本\"\n"
	"single: 'it''s'\n"
	"long: \"" /* longer than any default line width */
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n";

/* Checks the cloud-config above, as loaded from the source or from what
 * ynode_emit wrote (minus the skipped "qvm" key). */
static void assert_cloud_config(const struct ynode *doc)
{
	const struct ynode *file, *n, *users;

	assert_int_equal(doc->type, YNODE_MAP);
	file = get(doc, "write_files")->items[0];
	n = get(file, "permissions");
	assert_string_equal(n->value, "0755");
	assert_int_equal(n->style, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	assert_false(ynode_is_plain(n, "0755"));
	n = get(file, "content");
	assert_string_equal(n->value,
			    "first line\nsecond line\n  indented third\n");
	assert_int_equal(n->style, YAML_LITERAL_SCALAR_STYLE);
	n = get(doc, "description");
	assert_string_equal(n->value, "folded text on two lines\n");
	assert_int_equal(n->style, YAML_FOLDED_SCALAR_STYLE);
	n = get(doc, "packages");
	assert_int_equal(n->type, YNODE_SEQ);
	assert_int_equal(n->style, YAML_FLOW_SEQUENCE_STYLE);
	assert_int_equal(n->n, 2);
	assert_string_equal(n->items[1]->value, "curl");
	n = get(doc, "tagged");
	assert_string_equal(n->value, "123");
	assert_string_equal(n->tag, YAML_STR_TAG);
	n = get(doc, "defaults");
	assert_string_equal(n->anchor, "defaults");
	assert_int_equal(n->style, YAML_FLOW_MAPPING_STYLE);
	assert_int_equal(ynode_bool(get(n, "lock_passwd")), 1);
	users = get(doc, "users");
	assert_int_equal(users->style, YAML_BLOCK_SEQUENCE_STYLE);
	n = get(users->items[0], "settings");
	assert_int_equal(n->type, YNODE_ALIAS);
	assert_string_equal(n->value, "defaults");
	assert_string_equal(get(doc, "greeting")->value,
			    "héllo wörld ✓ 日本");
	n = get(doc, "single");
	assert_string_equal(n->value, "it's");
	assert_int_equal(n->style, YAML_SINGLE_QUOTED_SCALAR_STYLE);
	assert_int_equal(get(doc, "long")->len, 143);
}

static void test_round_trip_keeps_values_and_styles(void **state)
{
	static const char *const skip[] = { "qvm", NULL };
	struct ystream src = load_ok(cloud_config), back;
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(src.n, 1);
	assert_cloud_config(src.docs[0]);

	out = ynode_emit(src.docs[0], skip, &len, errbuf, sizeof(errbuf));
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	/* What cloud-init will read: the "0755" still quoted, the literal
	 * still literal, the alias still an alias, no markers. */
	assert_non_null(strstr(out, "permissions: \"0755\"\n"));
	assert_non_null(strstr(out, "content: |\n"));
	assert_non_null(strstr(out, "description: >\n"));
	assert_non_null(strstr(out, "packages: [nginx, curl]\n"));
	assert_non_null(strstr(out, "tagged: !!str 123\n"));
	assert_non_null(strstr(out, "settings: *defaults\n"));
	assert_non_null(strstr(out, "héllo wörld ✓ 日本"));
	assert_null(strstr(out, "qvm"));
	assert_null(strstr(out, "---"));
	assert_null(strstr(out, "..."));
	assert_true(strncmp(out, "write_files:", 12) == 0);

	back = load_ok(out);
	assert_int_equal(back.n, 1);
	assert_null(ynode_map_get(back.docs[0], "qvm"));
	assert_cloud_config(back.docs[0]);
	free(out);
	ystream_free(&back);
	ystream_free(&src);
}

static void test_emit_keeps_a_string_tagged_with_bang_a_string(void **state)
{
	struct ystream s = load_ok("mode: ! 0644\nlist: ! [a]\n"
				   "s: ! \"0644x\"\nq: ! 'yes'\n"), back;
	char *out;

	(void)state;
	out = ynode_emit(s.docs[0], NULL, NULL, errbuf, sizeof(errbuf));
	assert_non_null(out);
	/* PyYAML (cloud-init) reads "! 0644", even "! '0644'", by its
	 * text: the number 0644. libyaml cannot write "!"; the resolved
	 * tag says the same. "! 0644x" is a string and comes back quoted. */
	assert_string_equal(out, "mode: !!int 0644\nlist: [a]\n"
			    "s: \"0644x\"\nq: !!bool 'yes'\n");
	back = load_ok(out);
	assert_int_equal(ynode_kind(get(back.docs[0], "mode")), YNODE_INT);
	assert_int_equal(ynode_kind(get(back.docs[0], "s")), YNODE_STR);
	assert_int_equal(ynode_kind(get(back.docs[0], "q")), YNODE_BOOL);
	free(out);
	ystream_free(&back);
	ystream_free(&s);
}

static void test_emit_keep_chomping_has_no_end_marker(void **state)
{
	struct ystream s = load_ok("a: |+\n  keep\n\n"), back;
	char *out;

	(void)state;
	out = ynode_emit(s.docs[0], NULL, NULL, errbuf, sizeof(errbuf));
	assert_non_null(out);
	assert_null(strstr(out, "..."));
	back = load_ok(out);
	assert_string_equal(get(back.docs[0], "a")->value, "keep\n\n");
	free(out);
	ystream_free(&back);
	ystream_free(&s);
}

static void test_emit_skips_only_top_level_keys(void **state)
{
	static const char *const skip[] = { "qvm", "drop", NULL };
	struct ystream s = load_ok("qvm: x\nkeep: {qvm: inner}\ndrop: 1\n");
	char *out;

	(void)state;
	out = ynode_emit(s.docs[0], skip, NULL, errbuf, sizeof(errbuf));
	assert_non_null(out);
	assert_string_equal(out, "keep: {qvm: inner}\n");
	free(out);
	ystream_free(&s);
}

/* libyaml's emitter escapes characters beyond U+FFFF ("\U0001F600")
 * even in unicode mode; qvm writes them as UTF-8, in the style given. */
static void test_emit_writes_emoji_as_utf8(void **state)
{
	/* A private-use character (U+E000) in the text too: not taken for
	 * qvm's own marker. */
	static const char text[] =
		"plain: \xf0\x9f\x98\x80 ok\n"
		"quoted: \"\\U0001F600 \\U0010FFFF \xee\x80\x80\"\n"
		"block: |\n  smile \xf0\x9f\x98\x80\n  \xf0\x90\x80\x80\n"
		"\xf0\x9f\x98\x80key: [\xf0\x9f\x8e\x89, \"\xee\x80\x81\"]\n";
	static const char want[] =
		"plain: \xf0\x9f\x98\x80 ok\n"
		"quoted: \"\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xee\x80\x80\"\n"
		"block: |\n  smile \xf0\x9f\x98\x80\n  \xf0\x90\x80\x80\n"
		"\xf0\x9f\x98\x80key: [\xf0\x9f\x8e\x89, \"\xee\x80\x81\"]\n";
	struct ystream s = load_ok(text);
	char *out;
	size_t len;

	(void)state;
	out = ynode_emit(s.docs[0], NULL, &len, errbuf, sizeof(errbuf));
	assert_non_null(out);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	assert_null(strstr(out, "\\U"));
	free(out);
	ystream_free(&s);
}

/* Leaving out a key that holds an anchor would leave its aliases
 * dangling: ynode_emit refuses (qvmfile refuses such files first). */
static void test_emit_refuses_to_drop_an_anchor(void **state)
{
	static const char *const skip[] = { "qvm", NULL };
	struct ystream s = load_ok("qvm: &a x\nb: *a\n");
	struct ystream t = load_ok("&k qvm: x\nb: *k\n");

	(void)state;
	assert_null(ynode_emit(s.docs[0], skip, NULL, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf,
			    "cannot write YAML: an anchor on a key left out");
	assert_null(ynode_emit(t.docs[0], skip, NULL, errbuf, sizeof(errbuf)));
	ystream_free(&s);
	ystream_free(&t);
}

static void test_emit_empty_mapping_after_skipping(void **state)
{
	static const char *const skip[] = { "qvm", NULL };
	struct ystream s = load_ok("qvm: user-data\n"), back;
	char *out;

	(void)state;
	out = ynode_emit(s.docs[0], skip, NULL, errbuf, sizeof(errbuf));
	assert_non_null(out);
	back = load_ok(out);
	assert_int_equal(back.docs[0]->type, YNODE_MAP);
	assert_int_equal(back.docs[0]->n, 0);
	free(out);
	ystream_free(&back);
	ystream_free(&s);
}

static void test_documents_and_their_lines(void **state)
{
	struct ystream s = load_ok("---\na: 1\n...\n---\nb: 2\n---\n- x\n");

	(void)state;
	assert_int_equal(s.n, 3);
	assert_int_equal(s.line[0], 1);
	assert_int_equal(s.line[1], 4);
	assert_int_equal(s.docs[1]->line, 5);
	assert_int_equal(s.docs[1]->column, 1);
	assert_int_equal(s.docs[2]->type, YNODE_SEQ);
	ystream_free(&s);
}

static void test_empty_stream_has_no_documents(void **state)
{
	struct ystream s = load_ok("");

	(void)state;
	assert_int_equal(s.n, 0);
	ystream_free(&s);
}

static void test_null_and_bool_are_plain_only(void **state)
{
	struct ystream s = load_ok(
		"a:\nb: ~\nc: null\nd: NULL\ne: \"null\"\nf: !!str\n"
		"t: true\nT: TRUE\nt2: \"true\"\nf1: False\ny: yes\n");
	const struct ynode *d = s.docs[0];

	(void)state;
	assert_true(ynode_is_null(get(d, "a")));
	assert_true(ynode_is_null(get(d, "b")));
	assert_true(ynode_is_null(get(d, "c")));
	assert_true(ynode_is_null(get(d, "d")));
	assert_false(ynode_is_null(get(d, "e")));
	assert_false(ynode_is_null(get(d, "f")));	/* tagged: a string */
	assert_int_equal(ynode_bool(get(d, "t")), 1);
	assert_int_equal(ynode_bool(get(d, "T")), 1);
	assert_int_equal(ynode_bool(get(d, "t2")), -1);
	assert_int_equal(ynode_bool(get(d, "f1")), 0);
	assert_int_equal(ynode_bool(get(d, "y")), 1);	/* YAML 1.1 */
	assert_null(ynode_map_get(d, "missing"));
	assert_null(ynode_map_get(get(d, "a"), "x"));
	ystream_free(&s);
}

/* Plain scalars and what PyYAML's safe_load (YAML 1.1, what cloud-init
 * uses) makes of them; checked here by hand and below against PyYAML. */
static const struct {
	const char *text;
	enum ynode_kind kind;
} plain_cases[] = {
	{ "", YNODE_NULL }, { "~", YNODE_NULL }, { "null", YNODE_NULL },
	{ "Null", YNODE_NULL }, { "NULL", YNODE_NULL }, { "nULL", YNODE_STR },
	{ "yes", YNODE_BOOL }, { "Yes", YNODE_BOOL }, { "YES", YNODE_BOOL },
	{ "yEs", YNODE_STR }, { "no", YNODE_BOOL }, { "No", YNODE_BOOL },
	{ "NO", YNODE_BOOL }, { "on", YNODE_BOOL }, { "On", YNODE_BOOL },
	{ "ON", YNODE_BOOL }, { "off", YNODE_BOOL }, { "Off", YNODE_BOOL },
	{ "OFF", YNODE_BOOL }, { "true", YNODE_BOOL }, { "True", YNODE_BOOL },
	{ "TRUE", YNODE_BOOL }, { "false", YNODE_BOOL },
	{ "False", YNODE_BOOL }, { "FALSE", YNODE_BOOL }, { "y", YNODE_STR },
	{ "Y", YNODE_STR }, { "n", YNODE_STR }, { "N", YNODE_STR },
	{ "0", YNODE_INT }, { "-0", YNODE_INT }, { "+12", YNODE_INT },
	{ "012", YNODE_INT }, { "08", YNODE_STR }, { "0o17", YNODE_STR },
	{ "0x1F", YNODE_INT }, { "0xg", YNODE_STR }, { "0b101", YNODE_INT },
	{ "0b2", YNODE_STR }, { "1_000", YNODE_INT }, { "1:30", YNODE_INT },
	{ "1:60", YNODE_STR }, { "190:20:30", YNODE_INT }, { "_1", YNODE_STR },
	{ "1.5", YNODE_FLOAT }, { "1.", YNODE_FLOAT },
	{ "-1.5e+3", YNODE_FLOAT }, { "1e3", YNODE_STR },
	{ "1.0e3", YNODE_STR }, { ".5", YNODE_FLOAT }, { "._", YNODE_STR },
	{ ".inf", YNODE_FLOAT }, { "-.Inf", YNODE_FLOAT },
	{ "+.INF", YNODE_FLOAT }, { ".nan", YNODE_FLOAT },
	{ ".NaN", YNODE_FLOAT }, { "-.nan", YNODE_STR },
	{ "1:30.5", YNODE_FLOAT }, { "0.", YNODE_FLOAT },
	{ "2001-12-14", YNODE_TIMESTAMP },
	{ "2001-12-14t21:59:43.10-05:00", YNODE_TIMESTAMP },
	{ "2001-12-14 21:59:43.10", YNODE_TIMESTAMP },
	{ "2001-12-14\t21:59:43 Z", YNODE_TIMESTAMP },
	{ "2001-1-1", YNODE_STR }, { "2001-12-14x", YNODE_STR },
	{ "2001-12-14T21:59:43Z", YNODE_TIMESTAMP }, { "<<", YNODE_OTHER },
	{ "=", YNODE_OTHER }, { "web1", YNODE_STR }, { "1e", YNODE_STR },
	{ "1__", YNODE_INT }, { "0_7", YNODE_INT }, { "-0x_", YNODE_INT },
	{ "web1.example", YNODE_STR }, { "1.2.3", YNODE_STR },
	{ "12:00:00", YNODE_INT }, { "0:00", YNODE_STR },
};

static struct ynode plain(const char *text)
{
	struct ynode n;

	memset(&n, 0, sizeof(n));
	n.type = YNODE_SCALAR;
	n.value = (char *)(uintptr_t)text;
	n.len = strlen(text);
	n.style = YAML_PLAIN_SCALAR_STYLE;
	n.plain_implicit = true;
	return n;
}

static void test_plain_scalars_resolve_as_pyyaml_does(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(plain_cases) / sizeof(*plain_cases);
	     i++) {
		struct ynode n = plain(plain_cases[i].text);

		if (ynode_kind(&n) != plain_cases[i].kind)
			fail_msg("'%s': %s, expected %s", plain_cases[i].text,
				 ynode_kind_name(ynode_kind(&n)),
				 ynode_kind_name(plain_cases[i].kind));
	}
}

/* The same cases, asked of Debian's PyYAML itself (python3-yaml). */
static void test_the_cases_agree_with_pyyaml(void **state)
{
	static const char *const names[] = {
		[YNODE_STR] = "str", [YNODE_NULL] = "null",
		[YNODE_BOOL] = "bool", [YNODE_INT] = "int",
		[YNODE_FLOAT] = "float", [YNODE_TIMESTAMP] = "timestamp",
	};
	char path[] = "/tmp/test_ynode.XXXXXX";
	char *cmd, line[256];
	FILE *f, *p;
	int fd;

	(void)state;
	if (system("/usr/bin/python3 -c 'import yaml' 2>/dev/null") != 0)
		skip();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(plain_cases) / sizeof(*plain_cases);
	     i++)
		fprintf(f, "%s\n", plain_cases[i].text);
	fclose(f);
	cmd = xasprintf("/usr/bin/python3 -c 'import sys, yaml\n"
			"r = yaml.resolver.Resolver()\n"
			"for l in open(sys.argv[1]):\n"
			" t = r.resolve(yaml.ScalarNode, l[:-1], (True, False))\n"
			" print(t.rsplit(\":\", 1)[1])' %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (size_t i = 0; i < sizeof(plain_cases) / sizeof(*plain_cases);
	     i++) {
		enum ynode_kind k = plain_cases[i].kind;
		const char *want = k == YNODE_OTHER ? NULL : names[k];

		assert_non_null(fgets(line, sizeof(line), p));
		line[strcspn(line, "\n")] = '\0';
		if (want ? strcmp(line, want) != 0 :
			   !strcmp(line, "str") || !strcmp(line, "null") ||
			   !strcmp(line, "bool") || !strcmp(line, "int") ||
			   !strcmp(line, "float") || !strcmp(line, "timestamp"))
			fail_msg("'%s': PyYAML says %s, the table %s",
				 plain_cases[i].text, line,
				 want ? want : "other");
	}
	assert_int_equal(pclose(p), 0);
	unlink(path);
	free(cmd);
}

static void test_tags_and_quotes_decide_before_the_text(void **state)
{
	struct ystream s = load_ok(
		"a: !!str yes\nb: \"yes\"\nc: !!bool \"on\"\nd: ! 12\n"
		"e: !!int \"12\"\nf: !custom x\ng: |\n  true\n"
		"h: !!null \"\"\n");
	const struct ynode *d = s.docs[0];

	(void)state;
	assert_int_equal(ynode_kind(get(d, "a")), YNODE_STR);
	assert_int_equal(ynode_kind(get(d, "b")), YNODE_STR);
	assert_int_equal(ynode_kind(get(d, "c")), YNODE_BOOL);
	assert_int_equal(ynode_bool(get(d, "c")), 1);
	assert_int_equal(ynode_kind(get(d, "d")), YNODE_INT);	/* PyYAML */
	assert_int_equal(ynode_kind(get(d, "e")), YNODE_INT);
	assert_int_equal(ynode_kind(get(d, "f")), YNODE_OTHER);
	assert_int_equal(ynode_kind(get(d, "g")), YNODE_STR);
	assert_true(ynode_is_null(get(d, "h")));
	assert_int_equal(ynode_kind(d), YNODE_OTHER);
	ystream_free(&s);
}

static void test_syntax_error_has_line_and_column(void **state)
{
	static const char text[] = "a:\n  b: 1\n c: 2\n";

	(void)state;
	assert_string_equal(load_error(text, strlen(text)),
			    "line 3, column 2: did not find expected key");
}

static void test_tab_indentation_is_refused(void **state)
{
	static const char text[] = "a:\n\tb: 1\n";

	(void)state;
	assert_string_equal(load_error(text, strlen(text)),
			    "line 2, column 1: found character that cannot start any token");
}

static void test_duplicate_key_is_refused_at_any_depth(void **state)
{
	static const char top[] = "a: 1\nb: 2\na: 3\n";
	static const char deep[] = "x:\n  - {k: 1, j: 2, k: 3}\n";
	static const char later[] = "---\nok: 1\n---\nz: 1\ny: 2\nz: 3\ny: 4\n";

	(void)state;
	assert_string_equal(load_error(top, strlen(top)),
			    "line 3, column 1: duplicate key 'a'");
	assert_string_equal(load_error(deep, strlen(deep)),
			    "line 2, column 18: duplicate key 'k'");
	assert_string_equal(load_error(later, strlen(later)),
			    "line 6, column 1: duplicate key 'z'");
}

static void test_duplicate_key_is_shown_escaped(void **state)
{
	static const char text[] = "\"a\\nb\": 1\n\"a\\nb\": 2\n";

	(void)state;
	assert_string_equal(load_error(text, strlen(text)),
			    "line 2, column 1: duplicate key 'a\\nb'");
}

static void test_non_scalar_keys_are_refused(void **state)
{
	static const char seq[] = "a: 1\n? [x, y]\n: 2\n";
	static const char map[] = "---\nok: 1\n---\n{x: 1}: 2\n";
	static const char alias[] = "a: &k key\n*k : 2\n";

	(void)state;
	assert_string_equal(load_error(seq, strlen(seq)),
			    "line 2, column 3: a mapping key must be a scalar, not a sequence");
	assert_string_equal(load_error(map, strlen(map)),
			    "line 4, column 1: a mapping key must be a scalar, not a mapping");
	assert_string_equal(load_error(alias, strlen(alias)),
			    "line 2, column 1: a mapping key must be a scalar, not an alias");
}

static void test_alias_to_unknown_anchor_is_refused(void **state)
{
	static const char text[] = "a: *nowhere\n";
	static const char other_doc[] = "---\na: &x 1\n---\nb: *x\n";

	(void)state;
	assert_string_equal(load_error(text, strlen(text)),
			    "line 1, column 4: alias '*nowhere' names no anchor defined before it");
	assert_string_equal(load_error(other_doc, strlen(other_doc)),
			    "line 4, column 4: alias '*x' names no anchor defined before it");
}

static void test_nul_byte_is_refused(void **state)
{
	static const char text[] = "a: 1\nb: x\0y\n";

	(void)state;
	assert_string_equal(load_error(text, sizeof(text) - 1),
			    "line 2, column 5: NUL byte in the text");
}

static void test_invalid_utf8_is_refused(void **state)
{
	static const char bad_lead[] = "a: \xff\n";
	static const char truncated[] = "a: ok\nb: \xc3";
	static const char overlong[] = "a: \xc0\xaf\n";
	static const char surrogate[] = "é: \xed\xa0\x80\n";
	static const char utf16[] = "\xff\xfe" "a\0:\0";

	(void)state;
	assert_string_equal(load_error(bad_lead, strlen(bad_lead)),
			    "line 1, column 4: invalid UTF-8");
	assert_string_equal(load_error(truncated, strlen(truncated)),
			    "line 2, column 4: invalid UTF-8");
	assert_string_equal(load_error(overlong, strlen(overlong)),
			    "line 1, column 4: invalid UTF-8");
	assert_string_equal(load_error(surrogate, strlen(surrogate)),
			    "line 1, column 4: invalid UTF-8");
	assert_string_equal(load_error(utf16, sizeof(utf16) - 1),
			    "line 1, column 1: invalid UTF-8");
}

static void test_control_character_is_refused_by_libyaml(void **state)
{
	static const char text[] = "a: 1\nb: x\x01y\n";

	(void)state;
	assert_string_equal(load_error(text, strlen(text)),
			    "line 2, column 5: control characters are not allowed");
}

static char *nested(size_t depth)
{
	char *s = xmalloc(2 * depth + 8);

	strcpy(s, "a: ");
	memset(s + 3, '[', depth);
	memset(s + 3 + depth, ']', depth);
	strcpy(s + 3 + 2 * depth, "\n");
	return s;
}

static void test_nesting_is_limited(void **state)
{
	/* The document's mapping is one level, so 63 brackets fit. */
	char *ok = nested(YNODE_MAX_DEPTH - 1), *deep = nested(100000);
	struct ystream s = load_ok(ok);

	(void)state;
	ystream_free(&s);
	assert_string_equal(load_error(deep, strlen(deep)),
			    "line 1, column 67: nested deeper than 64 levels");
	free(ok);
	free(deep);
}

static void test_node_count_is_limited(void **state)
{
	size_t n = YNODE_MAX_NODES;	/* items, plus the sequence itself */
	char *text = xmalloc(3 * n + 4), *p = text;
	char expect[128];

	(void)state;
	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		memcpy(p, "1, ", 3);
		p += 3;
	}
	strcpy(p - 2, "]");
	snprintf(expect, sizeof(expect),
		 "line 1, column %zu: more than 100000 nodes", 3 * (n - 1) + 2);
	assert_string_equal(load_error(text, strlen(text)), expect);
	free(text);
}

static void test_document_count_is_limited(void **state)
{
	struct strvec parts = STRVEC_INIT;
	char *text;
	size_t len = 0;

	(void)state;
	for (int i = 0; i <= YNODE_MAX_DOCS; i++)
		strvec_pushf(&parts, "---\nn: %d\n", i);
	text = xcalloc(parts.n * 16 + 1, 1);
	for (size_t i = 0; i < parts.n; i++) {
		strcpy(text + len, parts.v[i]);
		len += strlen(parts.v[i]);
	}
	assert_string_equal(load_error(text, len),
			    "line 33, column 1: more than 16 documents");
	free(text);
	strvec_clear(&parts);
}

/* "Billion laughs": each level names the one before nine times. Expanded
 * it would be 9^9 nodes; kept as aliases it is a few dozen. */
static void test_alias_bomb_loads_fast_and_stays_small(void **state)
{
	static const char bomb[] =
		"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	clock_t start = clock();
	struct ystream s = load_ok(bomb);
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(get(s.docs[0], "i")->n, 9);
	assert_int_equal(get(s.docs[0], "i")->items[0]->type, YNODE_ALIAS);
	out = ynode_emit(s.docs[0], NULL, &len, errbuf, sizeof(errbuf));
	assert_non_null(out);
	assert_true(len < sizeof(bomb) + 64);
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
	free(out);
	ystream_free(&s);
}

static void test_many_anchors_and_aliases(void **state)
{
	struct strvec lines = STRVEC_INIT;
	char *text;
	size_t len = 0;
	struct ystream s;

	(void)state;
	for (int i = 0; i < 2000; i++)
		strvec_pushf(&lines, "k%d: &a%d [*a%d]\n", i + 1, i + 1, i);
	text = xmalloc(2000 * 32 + 32);
	len = (size_t)sprintf(text, "k0: &a0 x\n");
	for (size_t i = 0; i < lines.n; i++)
		len += (size_t)sprintf(text + len, "%s", lines.v[i]);
	s = load_ok(text);
	assert_int_equal(s.docs[0]->n, 2 * 2001);
	ystream_free(&s);
	free(text);
	strvec_clear(&lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_values_and_styles),
		cmocka_unit_test(test_emit_keeps_a_string_tagged_with_bang_a_string),
		cmocka_unit_test(test_emit_keep_chomping_has_no_end_marker),
		cmocka_unit_test(test_emit_skips_only_top_level_keys),
		cmocka_unit_test(test_emit_writes_emoji_as_utf8),
		cmocka_unit_test(test_emit_refuses_to_drop_an_anchor),
		cmocka_unit_test(test_emit_empty_mapping_after_skipping),
		cmocka_unit_test(test_documents_and_their_lines),
		cmocka_unit_test(test_empty_stream_has_no_documents),
		cmocka_unit_test(test_null_and_bool_are_plain_only),
		cmocka_unit_test(test_plain_scalars_resolve_as_pyyaml_does),
		cmocka_unit_test(test_the_cases_agree_with_pyyaml),
		cmocka_unit_test(test_tags_and_quotes_decide_before_the_text),
		cmocka_unit_test(test_syntax_error_has_line_and_column),
		cmocka_unit_test(test_tab_indentation_is_refused),
		cmocka_unit_test(test_duplicate_key_is_refused_at_any_depth),
		cmocka_unit_test(test_duplicate_key_is_shown_escaped),
		cmocka_unit_test(test_non_scalar_keys_are_refused),
		cmocka_unit_test(test_alias_to_unknown_anchor_is_refused),
		cmocka_unit_test(test_nul_byte_is_refused),
		cmocka_unit_test(test_invalid_utf8_is_refused),
		cmocka_unit_test(test_control_character_is_refused_by_libyaml),
		cmocka_unit_test(test_nesting_is_limited),
		cmocka_unit_test(test_node_count_is_limited),
		cmocka_unit_test(test_document_count_is_limited),
		cmocka_unit_test(test_alias_bomb_loads_fast_and_stays_small),
		cmocka_unit_test(test_many_anchors_and_aliases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
