/*
 * test_hostile: hostile and odd qvm files beyond test_qvmfile.c, checked
 * through to what qvm would hand to virt-install and write into the seed;
 * and every file under fixtures/ (fixtures/fuzz/ holds what the fuzzer
 * found) replayed through the fuzzer's rules (tests/fuzz/oracle.h), so
 * they hold in `make check` without clang.
 *
 * Already covered in test_qvmfile.c, not repeated here: alias bombs in the
 * vm document and loading one in user-data, deep flow nesting, a 1 MB
 * scalar, files over 1 MiB, invalid UTF-8, raw NUL bytes, tabs, duplicate
 * keys, non-string keys, names with / or .., option keys with dashes,
 * control characters in vm values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A broken rule fails the cmocka test instead of aborting the binary. */
#define ORACLE_STOP() fail()
#include "fuzz/oracle.h"
#include "mock_runner.h"

#define USER_DATA "---\nqvm: user-data\nusers:\n  - name: admin\n"
#define META_DATA "---\nqvm: meta-data\nlocal-hostname: web1\n"
#define VM(body) "---\nqvm: vm\nname: web1\n" body
#define DISK "disk:\n  bus: virtio\n  zvol:\n    base: tank/debian12\n"
#define FILE_WITH(vm) vm USER_DATA META_DATA

static FILE *quiet;

static int setup(void **state)
{
	(void)state;
	quiet = fopen("/dev/null", "w");
	if (!quiet)
		return -1;
	msg_set_streams(quiet, quiet);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	msg_set_streams(NULL, NULL);
	fclose(quiet);
	return 0;
}

static int parses(const char *text, size_t len, struct qvmfile *qf)
{
	return qvmfile_parse("hostile.yaml", text, len, qf) == 0;
}

static void parse_ok(const char *text, struct qvmfile *qf)
{
	if (!parses(text, strlen(text), qf))
		fail_msg("refused: %s", text);
}

/* seed_user_data() without "#cloud-config\n", loaded back. */
static struct ystream user_data_back(const struct qvmfile *qf, char **text)
{
	struct ystream s;
	char errbuf[512];

	*text = seed_user_data(qf, errbuf, sizeof(errbuf));
	assert_non_null(*text);
	assert_int_equal(strncmp(*text, "#cloud-config\n", 14), 0);
	memset(&s, 0, sizeof(s));
	if (ystream_load(*text + 14, strlen(*text + 14), &s, errbuf,
			 sizeof(errbuf)) < 0)
		fail_msg("user-data does not load back: %s\n%s", errbuf, *text);
	assert_int_equal(s.n, 1);
	return s;
}

/* ---- option values must stay values ---- */

/* A value that starts with '-' passed as its own word is read by
 * virt-install as an option of its own where the option before it takes
 * an optional value (--cloud-init, --unattended, --wait): "cloud-init:
 * --name=evil" defines a domain "evil" while qvm undoes and tags "web1".
 * Either such a value is refused, or it reaches virt-install as a value
 * (e.g. --cloud-init=--name=evil): no more option words than meant. */
static void assert_value_stays_a_value(const char *text)
{
	struct strvec argv = STRVEC_INIT;
	struct qvmfile qf;
	char errbuf[512];
	size_t words = 0;

	if (!parses(text, strlen(text), &qf))
		return;		/* refused: fine */
	assert_int_equal(vmargs_build(qf.doc[QVM_DOC_VM], ORACLE_DEVICE,
				      ORACLE_ISO, &argv, errbuf,
				      sizeof(errbuf)), 0);
	words = oracle_option_words(&argv);
	if (words != oracle_options_meant(qf.doc[QVM_DOC_VM])) {
		char line[2048] = "";

		for (size_t i = 0; i < argv.n; i++) {
			strncat(line, argv.v[i], sizeof(line) - strlen(line) - 2);
			strcat(line, " ");
		}
		strvec_clear(&argv);
		qvmfile_free(&qf);
		fail_msg("a value became an option: %s", line);
	}
	strvec_clear(&argv);
	qvmfile_free(&qf);
}

