/*
 * test_qvmfile: every way a qvm file can be wrong gets one clear line;
 * a right one fills every field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "qvmfile.h"
#include "strvec.h"

#define PREFIX "Error importing qvm file web1.yaml: "

/* The documents most tests do not care about. */
#define USER_DATA "---\nqvm: user-data\nusers:\n  - name: admin\n"
#define META_DATA "---\nqvm: meta-data\nlocal-hostname: web1\n"
/* A vm document: "qvm: vm" on line 2, the body from line 4. */
#define VM(body) "---\nqvm: vm\nname: web1\n" body
#define DISK "disk:\n  bus: virtio\n  zvol:\n    base: tank/debian12\n"
#define FILE_WITH(vm) vm USER_DATA META_DATA

/* Why vmargs_refused_option() refuses an option. */
#define INSTALL_MODE "an installation option: qvm imports the cloned zvol (--import)"
#define NO_CONSOLE "qvm never attaches a console or waits for the guest (it passes --noautoconsole)"
#define DEFINES_NOTHING "virt-install would define no domain, and qvm would report one made"
#define NOT_AN_OPTION "not an option of virt-install 4.1.0 (names are matched exactly, never as abbreviations; see virt-install --help)"

static char *captured;	/* what qvm printed on stderr */
static char tmpdir[64];

static void capture_start(FILE **f, size_t *len)
{
	free(captured);
	captured = NULL;
	*f = open_memstream(&captured, len);
	assert_non_null(*f);
	msg_set_streams(*f, *f);
}

static void capture_end(FILE *f)
{
	msg_set_streams(NULL, NULL);
	fclose(f);
}

/* text (len bytes) must be refused with exactly one line: PREFIX what. */
static void assert_refused_len(const char *text, size_t len, const char *what)
{
	struct qvmfile qf;
	size_t size;
	FILE *f;
	char *expect = xasprintf(PREFIX "%s\n", what);

	capture_start(&f, &size);
	assert_int_equal(qvmfile_parse("web1.yaml", text, len, &qf), -1);
	capture_end(f);
	assert_string_equal(captured, expect);
	/* Nothing is left to free. */
	assert_null(qf.path);
	assert_int_equal(qf.stream.n, 0);
	assert_null(qf.zvol_props.v);
	free(expect);
}

static void assert_refused(const char *text, const char *what)
{
	assert_refused_len(text, strlen(text), what);
}

static void parse_ok(const char *text, size_t len, struct qvmfile *qf)
{
	size_t size;
	FILE *f;

	capture_start(&f, &size);
	if (qvmfile_parse("web1.yaml", text, len, qf) < 0) {
		capture_end(f);
		fail_msg("unexpected error: %s", captured);
	}
	capture_end(f);
	assert_string_equal(captured, "");
}

static void assert_accepted(const char *text)
{
	struct qvmfile qf;

	parse_ok(text, strlen(text), &qf);
	qvmfile_free(&qf);
}

static char *write_temp(const char *name, const char *text, size_t len)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_qvmfile.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* The only files tests write there. */
static int teardown_dir(void **state)
{
	static const char *const files[] = { "exact.yaml", "big.yaml" };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		char *path = xasprintf("%s/%s", tmpdir, files[i]);

		unlink(path);
		free(path);
	}
	free(captured);
	captured = NULL;
	return rmdir(tmpdir);
}

/* ---- a right file ---- */

static const char issue_example[] =
	"---\n"
	"qvm: vm\n"
	"connect: test:///default\n"
	"name: web1\n"
	"memory: 2048\n"
	"vcpus: 2\n"
	"os-variant: debian12\n"
	"disk:\n"
	"  bus: virtio\n"
	"  cache: writeback\n"
	"  zvol:\n"
	"    base: tank/debian12      # must exist\n"
	"    volsize: 20G             # optional\n"
	"    compression: lz4         # a zfs property\n"
	"    com.example:owner: ops\n"
	"    sync: disabled\n"
	"network:\n"
	"  - network: default\n"
	"    model: virtio\n"
	"  - bridge: br0\n"
	"    model: virtio\n"
	"autostart: true\n"
	"...\n"
	"---\n"
	"qvm: user-data\n"
	"users:\n"
	"  - name: admin\n"
	"    ssh_authorized_keys: [\"ssh-ed25519 AAAA... admin@example\"]\n"
	"...\n"
	"---\n"
	"qvm: meta-data\n"
	"local-hostname: web1\n"
	"...\n";

static void test_full_example_fills_every_field(void **state)
{
	struct qvmfile qf;

	(void)state;
	parse_ok(issue_example, strlen(issue_example), &qf);
	assert_string_equal(qf.path, "web1.yaml");
	assert_int_equal(qf.stream.n, 3);
	assert_ptr_equal(qf.doc[QVM_DOC_VM], qf.stream.docs[0]);
	assert_ptr_equal(qf.doc[QVM_DOC_USER_DATA], qf.stream.docs[1]);
	assert_ptr_equal(qf.doc[QVM_DOC_META_DATA], qf.stream.docs[2]);
	assert_null(qf.doc[QVM_DOC_NETWORK_CONFIG]);
	assert_string_equal(qf.name, "web1");
	assert_ptr_equal(qf.zvol_disk,
			 ynode_map_get(qf.doc[QVM_DOC_VM], "disk"));
	assert_string_equal(qf.base, "tank/debian12");
	assert_string_equal(qf.volsize, "20G");
	/* In document order; base and volsize are not among them. */
	assert_int_equal(qf.zvol_props.n, 3);
	assert_string_equal(qf.zvol_props.v[0], "compression=lz4");
	assert_string_equal(qf.zvol_props.v[1], "com.example:owner=ops");
	assert_string_equal(qf.zvol_props.v[2], "sync=disabled");
	qvmfile_free(&qf);
	assert_null(qf.path);
}

static void test_documents_in_any_order_with_network_config(void **state)
{
	static const char text[] =
		"---\nqvm: network-config\nversion: 2\n"
		META_DATA USER_DATA
		VM(DISK);
	struct qvmfile qf;

	(void)state;
	parse_ok(text, strlen(text), &qf);
	assert_ptr_equal(qf.doc[QVM_DOC_NETWORK_CONFIG], qf.stream.docs[0]);
	assert_ptr_equal(qf.doc[QVM_DOC_META_DATA], qf.stream.docs[1]);
	assert_ptr_equal(qf.doc[QVM_DOC_VM], qf.stream.docs[3]);
	assert_null(qf.volsize);
	assert_int_equal(qf.zvol_props.n, 0);
	qvmfile_free(&qf);
}