static void test_option_value_starting_with_dashes(void **state)
{
	(void)state;
	assert_value_stays_a_value(FILE_WITH(VM(DISK "cloud-init: \"--name=evil\"\n")));
}

static void test_option_value_starting_with_dashes_in_a_list(void **state)
{
	(void)state;
	assert_value_stays_a_value(FILE_WITH(VM(DISK "wait: [\"--connect=qemu:///system\"]\n")));
}

static void test_option_value_starting_with_one_dash(void **state)
{
	(void)state;
	assert_value_stays_a_value(FILE_WITH(VM(DISK "unattended: -x\n")));
}

/* ---- the seed says what the file says ---- */

/* meta-data written as a flow mapping (natural for two keys): qvm appends
 * "instance-id: ..." as text after the emitted "{...}", which is no
 * longer YAML, and cloud-init reads no meta-data. */
static void test_meta_data_in_flow_style(void **state)
{
	static const char text[] =
		VM(DISK) USER_DATA "--- {qvm: meta-data, local-hostname: web1}\n";
	struct qvmfile qf;
	struct ystream s;
	char errbuf[512], *md;

	(void)state;
	parse_ok(text, &qf);
	md = seed_meta_data(&qf, "web1-0123abcd", errbuf, sizeof(errbuf));
	assert_non_null(md);
	memset(&s, 0, sizeof(s));
	if (ystream_load(md, strlen(md), &s, errbuf, sizeof(errbuf)) < 0) {
		char copy[512];

		snprintf(copy, sizeof(copy), "%s", md);
		free(md);
		qvmfile_free(&qf);
		fail_msg("meta-data does not load: %s\n%s", errbuf, copy);
	}
	assert_int_equal(s.n, 1);
	assert_non_null(ynode_map_get(s.docs[0], "instance-id"));
	assert_non_null(ynode_map_get(s.docs[0], "local-hostname"));
	ystream_free(&s);
	free(md);
	qvmfile_free(&qf);
}

/* A null inside a flow collection ("{pools: , servers: [a]}") or an empty
 * key: libyaml cannot write an empty plain scalar there and writes ! ''
 * instead, which cloud-init reads as the string "", not null. */
static void test_null_in_flow_stays_null(void **state)
{
	static const char text[] =
		VM(DISK) "---\nqvm: user-data\n"
		"ntp: {enabled: true, pools: , servers: [ntp.example]}\n"
		META_DATA;
	struct qvmfile qf;
	struct ystream s;
	const struct ynode *ntp, *pools;
	char *ud;

	(void)state;
	parse_ok(text, &qf);
	s = user_data_back(&qf, &ud);
	ntp = ynode_map_get(s.docs[0], "ntp");
	assert_non_null(ntp);
	pools = ynode_map_get(ntp, "pools");
	assert_non_null(pools);
	if (!ynode_is_null(pools)) {
		char copy[512];

		snprintf(copy, sizeof(copy), "%s", ud);
		ystream_free(&s);
		free(ud);
		qvmfile_free(&qf);
		fail_msg("pools is no longer null:\n%s", copy);
	}
	ystream_free(&s);
	free(ud);
	qvmfile_free(&qf);
}

/* Nine levels of nine aliases: the seed keeps the aliases (a few hundred
 * bytes), it does not expand them (387 million strings). */
static void test_alias_bomb_is_not_expanded_in_the_seed(void **state)
{
	static const char text[] =
		VM(DISK) "---\nqvm: user-data\n"
		"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
		META_DATA;
	struct qvmfile qf;
	struct ystream s;
	clock_t start = clock();
	char *ud;

	(void)state;
	parse_ok(text, &qf);
	s = user_data_back(&qf, &ud);
	assert_true(strlen(ud) < 2048);
	assert_non_null(strstr(ud, "*h"));
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
	ystream_free(&s);
	free(ud);
	qvmfile_free(&qf);
}

static void test_alias_to_nothing(void **state)
{
	struct qvmfile qf;

	(void)state;
	assert_false(parses(VM(DISK) "---\nqvm: user-data\na: *nothing\n" META_DATA,
			    strlen(VM(DISK) "---\nqvm: user-data\na: *nothing\n" META_DATA),
			    &qf));
}