static void test_two_disks_second_one_is_the_zvol(void **state)
{
	static const char text[] = FILE_WITH(VM(
		"disk:\n"
		"  - path: /srv/data.img\n"
		"    size: 1\n"
		"  - zvol: {base: pool/images/debian12, volsize: 1.5T}\n"
		"    bus: virtio\n"));
	struct qvmfile qf;

	(void)state;
	parse_ok(text, strlen(text), &qf);
	assert_ptr_equal(qf.zvol_disk,
			 ynode_map_get(qf.doc[QVM_DOC_VM], "disk")->items[1]);
	assert_string_equal(qf.base, "pool/images/debian12");
	assert_string_equal(qf.volsize, "1.5T");
	qvmfile_free(&qf);
}

static void test_empty_user_data_and_user_data_anchors_are_fine(void **state)
{
	(void)state;
	assert_accepted(VM(DISK) "---\nqvm: user-data\n" META_DATA);
	assert_accepted(VM(DISK)
			"---\nqvm: user-data\n"
			"base: &b {shell: /bin/sh}\nusers: [{name: a, <<: *b}]\n"
			META_DATA);
}

static void test_fixtures_are_valid(void **state)
{
	struct qvmfile qf;
	size_t size;
	FILE *f;
	int rc;

	(void)state;
	capture_start(&f, &size);
	rc = qvmfile_load("fixtures/web1.qvm.yaml", &qf);
	capture_end(f);
	assert_string_equal(captured, "");
	assert_int_equal(rc, 0);
	assert_string_equal(qf.name, "web1");
	assert_string_equal(qf.base, "tank/debian12");
	assert_string_equal(qf.volsize, "20G");
	assert_int_equal(qf.zvol_props.n, 1);
	assert_string_equal(qf.zvol_props.v[0], "compression=lz4");
	qvmfile_free(&qf);

	capture_start(&f, &size);
	rc = qvmfile_load("fixtures/multi.qvm.yaml", &qf);
	capture_end(f);
	assert_string_equal(captured, "");
	assert_int_equal(rc, 0);
	assert_string_equal(qf.name, "multi1");
	assert_string_equal(qf.base, "tank/debian12");
	assert_non_null(qf.doc[QVM_DOC_NETWORK_CONFIG]);
	assert_ptr_equal(qf.zvol_disk,
			 ynode_map_get(qf.doc[QVM_DOC_VM], "disk")->items[0]);
	qvmfile_free(&qf);

	capture_start(&f, &size);
	rc = qvmfile_load("fixtures/payload.qvm.yaml", &qf);
	capture_end(f);
	assert_string_equal(captured, "");
	assert_int_equal(rc, 0);
	assert_string_equal(qf.name, "script1");
	assert_non_null(qf.payload);
	assert_int_equal(strncmp(qf.payload, "#!/bin/sh\n", 10), 0);
	qvmfile_free(&qf);
}

/* fixtures/bad holds hostile files (also fuzzing seeds); each is refused
 * with its own line. */
static void test_bad_fixtures_are_refused(void **state)
{
	static const struct {
		const char *file, *what;
	} bad[] = {
		{ "name-traversal.yaml",
		  "document 'vm', key 'name': '../../etc' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')" },
		{ "option-dashes.yaml",
		  "document 'vm', key '--connect': not a valid option name (use [a-z0-9][a-z0-9_-]*)" },
		{ "alias-bomb-vm.yaml",
		  "document 'vm', key 'a': anchors and aliases are not allowed (found &a)" },
		{ "duplicate-key.yaml",
		  "line 8, column 1: duplicate key 'memory'" },
		{ "newline-value.yaml",
		  "document 'vm', key 'description': control characters (newline, tab, ...) are not allowed in a value" },
		{ "zvol-path.yaml",
		  "document 'vm', key 'disk.path': qvm sets the zvol disk's path; remove it" },
		{ "dry-run.yaml",
		  "document 'vm', key 'dry-run': " DEFINES_NOTHING },
		{ "option-abbreviation.yaml",
		  "document 'vm', key 'nam': " NOT_AN_OPTION },
		{ "name-boolean.yaml",
		  "document 'vm', key 'name': 'false' is a boolean in YAML 1.1, not a string (quote it)" },
		{ "qvm-anchor.yaml",
		  "document 'user-data', key 'qvm': anchors are not allowed here, qvm leaves this key out of the seed (found &kind)" },
		{ "host-name.yaml",
		  "document 'meta-data': the VM name 'web_1' is not a valid host name (RFC 1123: labels of A-Za-z0-9 and '-', not starting or ending with '-'), so it cannot be the default local-hostname; set local-hostname" },
		{ "empty-document.yaml",
		  "document 4 (line 13): empty (each document must be a mapping)" },
	};
	struct qvmfile qf;
	size_t size;
	FILE *f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *path = xasprintf("fixtures/bad/%s", bad[i].file);
		char *expect = xasprintf("Error importing qvm file %s: %s\n",
					 path, bad[i].what);

		capture_start(&f, &size);
		assert_int_equal(qvmfile_load(path, &qf), -1);
		capture_end(f);
		assert_string_equal(captured, expect);
		free(expect);
		free(path);
	}
}

static void test_quoted_keys_are_the_same_keys(void **state)
{
	static const char text[] = FILE_WITH(
		"---\n\"qvm\": vm\n'name': web1\n"
		"\"disk\": {\"zvol\": {\"base\": tank/x, com.example:k: v}}\n");
	struct qvmfile qf;

	(void)state;
	parse_ok(text, strlen(text), &qf);
	assert_string_equal(qf.base, "tank/x");
	assert_int_equal(qf.zvol_props.n, 1);
	assert_string_equal(qf.zvol_props.v[0], "com.example:k=v");
	qvmfile_free(&qf);
}