/* Block mappings nested as deep as allowed are written back whole; one
 * more level is refused, in user-data as in the key position. */
static void test_deep_block_nesting(void **state)
{
	size_t cap = 64 * 80 + 256, n;
	char *doc = xmalloc(cap), *text, *ud;
	struct qvmfile qf;
	struct ystream s;

	(void)state;
	/* depth 1 is the document's mapping: 63 more levels fit. */
	n = (size_t)sprintf(doc, "---\nqvm: user-data\n");
	for (int d = 0; d < 63; d++)
		n += (size_t)sprintf(doc + n, "%*sk%d:\n", d, "", d);
	sprintf(doc + n, "%*sleaf: x\n", 63, "");
	text = xasprintf("%s%s%s", VM(DISK), doc, META_DATA);
	parse_ok(text, &qf);
	s = user_data_back(&qf, &ud);
	assert_non_null(strstr(ud, "leaf: x"));
	ystream_free(&s);
	free(ud);
	qvmfile_free(&qf);
	free(text);

	/* 65 levels: refused. */
	sprintf(doc + n, "%*sk63:\n%*sleaf: x\n", 63, "", 64, "");
	text = xasprintf("%s%s%s", VM(DISK), doc, META_DATA);
	assert_false(parses(text, strlen(text), &qf));
	free(text);

	/* Nesting in keys: ? ? ? ... */
	n = (size_t)sprintf(doc, "---\nqvm: user-data\n");
	for (int d = 0; d < 70; d++)
		n += (size_t)sprintf(doc + n, "%*s? \n", 2 * d, "");
	text = xasprintf("%s%s%s", VM(DISK), doc, META_DATA);
	assert_false(parses(text, strlen(text), &qf));
	free(text);
	free(doc);
}

/* More nodes than YNODE_MAX_NODES in under 1 MiB: refused. (No time
 * limit here: a collection's items grow 16 at a time, which is quadratic
 * where realloc() always copies, as under ASan or valgrind.) */
static void test_too_many_nodes(void **state)
{
	size_t items = YNODE_MAX_NODES + 10;
	char *list = xmalloc(2 * items + 8), *text;
	struct qvmfile qf;

	(void)state;
	list[0] = '[';
	for (size_t i = 0; i < items; i++) {
		list[1 + 2 * i] = '1';
		list[2 + 2 * i] = ',';
	}
	list[2 * items] = ']';
	list[2 * items + 1] = '\0';
	text = xasprintf(VM(DISK) "---\nqvm: user-data\nx: %s\n" META_DATA, list);
	assert_true(strlen(text) < QVMFILE_MAX_SIZE);
	assert_false(parses(text, strlen(text), &qf));
	free(text);
	free(list);
}

/* A NUL written as "\0" is fine in user-data: the seed keeps it escaped
 * (a raw NUL would cut the file short where qvm writes it). */
static void test_escaped_nul_in_user_data(void **state)
{
	static const char text[] =
		VM(DISK) "---\nqvm: user-data\nblob: \"a\\0b\"\n" META_DATA;
	struct qvmfile qf;
	struct ystream s;
	const struct ynode *blob;
	char *ud;

	(void)state;
	parse_ok(text, &qf);
	s = user_data_back(&qf, &ud);
	blob = ynode_map_get(s.docs[0], "blob");
	assert_non_null(blob);
	assert_int_equal(blob->len, 3);
	assert_memory_equal(blob->value, "a\0b", 3);
	ystream_free(&s);
	free(ud);
	qvmfile_free(&qf);
}

/* A huge vm value and a huge user-data key: accepted or refused, never a
 * crash, and the argv holds the value whole. */
static void test_huge_vm_value_and_key(void **state)
{
	size_t n = 512 * 1024;
	char *big = xmalloc(n + 1), *text;
	struct strvec argv = STRVEC_INIT;
	struct qvmfile qf;
	char errbuf[512];
	int found = 0;

	(void)state;
	memset(big, 'x', n);
	big[n] = '\0';
	text = xasprintf(FILE_WITH(VM(DISK "description: %s\n")), big);
	parse_ok(text, &qf);
	assert_int_equal(vmargs_build(qf.doc[QVM_DOC_VM], ORACLE_DEVICE,
				      ORACLE_ISO, &argv, errbuf,
				      sizeof(errbuf)), 0);
	for (size_t i = 0; i < argv.n; i++)
		found += strlen(argv.v[i]) == n;
	assert_int_equal(found, 1);
	strvec_clear(&argv);
	qvmfile_free(&qf);
	free(text);

	text = xasprintf(VM(DISK) "---\nqvm: user-data\n%s: 1\n" META_DATA, big);
	if (parses(text, strlen(text), &qf)) {
		qvm_fuzz_one((const uint8_t *)text, strlen(text));
		qvmfile_free(&qf);
	}
	free(text);
	free(big);
}

/* A UTF-8 byte order mark is fine; UTF-16 is refused, not misread. */
static void test_byte_order_marks(void **state)
{
	static const char bom8[] = "\xef\xbb\xbf" FILE_WITH(VM(DISK));
	static const char bom16[] = "\xff\xfe-\0-\0-\0\n\0";
	struct qvmfile qf;

	(void)state;
	parse_ok(bom8, &qf);
	qvmfile_free(&qf);
	assert_false(parses(bom16, sizeof(bom16) - 1, &qf));
}

/* ---- everything under fixtures/ keeps the fuzzer's rules ---- */

static void replay_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;		/* fixtures/fuzz may not exist yet */
	while ((e = readdir(d))) {
		char *path, *buf;
		struct stat st;
		FILE *f;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		len = (size_t)st.st_size;
		f = fopen(path, "rb");
		assert_non_null(f);
		buf = xmalloc(len + 1);
		assert_int_equal(fread(buf, 1, len, f), len);
		fclose(f);
		print_message("replaying %s\n", path);
		qvm_fuzz_one((const uint8_t *)buf, (size_t)len);
		free(buf);
		free(path);
		(*count)++;
	}
	closedir(d);
}

/* ---- what cloud-init reads: PyYAML, as Debian ships it ---- */