static void test_names_that_are_fine(void **state)
{
	(void)state;
	assert_accepted(FILE_WITH("---\nqvm: vm\nname: Web_1.example:a-b\n"
				  DISK));
	assert_accepted(FILE_WITH("---\nqvm: vm\nname: "
		"a234567890123456789012345678901234567890123456789012345678901234\n"
		DISK));
}

static void test_volsizes_that_are_fine(void **state)
{
	static const char *const sizes[] = {
		"20G", "20480M", "1.5T", "21474836480", "10GB", "512k", "4096B",
		"\"8G\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		char *text = xasprintf(FILE_WITH(VM(
			"disk: {zvol: {base: tank/x, volsize: %s}}\n")),
			sizes[i]);

		assert_accepted(text);
		free(text);
	}
}

/* ---- the file ---- */

static void test_missing_file(void **state)
{
	char *path = xasprintf("%s/nope.yaml", tmpdir);
	char *expect = xasprintf("Error importing qvm file %s: No such file or directory\n",
				 path);
	struct qvmfile qf;
	size_t size;
	FILE *f;

	(void)state;
	capture_start(&f, &size);
	assert_int_equal(qvmfile_load(path, &qf), -1);
	capture_end(f);
	assert_string_equal(captured, expect);
	free(expect);
	free(path);
}

static void test_directory_is_not_a_qvm_file(void **state)
{
	char *expect = xasprintf("Error importing qvm file %s: not a regular file\n",
				 tmpdir);
	struct qvmfile qf;
	size_t size;
	FILE *f;

	(void)state;
	capture_start(&f, &size);
	assert_int_equal(qvmfile_load(tmpdir, &qf), -1);
	capture_end(f);
	assert_string_equal(captured, expect);
	free(expect);
}

/* A file of exactly the limit is read; one byte more is refused before
 * any parsing. */
static void test_file_over_one_mib(void **state)
{
	static const char head[] = FILE_WITH(VM(DISK));
	size_t max = QVMFILE_MAX_SIZE;
	char *text = xmalloc(max + 1), *path, *expect;
	struct qvmfile qf;
	size_t size;
	FILE *f;

	(void)state;
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, '#', max + 1 - (sizeof(head) - 1));
	text[max - 1] = '\n';
	path = write_temp("exact.yaml", text, max);
	capture_start(&f, &size);
	assert_int_equal(qvmfile_load(path, &qf), 0);
	capture_end(f);
	qvmfile_free(&qf);
	free(path);

	text[max] = '\n';
	path = write_temp("big.yaml", text, max + 1);
	expect = xasprintf("Error importing qvm file %s: file is larger than 1 MiB\n",
			   path);
	capture_start(&f, &size);
	assert_int_equal(qvmfile_load(path, &qf), -1);
	capture_end(f);
	assert_string_equal(captured, expect);
	assert_refused_len(text, max + 1, "file is larger than 1 MiB");
	free(expect);
	free(path);
	free(text);
}

static void test_not_yaml_gives_line_and_column(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("disk:\n  bus: virtio\n zvol: x\n")),
		       "line 6, column 2: did not find expected key");
	/* At the end of the text: the end of the last line (libyaml says
	 * line 4, past the end of a 3-line file). */
	assert_refused("---\nqvm: vm\nname: [web1\n",
		       "line 3, column 12: did not find expected ',' or ']' (at the end of the text)");
	assert_refused("---\nqvm: vm\nname: [web1",
		       "line 3, column 12: did not find expected ',' or ']' (at the end of the text)");
	assert_refused("---\nqvm: vm\nname: \"web1\n\n",
		       "line 4, column 1: found unexpected end of stream (at the end of the text)");
}

static void test_tab_indentation(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("disk:\n\tbus: virtio\n")),
		       "line 5, column 1: found character that cannot start any token");
}

static void test_nul_byte(void **state)
{
	static const char text[] = FILE_WITH(VM("memory: 20\0" "48\n" DISK));

	(void)state;
	assert_refused_len(text, sizeof(text) - 1,
			   "line 4, column 11: NUL byte in the text");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("description: caf\xe9\n" DISK)),
		       "line 4, column 17: invalid UTF-8");
	assert_refused(FILE_WITH(VM("description: \xed\xa0\x80\n" DISK)),
		       "line 4, column 14: invalid UTF-8");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("memory: 1024\n" DISK "memory: 2048\n")),
		       "line 9, column 1: duplicate key 'memory'");
	assert_refused(VM(DISK) "---\nqvm: user-data\nusers: []\nusers: [a]\n"
		       META_DATA,
		       "line 11, column 1: duplicate key 'users'");
	assert_refused(FILE_WITH(VM("disk:\n  zvol: {base: tank/x, base: tank/y}\n")),
		       "line 5, column 24: duplicate key 'base'");
}

static void test_non_string_keys(void **state)
{
	(void)state;
	assert_refused(VM(DISK) "---\nqvm: user-data\n? [a, b]\n: c\n"
		       META_DATA,
		       "line 10, column 3: a mapping key must be a scalar, not a sequence");
	assert_refused(FILE_WITH(VM(DISK "{a: 1}: x\n")),
		       "line 8, column 1: a mapping key must be a scalar, not a mapping");
	assert_refused(FILE_WITH(VM(DISK "!!int 1: x\n")),
		       "document 'vm', key '1': not a valid option name (use [a-z0-9][a-z0-9_-]*)");
}

static void test_deep_nesting(void **state)
{
	char deep[200] = "";
	char *text;

	(void)state;
	memset(deep, '[', 100);
	memset(deep + 100, ']', 99);
	deep[199] = '\0';
	text = xasprintf(FILE_WITH(VM(DISK "x: %s]\n")), deep);
	assert_refused(text,
		       "line 8, column 67: nested deeper than 64 levels");
	free(text);
}

#define BOMB \
	"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" \
	"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
	"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" \
	"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n" \
	"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n" \
	"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n" \
	"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n" \
	"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n" \
	"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n"

/* Nine levels of nine aliases: 387 million strings if expanded. */
static void test_alias_bomb_in_user_data_loads_fast(void **state)
{
	clock_t start = clock();

	(void)state;
	assert_accepted(VM(DISK) "---\nqvm: user-data\n" BOMB META_DATA);
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
}

static void test_anchors_and_aliases_in_vm(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM(DISK BOMB)),
		       "document 'vm', key 'a': anchors and aliases are not allowed (found &a)");
	assert_refused(FILE_WITH(VM("memory: &m 1024\n" DISK)),
		       "document 'vm', key 'memory': anchors and aliases are not allowed (found &m)");
	assert_refused(FILE_WITH(VM("disk: &d\n  zvol: {base: tank/x}\n")),
		       "document 'vm', key 'disk': anchors and aliases are not allowed (found &d)");
	assert_refused(FILE_WITH(VM(DISK "network:\n  - {model: &v virtio}\n")),
		       "document 'vm', key 'network.model': anchors and aliases are not allowed (found &v)");
	assert_refused(FILE_WITH("--- &root\nqvm: vm\nname: web1\n" DISK),
		       "document 'vm' (line 1): anchors and aliases are not allowed (found &root)");
}

static void test_huge_scalar_within_the_limit(void **state)
{
	size_t n = 1000 * 1000;
	char *big = xmalloc(n + 1), *text;

	(void)state;
	memset(big, 'x', n);
	big[n] = '\0';
	text = xasprintf(VM(DISK) "---\nqvm: user-data\nblob: %s\n" META_DATA,
			 big);
	assert_accepted(text);
	free(text);
	free(big);
}

static void test_too_many_documents(void **state)
{
	char *text = xcalloc(17, sizeof(META_DATA));

	(void)state;
	for (int i = 0; i < 17; i++)
		strcat(text, META_DATA);
	assert_refused(text, "line 49, column 1: more than 16 documents");
	free(text);
}

/* ---- the documents ---- */

static void test_empty_file(void **state)
{
	(void)state;
	assert_refused("", "document 'vm' is missing");
	assert_refused("# nothing\n", "document 'vm' is missing");
}

/* An empty document is a null placed at the next token: past the end
 * of the file for a trailing "---". It is reported at its own "---". */
static void test_empty_documents_are_placed_at_their_start(void **state)
{
	(void)state;
	assert_refused("---\n",
		       "document 1 (line 1): empty (each document must be a mapping)");
	assert_refused("---\nqvm: vm\n---\n",
		       "document 2 (line 3): empty (each document must be a mapping)");
	assert_refused("---\nqvm: vm\n---\n...\n",
		       "document 2 (line 3): empty (each document must be a mapping)");
	assert_refused("# c\n---\n---\nqvm: vm\n",
		       "document 1 (line 2): empty (each document must be a mapping)");
	assert_refused("qvm: user-data\n--- # only a comment\n\n\n",
		       "document 2 (line 2): empty (each document must be a mapping)");
	assert_refused("---\n- a\n",
		       "document 1 (line 2): not a mapping");
}

#define VM_DOC VM(DISK)

/* The "qvm" key is left out of the seed: an anchor on it or its value
 * would leave its aliases dangling, and cloud-init would drop the whole
 * file. */
static void test_anchors_on_the_qvm_key_are_refused(void **state)
{
	(void)state;
	assert_refused(VM_DOC "---\nqvm: &q user-data\nx: *q\n" META_DATA,
		       "document 'user-data', key 'qvm': anchors are not allowed here, qvm leaves this key out of the seed (found &q)");
	assert_refused(VM_DOC "---\n&k qvm: user-data\nx: *k\n" META_DATA,
		       "document 'user-data', key 'qvm': anchors are not allowed here, qvm leaves this key out of the seed (found &k)");
	assert_refused(VM_DOC USER_DATA "---\nqvm: &m meta-data\n",
		       "document 'meta-data', key 'qvm': anchors are not allowed here, qvm leaves this key out of the seed (found &m)");
	assert_refused(VM_DOC USER_DATA META_DATA
		       "---\nqvm: !!str &n network-config\nversion: 2\n",
		       "document 'network-config', key 'qvm': anchors are not allowed here, qvm leaves this key out of the seed (found &n)");
	/* Anchors anywhere else are fine. */
	assert_accepted(VM_DOC "---\nqvm: user-data\na: &q x\nb: *q\n"
			META_DATA);
}

/* PyYAML merges "<<" keys: one that brings in "qvm" would put a key
 * back into what cloud-init reads. */
static void test_merging_a_qvm_key_is_refused(void **state)
{
	static const char *const bad[] = {
		"---\nqvm: user-data\n<<: {qvm: x, a: 1}\n",
		"---\nd: &d {qvm: x}\nqvm: user-data\n<<: *d\n",
		"---\nd: &d {qvm: x}\ne: &e {<<: *d}\nqvm: user-data\n"
		"<<: [{a: 1}, *e]\n",
		"---\nqvm: user-data\n!!merge <<: {qvm: x}\n",
		/* A mapping that merges itself: bounded, refused. */
		"---\nd: &d {<<: [*d, *d, *d, *d]}\nqvm: user-data\n"
		"<<: [*d, *d, *d, *d]\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *text = xasprintf(VM_DOC "%s" META_DATA, bad[i]);

		assert_refused(text,
			       "document 'user-data', key '<<': merges in a 'qvm' key, which cloud-init would read (or more than 64 mappings)");
		free(text);
	}
	assert_accepted(VM_DOC "---\nd: &d {a: 1}\nqvm: user-data\n<<: *d\n"
			"x: {<<: {qvm: fine-deeper-down}}\n" META_DATA);
	/* Quoted, "<<" is a plain key. */
	assert_accepted(VM_DOC "---\nqvm: user-data\n\"<<\": {qvm: a-key}\n"
			META_DATA);
}

/* user-data that is not cloud-config (a script, MIME, #include) rides in
 * one "payload" string. */