static char *write_temp(const char *dir, const char *name, const char *text,
			size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Loads the user-data document (doc, as written in the qvm file) and the
 * user-data qvm writes from it with PyYAML's safe_load, cloud-init's
 * reader: they must be equal once "qvm" is deleted from the first. */
static const char pyyaml_compare[] =
	"import sys, yaml\n"
	"src = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))\n"
	"del src['qvm']\n"
	"text = open(sys.argv[2], encoding='utf-8').read()\n"
	"assert text.startswith('#cloud-config\\n'), 'no #cloud-config'\n"
	"out = yaml.safe_load(text)\n"
	"if src != out or repr(src) != repr(out):\n"
	"    print('source:', repr(src))\n"
	"    print('seed:  ', repr(out))\n"
	"    sys.exit(1)\n";

static void assert_pyyaml_reads_the_same(const char *doc)
{
	char dir[] = "/tmp/test_hostile.XXXXXX";
	char *file = xasprintf(VM(DISK) "%s" META_DATA, doc);
	char *text, *src, *out, *script, *cmd;
	struct qvmfile qf;
	char errbuf[512];
	int status;

	if (!parses(file, strlen(file), &qf))
		fail_msg("refused:\n%s", doc);
	text = seed_user_data(&qf, errbuf, sizeof(errbuf));
	assert_non_null(text);
	assert_non_null(mkdtemp(dir));
	src = write_temp(dir, "source.yaml", doc, strlen(doc));
	out = write_temp(dir, "user-data", text, strlen(text));
	script = write_temp(dir, "compare.py", pyyaml_compare,
			    strlen(pyyaml_compare));
	cmd = xasprintf("/usr/bin/python3 %s %s %s", script, src, out);
	status = system(cmd);
	if (status != 0)
		fail_msg("PyYAML reads another document (status %d):\n"
			 "--- qvm file:\n%s--- user-data:\n%s", status, doc,
			 text);
	unlink(src);
	unlink(out);
	unlink(script);
	rmdir(dir);
	free(src);
	free(out);
	free(script);
	free(cmd);
	free(text);
	free(file);
	qvmfile_free(&qf);
}

static void test_user_data_reads_the_same_in_pyyaml(void **state)
{
	static const char *const docs[] = {
		/* anchors and aliases anywhere, a name used twice */
		"---\nbase: &b {x: 1, y: [1, &i 2]}\nqvm: user-data\n"
		"other: *b\nitem: *i\nlist: [&s str, *s]\na: &x 1\nb: *x\n"
		"c: [&y {&z k: &w v}, *y, *z, *w]\n",
		/* merge keys, at the top and inside */
		"---\nqvm: user-data\ndefaults: &d {shell: /bin/bash, groups: [a]}\n"
		"users:\n  - <<: *d\n    name: u1\n  - <<: [*d, {sudo: x}]\n"
		"    name: u2\n<<: {merged: 1}\n",
		/* tags */
		"---\nqvm: user-data\na: !!str 123\nb: !!int \"42\"\n"
		"c: !!float \"1.5\"\nd: !!binary aGVsbG8=\ne: !!set {x, y}\n"
		"f: ! 12\ng: !!null \"\"\nh: !!timestamp 2001-12-14\n"
		"i: !!omap [a: 1, b: 2]\nj: !!bool \"yes\"\n"
		"k: !!str\nl: !!seq [1]\nm: !!map {a: 1}\n",
		/* flow styles */
		"---\n{qvm: user-data, f: {a: [1, {b: c}], \"d e\": 'f'},\n"
		" g: [a, b, {c: [d]}], empty: {}, el: [], n: [~, null, ]}\n",
		/* multi-line strings */
		"---\nqvm: user-data\nlit: |\n  line1\n    indented\n  line3\n"
		"fold: >\n  folded\n  text\n\n  para\n  \n"
		"strip: |-\n  stripped\n\n"
		"ind: |2\n   leading space\n"
		"plain: this is\n  multi line\n"
		"sq: 'it''s\n\n  two'\n"
		"dq: \"a\\tb\\nc \\u00e9 \\\n  joined\"\n"
		"keep: |+\n  kept\n\n",
		/* unicode */
		"---\nqvm: user-data\nu: \"\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 "
		"\xe2\x9c\x93 \xf0\x9f\x98\x80\"\nplain: \xf0\x9f\x98\x80 emoji\n"
		"\xe6\x97\xa5\xe6\x9c\xac: \xe8\xaa\x9e\nk: \xf0\x9f\x8e\x89\n"
		"esc: \"\\U0001F600\"\nblock: |\n  \xf0\x9f\x98\x80\n"
		"pua: \xee\x80\x80\xf0\x9f\x98\x80\n",
		/* YAML 1.1 scalars keep their types */
		"---\nqvm: user-data\na: yes\nb: \"yes\"\nc: 0755\nd: 0o755\n"
		"e: 1:30\nf: 2001-12-14\ng: ~\nh: .inf\ni: 1_000\nj: 0x1F\n"
		"k: On\nl: n\nm: 1e3\nn: 0b101\no: '0755'\n",
		/* qvm last, key forms, comments and an end marker */
		"---\n# a comment\nruncmd:\n  - [sh, -c, 'echo \"$HOME\"']\n"
		"\"qvm\": user-data # the kind\n...\n",
		/* what safe_load knows beyond the core */
		"---\nqvm: user-data\n=: h\n!!merge <<: {g: 1}\n"
		"e: !!pairs [a: 1, a: 2]\nf: [\"=\", '<<']\n",
		/* a hash sign and other indicators in values */
		"---\nqvm: user-data\na: 'x #y'\nb: \"- z\"\nc: '{not: flow}'\n"
		"d: '@at'\ne: ': colon'\nf: '*star'\ng: '&amp'\nh: '!bang'\n"
		"i: '%pct'\nj: '`tick'\nk: '|'\nl: '>'\nm: ''\nn: ' lead'\n",
	};

	(void)state;
	if (system("/usr/bin/python3 -c 'import yaml' 2>/dev/null") != 0)
		skip();
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++)
		assert_pyyaml_reads_the_same(docs[i]);
}

/* What PyYAML's safe_load cannot load makes cloud-init drop the whole
 * file: qvm refuses it in validation. Each case is checked both ways. */
static void test_what_pyyaml_refuses_qvm_refuses(void **state)
{
	static const struct {
		const char *doc, *what;
	} cases[] = {
		{ "---\nqvm: user-data\na: !foo x\n",
		  "document 'user-data' (line 10, column 4): tag '!foo' is unknown to PyYAML's safe_load, which cloud-init uses (it would drop the whole file)" },
		{ "---\nqvm: user-data\na: [1, !!python/tuple [2]]\n",
		  "document 'user-data' (line 10, column 8): tag 'tag:yaml.org,2002:python/tuple' is unknown to PyYAML's safe_load, which cloud-init uses (it would drop the whole file)" },
		{ "---\nqvm: user-data\na: !<tag:example.com,2026:x> {b: 1}\n",
		  "document 'user-data' (line 10, column 4): tag 'tag:example.com,2026:x' is unknown to PyYAML's safe_load, which cloud-init uses (it would drop the whole file)" },
		{ "---\nqvm: user-data\na: !!set [1]\n",
		  "document 'user-data' (line 10, column 4): tag 'tag:yaml.org,2002:set' is unknown to PyYAML's safe_load, which cloud-init uses (it would drop the whole file)" },
		{ "---\nqvm: user-data\na: =\n",
		  "document 'user-data' (line 10, column 4): a plain '=' is not a value PyYAML's safe_load, which cloud-init uses, can read (quote it)" },
		{ "---\nqvm: user-data\na: [<<]\n",
		  "document 'user-data' (line 10, column 5): a plain '<<' is not a value PyYAML's safe_load, which cloud-init uses, can read (quote it)" },
	};
	char dir[] = "/tmp/test_hostile.XXXXXX";
	bool pyyaml = system("/usr/bin/python3 -c 'import yaml' 2>/dev/null") == 0;
	struct qvmfile qf;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *file = xasprintf(VM(DISK) "%s" META_DATA, cases[i].doc);
		char *expect = xasprintf("Error importing qvm file hostile.yaml: %s\n",
					 cases[i].what);
		char *out = NULL, *src, *cmd;
		size_t size;
		FILE *f = open_memstream(&out, &size);

		assert_non_null(f);
		msg_set_streams(f, f);
		assert_false(parses(file, strlen(file), &qf));
		msg_set_streams(quiet, quiet);
		fclose(f);
		assert_string_equal(out, expect);
		if (pyyaml) {
			src = write_temp(dir, "doc.yaml", cases[i].doc,
					 strlen(cases[i].doc));
			cmd = xasprintf("/usr/bin/python3 -c 'import sys, yaml; "
					"yaml.safe_load(open(sys.argv[1]))' %s "
					"2>/dev/null", src);
			if (system(cmd) == 0)
				fail_msg("PyYAML loads what qvm refuses:\n%s",
					 cases[i].doc);
			unlink(src);
			free(src);
			free(cmd);
		}
		free(out);
		free(expect);
		free(file);
	}
	rmdir(dir);
	/* What it can load is fine. */
	parse_ok(VM(DISK) "---\nqvm: user-data\na: !!set {x, y}\nb: \"=\"\n"
		 "c: !!binary aGk=\nd: !!omap [a: 1]\ne: !!pairs [a: 1]\n"
		 "f: !!timestamp 2026-11-26\n!!merge <<: {g: 1}\n=: h\n" META_DATA,
		 &qf);
	qvmfile_free(&qf);
}

/* An anchor on "qvm" (key or value) would leave a dangling alias in the
 * seed: such files are refused, so no such user-data is ever written. */
static void test_anchor_on_qvm_writes_no_user_data(void **state)
{
	static const char *const docs[] = {
		"---\nqvm: &q user-data\nx: *q\n",
		"---\n&k qvm: user-data\nx: *k\n",
		"---\nqvm: &q user-data\n",
	};
	struct qvmfile qf;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		char *file = xasprintf(VM(DISK) "%s" META_DATA, docs[i]);

		assert_false(parses(file, strlen(file), &qf));
		free(file);
	}
}

/* ---- a payload is the seed's user-data, byte for byte ---- */

static char seed_user_data_seen[4096];