static void test_payload(void **state)
{
	struct qvmfile qf;
	static const char text[] = VM_DOC
		"---\nqvm: user-data\npayload: |\n  #!/bin/sh\n  echo hi\n"
		META_DATA;

	(void)state;
	parse_ok(text, strlen(text), &qf);
	assert_non_null(qf.payload);
	assert_int_equal(qf.payload_len, 18);
	assert_memory_equal(qf.payload, "#!/bin/sh\necho hi\n", 18);
	qvmfile_free(&qf);
	parse_ok(FILE_WITH(VM_DOC), strlen(FILE_WITH(VM_DOC)), &qf);
	assert_null(qf.payload);
	qvmfile_free(&qf);

	assert_refused(VM_DOC "---\nqvm: user-data\npayload: x\nusers: []\n"
		       META_DATA,
		       "document 'user-data', key 'users': a user-data document with 'payload' holds only 'qvm' and 'payload'");
	assert_refused(VM_DOC "---\nqvm: user-data\nruncmd: []\npayload: x\n"
		       META_DATA,
		       "document 'user-data', key 'runcmd': a user-data document with 'payload' holds only 'qvm' and 'payload'");
	assert_refused(VM_DOC "---\nqvm: user-data\npayload:\n" META_DATA,
		       "document 'user-data', key 'payload': must be a string (a block literal: 'payload: |')");
	assert_refused(VM_DOC "---\nqvm: user-data\npayload: [a]\n" META_DATA,
		       "document 'user-data', key 'payload': must be a string (a block literal: 'payload: |')");
	assert_refused(VM_DOC "---\nqvm: user-data\npayload: 12\n" META_DATA,
		       "document 'user-data', key 'payload': must be a string (a block literal: 'payload: |')");
	assert_refused(VM_DOC "---\nqvm: user-data\npayload: \"a\\0b\"\n"
		       META_DATA,
		       "document 'user-data', key 'payload': a NUL character cannot be written to the seed");
}

static void assert_host_name(const char *name, bool ok)
{
	char *named = xasprintf("---\nqvm: vm\nname: %s\n" DISK USER_DATA
				"---\nqvm: meta-data\n", name);
	char *what = xasprintf("document 'meta-data': the VM name '%s' is not a valid host name (RFC 1123: labels of A-Za-z0-9 and '-', not starting or ending with '-'), so it cannot be the default local-hostname; set local-hostname",
			       name);

	if (ok)
		assert_accepted(named);
	else
		assert_refused(named, what);
	free(named);
	free(what);
}

/* Without local-hostname, meta-data says local-hostname: NAME; a name
 * that is no host name is refused rather than handed to the guest. */
static void test_default_host_name_must_be_valid(void **state)
{
	(void)state;
	assert_host_name("web1", true);
	assert_host_name("Web-1.example.com", true);
	assert_host_name("1e3", true);
	assert_host_name("a23456789012345678901234567890123456789012345678901234567890123", true);
	assert_host_name("a234567890123456789012345678901234567890123456789012345678901234", false);
	assert_host_name("web_1", false);
	assert_host_name("a:b", false);
	assert_host_name("web1.", false);
	assert_host_name("a..b", false);
	assert_host_name("web-", false);
	assert_host_name("a.-b", false);
	assert_host_name("_", false);
	/* With an explicit local-hostname any VM name will do. */
	assert_accepted("---\nqvm: vm\nname: web_1\n" DISK USER_DATA
			"---\nqvm: meta-data\nlocal-hostname: web-1\n");
}

static void test_document_without_qvm(void **state)
{
	(void)state;
	assert_refused(VM(DISK) "---\nusers: []\n" META_DATA,
		       "document 2 (line 9): key 'qvm' is missing");
}

static void test_unknown_qvm_value(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM(DISK)) "---\nqvm: vendor-data\n",
		       "document 4 (line 16), key 'qvm': unknown document 'vendor-data' (use vm, user-data, meta-data or network-config)");
	assert_refused(FILE_WITH(VM(DISK)) "---\nqvm: \"a\\nb\"\n",
		       "document 4 (line 16), key 'qvm': unknown document 'a\\nb' (use vm, user-data, meta-data or network-config)");
	assert_refused(FILE_WITH(VM(DISK)) "---\nqvm: [vm]\n",
		       "document 4 (line 16), key 'qvm': must be a string (use vm, user-data, meta-data or network-config)");
}

static void test_document_missing(void **state)
{
	(void)state;
	assert_refused(VM(DISK) USER_DATA, "document 'meta-data' is missing");
	assert_refused(VM(DISK) META_DATA, "document 'user-data' is missing");
	assert_refused(USER_DATA META_DATA, "document 'vm' is missing");
}

static void test_document_given_twice(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM(DISK)) USER_DATA,
		       "document 'user-data' (line 16): given twice (first at line 9)");
	assert_refused(FILE_WITH(VM(DISK)) VM(DISK),
		       "document 'vm' (line 16): given twice (first at line 2)");
	assert_refused(FILE_WITH(VM(DISK)) "---\nqvm: network-config\n"
		       "---\nqvm: network-config\n",
		       "document 'network-config' (line 18): given twice (first at line 16)");
}

static void test_document_not_a_mapping(void **state)
{
	(void)state;
	assert_refused(VM(DISK) "---\n- qvm: user-data\n" META_DATA,
		       "document 2 (line 9): not a mapping");
	assert_refused(VM(DISK) USER_DATA "--- meta-data\n",
		       "document 3 (line 12): not a mapping");
}

/* ---- the vm document ---- */

static void test_no_name(void **state)
{
	(void)state;
	assert_refused(FILE_WITH("---\nqvm: vm\nmemory: 1024\n" DISK),
		       "document 'vm' (line 2): key 'name' is missing");
}

static void assert_bad_name(const char *name, const char *what)
{
	char *text = xasprintf(FILE_WITH("---\nqvm: vm\nname: %s\n" DISK),
			       name);

	assert_refused(text, what);
	free(text);
}

static void test_bad_names(void **state)
{
	(void)state;
	assert_bad_name("a/b",
			"document 'vm', key 'name': 'a/b' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("..",
			"document 'vm', key 'name': '..' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("../../etc",
			"document 'vm', key 'name': '../../etc' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("-x",
			"document 'vm', key 'name': '-x' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("--connect=qemu:///system",
			"document 'vm', key 'name': '--connect=qemu:///system' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name(".x",
			"document 'vm', key 'name': '.x' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("web 1",
			"document 'vm', key 'name': 'web 1' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("tank@snap",
			"document 'vm', key 'name': 'tank@snap' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("",
			"document 'vm', key 'name': '' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("a2345678901234567890123456789012345678901234567890123456789012345",
			"document 'vm', key 'name': 'a2345678901234567890123456789012345678901234567890123456789012345' is longer than 64 characters");
	assert_bad_name("[web1]", "document 'vm', key 'name': must be a string");
	/* Plain scalars YAML 1.1 (cloud-init's PyYAML) does not read as
	 * strings: "false" would even drop --name. */
	assert_bad_name("false",
			"document 'vm', key 'name': 'false' is a boolean in YAML 1.1, not a string (quote it)");
	assert_bad_name("True",
			"document 'vm', key 'name': 'True' is a boolean in YAML 1.1, not a string (quote it)");
	assert_bad_name("yes",
			"document 'vm', key 'name': 'yes' is a boolean in YAML 1.1, not a string (quote it)");
	assert_bad_name("off",
			"document 'vm', key 'name': 'off' is a boolean in YAML 1.1, not a string (quote it)");
	assert_bad_name("null",
			"document 'vm', key 'name': 'null' is null in YAML 1.1, not a string (quote it)");
	assert_bad_name("NULL",
			"document 'vm', key 'name': 'NULL' is null in YAML 1.1, not a string (quote it)");
	assert_bad_name("~",
			"document 'vm', key 'name': '~' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')");
	assert_bad_name("1_000",
			"document 'vm', key 'name': '1_000' is an integer in YAML 1.1, not a string (quote it)");
	assert_bad_name("1:30",
			"document 'vm', key 'name': '1:30' is an integer in YAML 1.1, not a string (quote it)");
	assert_bad_name("0x1F",
			"document 'vm', key 'name': '0x1F' is an integer in YAML 1.1, not a string (quote it)");
	assert_bad_name("1.5",
			"document 'vm', key 'name': '1.5' is a float in YAML 1.1, not a string (quote it)");
	assert_bad_name("2026-11-26",
			"document 'vm', key 'name': '2026-11-26' is a timestamp in YAML 1.1, not a string (quote it)");
	assert_bad_name("!!bool yes",
			"document 'vm', key 'name': 'yes' is a boolean in YAML 1.1, not a string (quote it)");
	assert_bad_name("\"web\\n1\"",
			"document 'vm', key 'name': control characters (newline, tab, ...) are not allowed in a value");
}

static void test_quoted_or_tagged_names_are_strings(void **state)
{
	(void)state;
	assert_accepted(FILE_WITH("---\nqvm: vm\nname: \"true\"\n" DISK));
	assert_accepted(FILE_WITH("---\nqvm: vm\nname: 'null'\n" DISK));
	assert_accepted(FILE_WITH("---\nqvm: vm\nname: !!str 1_000\n" DISK));
	assert_accepted(FILE_WITH("---\nqvm: vm\nname: 1e3\n" DISK));
}

static void test_no_disk(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("memory: 1024\n")),
		       "document 'vm' (line 2): key 'disk' is missing");
}

static void test_disk_not_mappings(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("disk: /var/lib/x.img\n")),
		       "document 'vm', key 'disk': must be a mapping or a list of mappings");
	assert_refused(FILE_WITH(VM("disk:\n  - /var/lib/x.img\n"
				    "  - zvol: {base: tank/x}\n")),
		       "document 'vm', key 'disk': must be a mapping or a list of mappings");
}

static void test_disk_without_zvol(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("disk: {path: /x.img, size: 10}\n")),
		       "document 'vm', key 'disk': no disk has a 'zvol' (the volume qvm clones)");
	assert_refused(FILE_WITH(VM("disk: []\n")),
		       "document 'vm', key 'disk': no disk has a 'zvol' (the volume qvm clones)");
}

static void test_two_zvol_disks(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("disk:\n"
				    "  - zvol: {base: tank/a}\n"
				    "  - zvol: {base: tank/b}\n")),
		       "document 'vm', key 'disk': more than one disk has a 'zvol'");
}

static void test_zvol_without_base(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("disk: {zvol: {volsize: 20G}}\n")),
		       "document 'vm', key 'disk.zvol': key 'base' is missing");
	assert_refused(FILE_WITH(VM("disk: {zvol: {}}\n")),
		       "document 'vm', key 'disk.zvol': key 'base' is missing");
	assert_refused(FILE_WITH(VM("disk: {zvol: tank/x}\n")),
		       "document 'vm', key 'disk.zvol': must be a mapping");
}

static void test_zvol_disk_with_path(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("disk:\n  path: /dev/zvol/tank/other\n"
				    "  zvol: {base: tank/x}\n")),
		       "document 'vm', key 'disk.path': qvm sets the zvol disk's path; remove it");
}

static void assert_bad_base(const char *base)
{
	char *text = xasprintf(FILE_WITH(VM("disk: {zvol: {base: '%s'}}\n")),
			       base);
	char *what = xasprintf("document 'vm', key 'disk.zvol.base': '%s' is not a dataset name with a parent (pool/.../name, characters A-Za-z0-9_.:-)",
			       base);

	assert_refused(text, what);
	free(what);
	free(text);
}

static void test_bad_base(void **state)
{
	(void)state;
	assert_bad_base("tank");
	assert_bad_base("tank/debian12@base");
	assert_bad_base("tank//x");
	assert_bad_base("tank/x/");
	assert_bad_base("/tank/x");
	assert_bad_base("tank/../x");
	assert_bad_base("tank/./x");
	assert_bad_base("1tank/x");
	assert_bad_base("tank/a b");
	assert_refused(FILE_WITH(VM("disk: {zvol: {base: }}\n")),
		       "document 'vm', key 'disk.zvol.base': needs a value");
}

static void test_bad_volsize(void **state)
{
	static const char *const sizes[] = {
		"20X", "-1", "1.5.5", "G", "20 G", "1.G", "20BB", "20GiB",
		"20GBB", "0x10", "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		char *text = xasprintf(FILE_WITH(VM(
			"disk: {zvol: {base: tank/x, volsize: '%s'}}\n")),
			sizes[i]);
		char *what = xasprintf("document 'vm', key 'disk.zvol.volsize': '%s' is not a zfs size (e.g. 20G, 20480M, 1.5T)",
				       sizes[i]);

		assert_refused(text, what);
		free(what);
		free(text);
	}
}