static void iso_made(const char *const *argv, void *arg)
{
	FILE *f = fopen(argv[7], "rb");	/* TMP/user-data */
	size_t n;

	(void)arg;
	assert_non_null(f);
	n = fread(seed_user_data_seen, 1, sizeof(seed_user_data_seen) - 1, f);
	seed_user_data_seen[n] = '\0';
	fclose(f);
}

static void test_payload_is_the_seed_user_data(void **state)
{
	static const char payload[] =
		"Content-Type: multipart/mixed; boundary=\"b\"\n"
		"MIME-Version: 1.0\n\n--b\nContent-Type: text/x-shellscript\n\n"
		"#!/bin/sh\necho 'it''s' \"\\t\" \xf0\x9f\x98\x80   \n--b--\n";
	static const char *const docs[] = {
		"---\nqvm: user-data\npayload: |\n"
		"  Content-Type: multipart/mixed; boundary=\"b\"\n"
		"  MIME-Version: 1.0\n\n  --b\n"
		"  Content-Type: text/x-shellscript\n\n  #!/bin/sh\n"
		"  echo 'it''s' \"\\t\" \xf0\x9f\x98\x80   \n  --b--\n",
		/* the same as a double-quoted scalar */
		"---\npayload: \"Content-Type: multipart/mixed; "
		"boundary=\\\"b\\\"\\nMIME-Version: 1.0\\n\\n--b\\n"
		"Content-Type: text/x-shellscript\\n\\n#!/bin/sh\\n"
		"echo 'it''s' \\\"\\\\t\\\" \\U0001F600   \\n--b--\\n\"\n"
		"qvm: user-data\n",
	};
	char dir[] = "/tmp/test_hostile.XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		char *file = xasprintf(VM(DISK) "%s" META_DATA, docs[i]);
		char *iso = xasprintf("%s/seed.iso", dir);
		char errbuf[512], *text;
		struct qvmfile qf;

		if (!parses(file, strlen(file), &qf))
			fail_msg("refused:\n%s", docs[i]);
		text = seed_user_data(&qf, errbuf, sizeof(errbuf));
		assert_string_equal(text, payload);
		free(text);
		mock_runner_reset();
		seed_user_data_seen[0] = '\0';
		expect_run_hook(ARGV("genisoimage", "-output", iso, "-volid",
				     "cidata", "-joliet", "-rock", "*", "*"),
				"", "", 0, iso_made, NULL);
		assert_int_equal(seed_iso_build(&mock_host, &qf, dir, iso,
						 "test"), 0);
		mock_runner_verify();
		assert_string_equal(seed_user_data_seen, payload);
		qvmfile_free(&qf);
		free(iso);
		free(file);
	}
	rmdir(dir);
}

static void test_fixtures_keep_the_rules(void **state)
{
	size_t count = 0;

	(void)state;
	replay_dir("fixtures", &count);
	replay_dir("fixtures/bad", &count);
	assert_true(count >= 3);
}

static void test_fuzz_findings_keep_the_rules(void **state)
{
	size_t count = 0;

	(void)state;
	replay_dir("fixtures/fuzz", &count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_value_starting_with_dashes),
		cmocka_unit_test(test_option_value_starting_with_dashes_in_a_list),
		cmocka_unit_test(test_option_value_starting_with_one_dash),
		cmocka_unit_test(test_meta_data_in_flow_style),
		cmocka_unit_test(test_null_in_flow_stays_null),
		cmocka_unit_test(test_alias_bomb_is_not_expanded_in_the_seed),
		cmocka_unit_test(test_alias_to_nothing),
		cmocka_unit_test(test_deep_block_nesting),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_escaped_nul_in_user_data),
		cmocka_unit_test(test_huge_vm_value_and_key),
		cmocka_unit_test(test_byte_order_marks),
		cmocka_unit_test(test_user_data_reads_the_same_in_pyyaml),
		cmocka_unit_test(test_what_pyyaml_refuses_qvm_refuses),
		cmocka_unit_test(test_anchor_on_qvm_writes_no_user_data),
		cmocka_unit_test(test_payload_is_the_seed_user_data),
		cmocka_unit_test(test_fixtures_keep_the_rules),
		cmocka_unit_test(test_fuzz_findings_keep_the_rules),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