static void test_bad_zvol_property(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("disk: {zvol: {base: tank/x, Compression: lz4}}\n")),
		       "document 'vm', key 'disk.zvol.Compression': not a valid zfs property name (use [a-z0-9][a-z0-9_.:-]*)");
	assert_refused(FILE_WITH(VM("disk: {zvol: {base: tank/x, -o: x}}\n")),
		       "document 'vm', key 'disk.zvol.-o': not a valid zfs property name (use [a-z0-9][a-z0-9_.:-]*)");
	assert_refused(FILE_WITH(VM("disk: {zvol: {base: tank/x, compression: }}\n")),
		       "document 'vm', key 'disk.zvol.compression': needs a value");
	assert_refused(FILE_WITH(VM("disk: {zvol: {base: tank/x, compression: [lz4]}}\n")),
		       "document 'vm', key 'disk.zvol.compression': needs a value");
	assert_refused(FILE_WITH(VM("disk: {zvol: {base: tank/x, comment: \"a\\nb\"}}\n")),
		       "document 'vm', key 'disk.zvol.comment': control characters (newline, tab, ...) are not allowed in a value");
}

static void test_bad_option_keys(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM(DISK "--x: 1\n")),
		       "document 'vm', key '--x': not a valid option name (use [a-z0-9][a-z0-9_-]*)");
	assert_refused(FILE_WITH(VM(DISK "-x: 1\n")),
		       "document 'vm', key '-x': not a valid option name (use [a-z0-9][a-z0-9_-]*)");
	assert_refused(FILE_WITH(VM(DISK "Memory: 1\n")),
		       "document 'vm', key 'Memory': not a valid option name (use [a-z0-9][a-z0-9_-]*)");
	assert_refused(FILE_WITH(VM(DISK "a b: 1\n")),
		       "document 'vm', key 'a b': not a valid option name (use [a-z0-9][a-z0-9_-]*)");
	assert_refused(FILE_WITH(VM(DISK "a.b: 1\n")),
		       "document 'vm', key 'a.b': not a valid option name (use [a-z0-9][a-z0-9_-]*)");
	assert_refused(FILE_WITH(VM(DISK "\"a\\nb\": 1\n")),
		       "document 'vm', key 'a\\nb': not a valid option name (use [a-z0-9][a-z0-9_-]*)");
	assert_refused(FILE_WITH(VM(DISK "~: 1\n")),
		       "document 'vm', key '~': not a valid option name (use [a-z0-9][a-z0-9_-]*)");
	assert_refused(FILE_WITH(VM("disk:\n  Cache: none\n  zvol: {base: tank/x}\n")),
		       "document 'vm', key 'disk.Cache': not a valid sub-option name (use [a-z0-9][a-z0-9_.-]*)");
	assert_refused(FILE_WITH(VM(DISK "network: [{--model: virtio}]\n")),
		       "document 'vm', key 'network.--model' (list item 1): not a valid sub-option name (use [a-z0-9][a-z0-9_.-]*)");
	/* Which item of a list is named too. */
	assert_refused(FILE_WITH(VM(DISK "network:\n  - model: virtio\n"
				    "  - {model: \"e\\n1000\"}\n")),
		       "document 'vm', key 'network.model' (list item 2): control characters (newline, tab, ...) are not allowed in a value");
}

static void assert_option_refused(const char *option, const char *why)
{
	char *text = xasprintf(FILE_WITH(VM(DISK "%s: x\n")), option);
	char *what = xasprintf("document 'vm', key '%s': %s", option, why);

	assert_refused(text, what);
	free(text);
	free(what);
}

/* Keys that would turn "define and start an import" into something else
 * while qvm reports "VM created", or that qvm passes itself. */
static void test_options_that_change_the_run_are_refused(void **state)
{
	(void)state;
	assert_option_refused("dry-run", DEFINES_NOTHING);
	assert_option_refused("print-xml", DEFINES_NOTHING);
	assert_option_refused("print-step", DEFINES_NOTHING);
	assert_option_refused("help", DEFINES_NOTHING);
	assert_option_refused("version", DEFINES_NOTHING);
	assert_option_refused("cdrom", INSTALL_MODE);
	assert_option_refused("location", INSTALL_MODE);
	assert_option_refused("pxe", INSTALL_MODE);
	assert_option_refused("install", INSTALL_MODE);
	assert_option_refused("reinstall", INSTALL_MODE);
	assert_option_refused("unattended", INSTALL_MODE);
	assert_option_refused("extra-args", INSTALL_MODE);
	assert_option_refused("initrd-inject", INSTALL_MODE);
	assert_option_refused("cloud-init",
			      "virt-install would make a second cloud-init seed: qvm writes its own from the user-data and meta-data documents");
	assert_option_refused("import", "qvm passes it itself");
	assert_option_refused("noautoconsole", "qvm passes it itself");
	assert_option_refused("uuid", "qvm sets --uuid itself");
	assert_option_refused("autoconsole", NO_CONSOLE);
	assert_option_refused("wait", NO_CONSOLE);
	assert_option_refused("destroy-on-exit", NO_CONSOLE);
	assert_option_refused("transient",
			      "a transient domain is gone once it stops, but qvm records (and destroys) a persistent one");
	/* As a flag too. */
	assert_refused(FILE_WITH(VM(DISK "dry-run: true\n")),
		       "document 'vm', key 'dry-run': " DEFINES_NOTHING);
	assert_refused(FILE_WITH(VM(DISK "pxe:\n")),
		       "document 'vm', key 'pxe': " INSTALL_MODE);
}

/* argparse takes "--nam x" for "--name x": the domain would be "x" while
 * qvm records "web1". Only virt-install's own names, in full. */
static void test_abbreviations_and_unknown_options_are_refused(void **state)
{
	(void)state;
	assert_option_refused("nam", NOT_AN_OPTION);
	assert_option_refused("na", NOT_AN_OPTION);
	assert_option_refused("os-var", NOT_AN_OPTION);
	assert_option_refused("print", NOT_AN_OPTION);
	assert_option_refused("dry", NOT_AN_OPTION);
	assert_option_refused("n", NOT_AN_OPTION);
	assert_option_refused("ram", NOT_AN_OPTION);
	assert_option_refused("os_variant", NOT_AN_OPTION);
	assert_option_refused("yes", NOT_AN_OPTION);
	/* Every option virt-install --help lists that qvm allows. */
	assert_accepted(FILE_WITH(VM(DISK
		"connect: test:///default\nmemory: 1024\nvcpus: 2\n"
		"cpu: host\nmetadata: {title: t}\nxml: ./@x=1\nboot: uefi\n"
		"idmap: {uid.start: 0}\nos-variant: debian11\nosinfo: x\n"
		"network: none\ngraphics: none\ncontroller: usb\n"
		"input: tablet\nserial: pty\nparallel: pty\nchannel: pty\n"
		"console: pty\nhostdev: 001.003\nfilesystem: /a,/b\n"
		"sound: ich9\naudio: none\nwatchdog: default\n"
		"video: virtio\nsmartcard: none\nredirdev: usb\n"
		"memballoon: none\ntpm: none\nrng: /dev/urandom\n"
		"panic: default\nshmem: x\nmemdev: dimm\nvsock: cid.auto=yes\n"
		"iommu: intel\niothreads: 2\nseclabel: {type: none}\n"
		"security: {type: none}\nkeywrap: x\ncputune: x\n"
		"numatune: 0\nmemtune: {hard_limit: 1}\nblkiotune: x\n"
		"memorybacking: x\nfeatures: {acpi: on}\nclock: {offset: utc}\n"
		"pm: x\nevents: {on_crash: restart}\nresource: x\n"
		"sysinfo: host\nqemu-commandline: x\nlaunchsecurity: sev\n"
		"hvm: true\nparavirt: false\ncontainer: false\n"
		"virt-type: kvm\narch: x86_64\nmachine: q35\nautostart: yes\n"
		"noreboot: no\ncheck: {all: off}\nquiet: off\ndebug: off\n"
		"description: d\n")));
}

static void test_control_characters_in_vm_values(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM("description: \"one\\ntwo\"\n" DISK)),
		       "document 'vm', key 'description': control characters (newline, tab, ...) are not allowed in a value");
	assert_refused(FILE_WITH(VM("description: |\n  one\n  two\n" DISK)),
		       "document 'vm', key 'description': control characters (newline, tab, ...) are not allowed in a value");
	assert_refused(FILE_WITH(VM("description: \"a\tb\"\n" DISK)),
		       "document 'vm', key 'description': control characters (newline, tab, ...) are not allowed in a value");
	assert_refused(FILE_WITH(VM("description: \"a\\u2028b\"\n" DISK)),
		       "document 'vm', key 'description': control characters (newline, tab, ...) are not allowed in a value");
	assert_refused(FILE_WITH(VM("disk:\n  serial: \"x\\ry\"\n  zvol: {base: tank/x}\n")),
		       "document 'vm', key 'disk.serial': control characters (newline, tab, ...) are not allowed in a value");
	assert_refused(FILE_WITH(VM(DISK "hostdev: [ok, \"b\\0ad\"]\n")),
		       "document 'vm', key 'hostdev' (list item 2): control characters (newline, tab, ...) are not allowed in a value");
}

static void test_lists_only_under_top_level_keys(void **state)
{
	(void)state;
	assert_refused(FILE_WITH(VM(DISK "boot: {order: [hd, cdrom]}\n")),
		       "document 'vm', key 'boot.order': a list is only allowed directly under a top-level key");
	assert_refused(FILE_WITH(VM(DISK "network: [[a]]\n")),
		       "document 'vm', key 'network' (list item 1): a list cannot hold a list");
}

static void test_untranslatable_vm_document(void **state)
{
	(void)state;
	/* Any sub-option value can be passed now (test_vmargs.c). */
	assert_accepted(FILE_WITH(VM("disk:\n  zvol: {base: tank/x}\n"
				     "  serial: 'a,\"b\\\\'\n")));
	assert_refused(FILE_WITH(VM(DISK "boot: {}\n")),
		       "document 'vm', key 'boot': an empty mapping cannot be passed to virt-install");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example_fills_every_field),
		cmocka_unit_test(test_documents_in_any_order_with_network_config),
		cmocka_unit_test(test_two_disks_second_one_is_the_zvol),
		cmocka_unit_test(test_empty_user_data_and_user_data_anchors_are_fine),
		cmocka_unit_test(test_fixtures_are_valid),
		cmocka_unit_test(test_bad_fixtures_are_refused),
		cmocka_unit_test(test_quoted_keys_are_the_same_keys),
		cmocka_unit_test(test_names_that_are_fine),
		cmocka_unit_test(test_volsizes_that_are_fine),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory_is_not_a_qvm_file),
		cmocka_unit_test(test_file_over_one_mib),
		cmocka_unit_test(test_not_yaml_gives_line_and_column),
		cmocka_unit_test(test_tab_indentation),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_non_string_keys),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_alias_bomb_in_user_data_loads_fast),
		cmocka_unit_test(test_anchors_and_aliases_in_vm),
		cmocka_unit_test(test_huge_scalar_within_the_limit),
		cmocka_unit_test(test_too_many_documents),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_empty_documents_are_placed_at_their_start),
		cmocka_unit_test(test_anchors_on_the_qvm_key_are_refused),
		cmocka_unit_test(test_merging_a_qvm_key_is_refused),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_default_host_name_must_be_valid),
		cmocka_unit_test(test_document_without_qvm),
		cmocka_unit_test(test_unknown_qvm_value),
		cmocka_unit_test(test_document_missing),
		cmocka_unit_test(test_document_given_twice),
		cmocka_unit_test(test_document_not_a_mapping),
		cmocka_unit_test(test_no_name),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_quoted_or_tagged_names_are_strings),
		cmocka_unit_test(test_no_disk),
		cmocka_unit_test(test_disk_not_mappings),
		cmocka_unit_test(test_disk_without_zvol),
		cmocka_unit_test(test_two_zvol_disks),
		cmocka_unit_test(test_zvol_without_base),
		cmocka_unit_test(test_zvol_disk_with_path),
		cmocka_unit_test(test_bad_base),
		cmocka_unit_test(test_bad_volsize),
		cmocka_unit_test(test_bad_zvol_property),
		cmocka_unit_test(test_bad_option_keys),
		cmocka_unit_test(test_options_that_change_the_run_are_refused),
		cmocka_unit_test(test_abbreviations_and_unknown_options_are_refused),
		cmocka_unit_test(test_control_characters_in_vm_values),
		cmocka_unit_test(test_lists_only_under_top_level_keys),
		cmocka_unit_test(test_untranslatable_vm_document),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
