/* sums: the expected digest from --sha256, or from a checksum list as
 * Debian, Ubuntu and Fedora publish it, and every way a list can mislead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sums.h"

/* Digests as they appear in the lists (invented values, real shapes). */
#define D1 "12c5f7b40e864b968eed8164fa095e35e28371caf878e24ddda72446f95ceb97cfd1cf04bcbc8b592811936bf4224fccfd81dd678d9cc5bcf9065a1d6156977a"
#define D2 "22054b38b62bd6fb142acf0953802e086ee8fa71a797ffcf7ecbdab1ab01421466e3875b93bc0de3d12709b2b8cadfb977668ac6b748e1758676ad8d75f26ca8"
#define D3 "04a81f6749d10177a992641c87424cc83bf4bb57ee9a6b3b4869e7b4d1994561f81208ee83e39fedb83c574d5720bf6f4870cdd7b23075738db7b56f1c7548e5"
#define D4 "da718e2d2919b773cecc7620da887b9745a8bd11d9c333090d5fc0f1ea6b70be76dad84f4b7b48d55c1403d56d4953ec70bbf6d8567561ff6b5c55b35a33866e"
#define D5 "d849e15d9eb8853c24325c071f83150f85673c1a1bf4281c32c116466024f47d0be72353b88a0ae8bb9b4c4160b2612642a88a1728f0f01c583cd6bbbc16891a"
#define D6 "7ecdb14e8b93afc9158d345cea271ea80ea9fa0075a579ca159c0fe17fbc70176bbfbda18951dc6d1eba055d1ca78624c0eb89273850e0dede6d3f35b18efcbb"
#define U1 "957d43f78773486e4903802edfa254d6df420bdce9e33af97037c5202634a91d"
#define U2 "91c364cd335cb1c77b73ecaff5d888e4287e3e445f3b3802a055318d99fed7eb"
#define U3 "40d62e83fe53d541386b1c5b6fb08cd6c51ff936673295f6a1752f103deb98fc"
#define U4 "90a2f3e55887ec1166388aa7ec37c6d667670939eefc55037282f6690fdded05"
#define U5 "52334e1cea2c315bf8f76c9b2ab33519ee1da2b1064a9cb3817c5bdfd17a591f"
#define U6 "7f2827bf8deeb7c579a89a21b193052ae2311c3883af5e06512243e2323d0a6c"
#define U7 "9933779bf1e8685371f61e2ba21080d6e2653b8b222e6ae89c478f92affc7ace"
#define U8 "f25d719cb915fb7e22fee3a4ec0b33b45557eb0ecca99e00244c7939095881a5"

/* https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS */
static const char debian[] =
	D1 "  debian-12-azure-amd64.json\n"
	D2 "  debian-12-azure-amd64.raw\n"
	D3 "  debian-12-generic-amd64.json\n"
	D4 "  debian-12-generic-amd64.qcow2\n"
	D5 "  debian-12-generic-amd64.raw\n"
	D6 "  debian-12-nocloud-amd64.tar.xz\n";
#define DEBIAN_URL "https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS"

/* https://cloud-images.ubuntu.com/noble/current/SHA256SUMS (binary mode) */
static const char ubuntu[] =
	U1 " *noble-server-cloudimg-amd64-azure.vhd.tar.gz\n"
	U2 " *noble-server-cloudimg-amd64-lxd.tar.xz\n"
	U3 " *noble-server-cloudimg-amd64-root.tar.xz\n"
	U4 " *noble-server-cloudimg-amd64.img\n"
	U5 " *noble-server-cloudimg-amd64.manifest\n"
	U6 " *noble-server-cloudimg-amd64.tar.gz\n";
#define UBUNTU_URL "https://cloud-images.ubuntu.com/noble/current/SHA256SUMS"

/* Fedora's CHECKSUM: BSD lines, byte counts as comments, clearsigned. The
 * signature holds a line shaped like a GNU entry: it must never count. */
static const char fedora[] =
	"-----BEGIN PGP SIGNED MESSAGE-----\n"
	"Hash: SHA256\n"
	"\n"
	"# Fedora-Cloud-Base-AmazonEC2-41-1.4.x86_64.raw.xz: 408727836 bytes\n"
	"SHA256 (Fedora-Cloud-Base-AmazonEC2-41-1.4.x86_64.raw.xz) = " U1 "\n"
	"# Fedora-Cloud-Base-Azure-41-1.4.x86_64.vhdfixed.xz: 423184948 bytes\n"
	"SHA256 (Fedora-Cloud-Base-Azure-41-1.4.x86_64.vhdfixed.xz) = " U2 "\n"
	"# Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2: 491716608 bytes\n"
	"SHA256 (Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2) = " U3 "\n"
	"# Fedora-Cloud-Base-UEFI-UKI-41-1.4.x86_64.qcow2: 531365888 bytes\n"
	"SHA256 (Fedora-Cloud-Base-UEFI-UKI-41-1.4.x86_64.qcow2) = " U4 "\n"
	"-----BEGIN PGP SIGNATURE-----\n"
	"\n"
	"iQIzBAEBCAAdFiEE6PI6Ud2bBYFYlXzcdJ3DnFLodWIFAmcRbT0ACgkQdJ3DnFLo\n"
	U5 "  signature-part.raw\n"
	"dWIjjA/+N2J3T5Ue3Z8rJtiMx6TnITgUg0pmq4ne5Dto6QG6p2mH4pO3uXDtvNl8\n"
	"=Xk1v\n"
	"-----END PGP SIGNATURE-----\n";
#define FEDORA_URL "https://download.fedoraproject.org/pub/fedora/linux/releases/41/Cloud/x86_64/images/Fedora-Cloud-41-1.4-x86_64-CHECKSUM"

static char errbuf[1024];

static int find(const char *text, size_t len, const char *list,
		const char *name, struct sums_entry *e)
{
	errbuf[0] = '\0';
	memset(e, 0x55, sizeof(*e));
	return sums_find(text, len, list, name, e, errbuf, sizeof(errbuf));
}

#define FIND(text, list, name, e) find(text, strlen(text), list, name, e)

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void test_programs_and_names(void **state)
{
	(void)state;
	assert_string_equal(sums_program(SUMS_SHA256), "sha256sum");
	assert_string_equal(sums_program(SUMS_SHA512), "sha512sum");
	assert_string_equal(sums_kind_name(SUMS_SHA256), "SHA-256");
	assert_string_equal(sums_kind_name(SUMS_SHA512), "SHA-512");
}

static void test_hex_any_case_becomes_lowercase(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(sums_from_hex("957D43F78773486E4903802EDFA254D6DF420BDCE9E33AF97037C5202634A91D",
				       SUMS_SHA256, &e, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(e.kind, SUMS_SHA256);
	assert_string_equal(e.hex, U1);
	assert_int_equal(sums_from_hex(D4, SUMS_SHA512, &e, errbuf,
				       sizeof(errbuf)), 0);
	assert_int_equal(e.kind, SUMS_SHA512);
	assert_string_equal(e.hex, D4);
}

static void test_hex_of_the_wrong_length_or_not_hex(void **state)
{
	struct sums_entry e;

	(void)state;
	/* 63 digits */
	assert_int_equal(sums_from_hex(U1 + 1, SUMS_SHA256, &e, errbuf,
				       sizeof(errbuf)), -1);
	assert_contains(errbuf, "not a SHA-256 digest: 63 hexadecimal digits, not 64");
	/* a SHA-512 digest given as --sha256 */
	assert_int_equal(sums_from_hex(D1, SUMS_SHA256, &e, errbuf,
				       sizeof(errbuf)), -1);
	assert_contains(errbuf, "128 hexadecimal digits, not 64");
	assert_int_equal(sums_from_hex("", SUMS_SHA256, &e, errbuf,
				       sizeof(errbuf)), -1);
	assert_contains(errbuf, "0 hexadecimal digits");
	assert_int_equal(sums_from_hex("957d43f78773486e4903802edfa254d6df420bdce9e33af97037c5202634a91g",
				       SUMS_SHA256, &e, errbuf, sizeof(errbuf)), -1);
	assert_contains(errbuf, "character 64 is not a hexadecimal digit");
	assert_int_equal(sums_from_hex("sha256:" U1, SUMS_SHA256, &e, errbuf,
				       sizeof(errbuf)), -1);
	assert_contains(errbuf, "character 1 is not");
	/* a control character is shown escaped, not printed */
	assert_int_equal(sums_from_hex(U1 "\n", SUMS_SHA256, &e, errbuf,
				       sizeof(errbuf)), -1);
	assert_contains(errbuf, "\\n is not a SHA-256 digest");
}

static void test_debian_sha512sums(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND(debian, DEBIAN_URL, "debian-12-generic-amd64.qcow2", &e), 0);
	assert_int_equal(e.kind, SUMS_SHA512);
	assert_string_equal(e.hex, D4);
	assert_int_equal(FIND(debian, DEBIAN_URL, "debian-12-nocloud-amd64.tar.xz", &e), 0);
	assert_string_equal(e.hex, D6);
	assert_int_equal(FIND(debian, "/srv/mirror/SHA512SUMS", "debian-12-generic-amd64.raw", &e), 0);
	assert_string_equal(e.hex, D5);
}

static void test_ubuntu_sha256sums_in_binary_mode(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND(ubuntu, UBUNTU_URL, "noble-server-cloudimg-amd64.img", &e), 0);
	assert_int_equal(e.kind, SUMS_SHA256);
	assert_string_equal(e.hex, U4);
	assert_int_equal(FIND(ubuntu, UBUNTU_URL, "noble-server-cloudimg-amd64-lxd.tar.xz", &e), 0);
	assert_string_equal(e.hex, U2);
}

static void test_fedora_clearsigned_checksum(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND(fedora, FEDORA_URL, "Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2", &e), 0);
	assert_int_equal(e.kind, SUMS_SHA256);
	assert_string_equal(e.hex, U3);
	assert_int_equal(FIND(fedora, FEDORA_URL, "Fedora-Cloud-Base-AmazonEC2-41-1.4.x86_64.raw.xz", &e), 0);
	assert_string_equal(e.hex, U1);
	/* "Hash: SHA256" and the byte-count comments are not entries */
	assert_int_equal(FIND(fedora, FEDORA_URL, "Hash:", &e), -1);
	assert_int_equal(FIND(fedora, FEDORA_URL, "408727836", &e), -1);
}

static void test_no_line_of_a_signature_is_an_entry(void **state)
{
	struct sums_entry e;
	char *cut;

	(void)state;
	assert_int_equal(FIND(fedora, FEDORA_URL, "signature-part.raw", &e), -1);
	assert_string_equal(errbuf, "no entry for signature-part.raw in " FEDORA_URL);
	/* a signature that never ends: all that follows it is signature */
	cut = strdup(fedora);
	assert_non_null(cut);
	*strstr(cut, "dWIjjA") = '\0';
	assert_int_equal(FIND(cut, FEDORA_URL, "signature-part.raw", &e), -1);
	/* and a public key block in a plain list is skipped too */
	assert_int_equal(FIND("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
			      U1 "  key.raw\n"
			      "-----END PGP PUBLIC KEY BLOCK-----\n"
			      U2 "  disk.raw\n", "SHA256SUMS", "key.raw", &e), -1);
	assert_int_equal(FIND("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
			      U1 "  key.raw\n"
			      "-----END PGP PUBLIC KEY BLOCK-----\n"
			      U2 "  disk.raw\n", "SHA256SUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U2);
	free(cut);
}

static void test_armor_headers_and_dash_escapes(void **state)
{
	struct sums_entry e;
	static const char signed_gnu[] =
		"-----BEGIN PGP SIGNED MESSAGE-----\r\n"
		"Hash: SHA512\r\n"
		U7 "  in-the-headers.raw\r\n"
		"\r\n"
		"- " U8 "  dash-escaped.raw\r\n"
		U6 "  plain.raw\r\n"
		"-----BEGIN PGP SIGNATURE-----\r\n"
		"\r\n"
		"iQIzBAEBCgAdFiEE\r\n"
		"-----END PGP SIGNATURE-----\r\n";

	(void)state;
	assert_int_equal(FIND(signed_gnu, "SHA256SUMS", "dash-escaped.raw", &e), 0);
	assert_string_equal(e.hex, U8);
	assert_int_equal(FIND(signed_gnu, "SHA256SUMS", "plain.raw", &e), 0);
	assert_string_equal(e.hex, U6);
	assert_int_equal(FIND(signed_gnu, "SHA256SUMS", "in-the-headers.raw", &e), -1);
}

static void test_crlf_comments_blank_lines_and_bom(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND("\xef\xbb\xbf# made on Windows\r\n"
			      "\r\n"
			      "   \r\n"
			      "  # indented comment " U1 "  disk.raw\r\n"
			      U2 "  disk.raw\r\n", "SHA256SUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U2);
	/* no newline at the end */
	assert_int_equal(FIND(U3 "  disk.raw", "SHA256SUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U3);
	/* the BOM only counts at the very start */
	assert_int_equal(FIND(U3 "  a.raw\n\xef\xbb\xbf" U4 "  disk.raw\n",
			      "SHA256SUMS", "disk.raw", &e), -1);
}

static void test_uppercase_digests_are_lowered(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND("957D43F78773486E4903802EDFA254D6DF420BDCE9E33AF97037C5202634A91D  disk.raw\n",
			      "SHA256SUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U1);
}

static void test_two_entries_that_disagree(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND(U1 "  disk.raw\n" U3 "  other.raw\n" U2 " *disk.raw\n",
			      "SHA256SUMS", "disk.raw", &e), -1);
	assert_string_equal(errbuf, "SHA256SUMS has two different SHA-256 digests for disk.raw (lines 1 and 3)");
	/* ./NAME is the same file */
	assert_int_equal(FIND(U1 "  disk.raw\n" U2 "  ./disk.raw\n",
			      "SHA256SUMS", "disk.raw", &e), -1);
	assert_contains(errbuf, "two different SHA-256 digests");
	/* agreeing repeats (any case) are fine */
	assert_int_equal(FIND(U1 "  disk.raw\n"
			      "957D43F78773486E4903802EDFA254D6DF420BDCE9E33AF97037C5202634A91D  ./disk.raw\n",
			      "SHA256SUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U1);
}

static void test_both_kinds_for_one_name_uses_sha512(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND("SHA256 (disk.raw) = " U1 "\n"
			      "SHA512 (disk.raw) = " D1 "\n", "CHECKSUM",
			      "disk.raw", &e), 0);
	assert_int_equal(e.kind, SUMS_SHA512);
	assert_string_equal(e.hex, D1);
	assert_int_equal(FIND("SHA512 (disk.raw) = " D2 "\n"
			      "SHA256 (disk.raw) = " U2 "\n", "CHECKSUM",
			      "disk.raw", &e), 0);
	assert_string_equal(e.hex, D2);
}

static void test_only_the_same_path_matches(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND(U1 "  ./disk.raw\n", "SHA256SUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U1);
	assert_int_equal(FIND(U1 "  sub/disk.raw\n" U2 "  x.raw\n", "SHA256SUMS",
			      "disk.raw", &e), -1);
	assert_string_equal(errbuf, "no entry for disk.raw in SHA256SUMS (line 1 is for sub/disk.raw, a file in another directory)");
	assert_int_equal(FIND(U1 "  /srv/disk.raw\n", "SHA256SUMS", "disk.raw", &e), -1);
	assert_contains(errbuf, "line 1 is for /srv/disk.raw");
	/* a suffix or a prefix of a name is another file */
	assert_int_equal(FIND(ubuntu, UBUNTU_URL, "amd64.img", &e), -1);
	assert_string_equal(errbuf, "no entry for amd64.img in " UBUNTU_URL);
	assert_int_equal(FIND(ubuntu, UBUNTU_URL, "noble-server-cloudimg-amd64", &e), -1);
	assert_int_equal(FIND(debian, DEBIAN_URL, "debian-12-generic-amd64.qcow", &e), -1);
	assert_int_equal(FIND(debian, DEBIAN_URL, "DEBIAN-12-generic-amd64.qcow2", &e), -1);
	/* the binary-mode star and the separator are not part of the name */
	assert_int_equal(FIND(ubuntu, UBUNTU_URL, "*noble-server-cloudimg-amd64.img", &e), -1);
	assert_int_equal(FIND(debian, DEBIAN_URL, " debian-12-generic-amd64.qcow2", &e), -1);
}

static void test_names_with_spaces_and_parentheses(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND(U1 "  my disk (1).raw\n", "SHA256SUMS", "my disk (1).raw", &e), 0);
	assert_string_equal(e.hex, U1);
	assert_int_equal(FIND("SHA256 (my disk (1).raw) = " U2 "\n", "CHECKSUM",
			      "my disk (1).raw", &e), 0);
	assert_string_equal(e.hex, U2);
	/* a single space (as some tools write) */
	assert_int_equal(FIND(U3 " disk.raw\n", "SHA256SUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U3);
	/* openssl dgst */
	assert_int_equal(FIND("SHA2-256(disk.raw)= " U4 "\n", "disk.raw.sha256",
			      "disk.raw", &e), 0);
	assert_string_equal(e.hex, U4);
	assert_int_equal(FIND("SHA512(disk.raw)= " D3 "\n", "x", "disk.raw", &e), 0);
	assert_string_equal(e.hex, D3);
}

static void test_gnu_escaped_names(void **state)
{
	struct sums_entry e;

	(void)state;
	/* sha256sum writes a\b, a newline and a CR so */
	assert_int_equal(FIND("\\" U1 "  a\\\\b\\nc\\rd.raw\n", "SHA256SUMS",
			      "a\\b\nc\rd.raw", &e), 0);
	assert_string_equal(e.hex, U1);
	assert_int_equal(FIND("\\SHA256 (a\\\\b.raw) = " U2 "\n", "CHECKSUM",
			      "a\\b.raw", &e), 0);
	assert_string_equal(e.hex, U2);
	/* unescaped, a backslash is itself */
	assert_int_equal(FIND(U3 "  a\\nb.raw\n", "SHA256SUMS", "a\\nb.raw", &e), 0);
	assert_string_equal(e.hex, U3);
	assert_int_equal(FIND("\\" U3 "  a\\nb.raw\n", "SHA256SUMS", "a\\nb.raw", &e), -1);
	/* an escape sha256sum never writes matches nothing */
	assert_int_equal(FIND("\\" U4 "  a\\qb.raw\n", "SHA256SUMS", "aqb.raw", &e), -1);
	assert_int_equal(FIND("\\" U4 "  ab.raw\\\n", "SHA256SUMS", "ab.raw", &e), -1);
}

static void test_unreadable_entry_for_the_name(void **state)
{
	struct sums_entry e;

	(void)state;
	/* odd: 63 digits */
	assert_int_equal(FIND(U2 "  a.raw\n" U1 "0  disk.raw\n", "SHA256SUMS", "disk.raw", &e), -1);
	assert_string_equal(errbuf, "SHA256SUMS line 2: the entry for disk.raw is unreadable: a digest of 65 hexadecimal digits, neither 64 (SHA-256) nor 128 (SHA-512)");
	assert_int_equal(FIND("957d43f78773486e4903802edfa254d6df420bdce9e33af97037c5202634a91z  disk.raw\n",
			      "SHA256SUMS", "disk.raw", &e), -1);
	assert_contains(errbuf, "line 1: the entry for disk.raw is unreadable: the digest is not hexadecimal (character 64)");
	assert_int_equal(FIND("SHA256 (disk.raw) = " D1 "\n", "CHECKSUM", "disk.raw", &e), -1);
	assert_contains(errbuf, "a SHA-256 digest of 128 hexadecimal digits, not 64");
	assert_int_equal(FIND("WHIRLPOOL (disk.raw) = " D1 "\n", "CHECKSUM", "disk.raw", &e), -1);
	assert_contains(errbuf, "an unknown hash \"WHIRLPOOL\"");
	/* the same faults in other files' lines are skipped */
	assert_int_equal(FIND(U1 "0  a.raw\nWHIRLPOOL (b.raw) = 1\n" U2 "  disk.raw\n",
			      "SHA256SUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U2);
}

static void test_the_list_name_says_the_kind(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND(D1 "  disk.raw\n", "https://example.org/SHA256SUMS?x=sha512", "disk.raw", &e), -1);
	assert_string_equal(errbuf, "https://example.org/SHA256SUMS?x=sha512 line 1: a SHA-512 digest for disk.raw in a list named for SHA-256");
	assert_int_equal(FIND(U1 "  disk.raw\n", "/tmp/sha512/disk.raw.SHA512", "disk.raw", &e), -1);
	assert_contains(errbuf, "a SHA-256 digest for disk.raw in a list named for SHA-512");
	assert_int_equal(FIND("SHA512 (disk.raw) = " D1 "\n", "sha256sums.txt", "disk.raw", &e), -1);
	/* a directory's name says nothing; a name saying both says nothing */
	assert_int_equal(FIND(U1 "  disk.raw\n", "/srv/sha512/SUMS", "disk.raw", &e), 0);
	assert_int_equal(FIND(U1 "  disk.raw\n", "sha256-and-sha512.txt", "disk.raw", &e), 0);
	assert_int_equal(FIND(D1 "  disk.raw\n", "disk.raw.sha512sum", "disk.raw", &e), 0);
	assert_int_equal(e.kind, SUMS_SHA512);
}

static void test_only_md5_or_sha1(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND("d41d8cd98f00b204e9800998ecf8427e  disk.raw\n" U1 "  x.raw\n",
			      "MD5SUMS", "disk.raw", &e), -1);
	assert_string_equal(errbuf, "MD5SUMS has no SHA-256 or SHA-512 checksum for disk.raw, only MD5 (line 1)");
	assert_int_equal(FIND("SHA1 (disk.raw) = da39a3ee5e6b4b0d3255bfef95601890afd80709\n",
			      "CHECKSUM", "disk.raw", &e), -1);
	assert_contains(errbuf, "only SHA1 (line 1)");
	/* an MD5 line beside a SHA-256 line: the SHA-256 line */
	assert_int_equal(FIND("d41d8cd98f00b204e9800998ecf8427e  disk.raw\n" U1 "  disk.raw\n",
			      "CHECKSUMS", "disk.raw", &e), 0);
	assert_string_equal(e.hex, U1);
}

static void test_not_a_checksum_list(void **state)
{
	struct sums_entry e;

	(void)state;
	assert_int_equal(FIND("<!DOCTYPE html>\n<html><body>Sign in to the Wi-Fi</body></html>\n",
			      "http://example.org/SHA256SUMS", "disk.raw", &e), -1);
	assert_string_equal(errbuf, "http://example.org/SHA256SUMS holds no SHA-256 or SHA-512 checksums (lines \"HEX  NAME\" or \"SHA256 (NAME) = HEX\")");
	assert_int_equal(find("", 0, "SHA256SUMS", "disk.raw", &e), -1);
	assert_contains(errbuf, "holds no SHA-256 or SHA-512 checksums");
	assert_int_equal(FIND(ubuntu, UBUNTU_URL, "", &e), -1);
	assert_contains(errbuf, "no file name to look up");
}

static void test_embedded_nul(void **state)
{
	struct sums_entry e;
	static const char text[] =
		U1 "  disk.raw\0.evil\n"
		"\0\0\0\n"
		U2 "  good\0.raw\n"
		U3 "  good.raw\n";

	(void)state;
	/* the text's length, not its first NUL, is its end */
	assert_int_equal(find(text, sizeof(text) - 1, "SHA256SUMS", "good.raw", &e), 0);
	assert_string_equal(e.hex, U3);
	/* a name with a NUL in it is no C string's name */
	assert_int_equal(find(text, sizeof(text) - 1, "SHA256SUMS", "disk.raw", &e), -1);
	assert_string_equal(errbuf, "no entry for disk.raw in SHA256SUMS");
	assert_int_equal(find(text, sizeof(text) - 1, "SHA256SUMS", "good", &e), -1);
	/* a name ending in NUL: the lookup stops at want's end ("good" is
	 * followed by a second NUL here, as memory after a name may be) */
	assert_int_equal(find(U5 "  good\0\n", sizeof(U5 "  good\0\n") - 1,
			      "SHA256SUMS", "good\0", &e), -1);
	/* a NUL in a digest */
	assert_int_equal(find(U4 "\0  x.raw\n", sizeof(U4 "\0  x.raw\n") - 1,
			      "SHA256SUMS", "x.raw", &e), -1);
	assert_contains(errbuf, "not hexadecimal (character 65)");
}

static void test_very_long_lines(void **state)
{
	struct sums_entry e;
	size_t big = 4u << 20, namelen = 200000;
	char *text = malloc(big + 2 * namelen + 300);
	char *name = malloc(namelen + 1);
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	assert_non_null(name);
	memset(name, 'n', namelen);
	name[namelen] = '\0';
	/* a 4 MiB line of hex, then a comment of the same, then the entry */
	memset(text, 'a', big);
	n = big;
	text[n++] = '\n';
	n += (size_t)sprintf(text + n, "%s  ", U1);
	memcpy(text + n, name, namelen);
	n += namelen;
	text[n++] = '\n';
	assert_int_equal(find(text, n, "SHA256SUMS", name, &e), 0);
	assert_string_equal(e.hex, U1);
	/* one character more or less is another name */
	name[namelen - 1] = '\0';
	assert_int_equal(find(text, n, "SHA256SUMS", name, &e), -1);
	/* the message shows the name cut short, not all of it */
	assert_true(strlen(errbuf) < 400);
	assert_contains(errbuf, "no entry for nnnnnnnn");
	assert_contains(errbuf, "...");
	free(name);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_programs_and_names),
		cmocka_unit_test(test_hex_any_case_becomes_lowercase),
		cmocka_unit_test(test_hex_of_the_wrong_length_or_not_hex),
		cmocka_unit_test(test_debian_sha512sums),
		cmocka_unit_test(test_ubuntu_sha256sums_in_binary_mode),
		cmocka_unit_test(test_fedora_clearsigned_checksum),
		cmocka_unit_test(test_no_line_of_a_signature_is_an_entry),
		cmocka_unit_test(test_armor_headers_and_dash_escapes),
		cmocka_unit_test(test_crlf_comments_blank_lines_and_bom),
		cmocka_unit_test(test_uppercase_digests_are_lowered),
		cmocka_unit_test(test_two_entries_that_disagree),
		cmocka_unit_test(test_both_kinds_for_one_name_uses_sha512),
		cmocka_unit_test(test_only_the_same_path_matches),
		cmocka_unit_test(test_names_with_spaces_and_parentheses),
		cmocka_unit_test(test_gnu_escaped_names),
		cmocka_unit_test(test_unreadable_entry_for_the_name),
		cmocka_unit_test(test_the_list_name_says_the_kind),
		cmocka_unit_test(test_only_md5_or_sha1),
		cmocka_unit_test(test_not_a_checksum_list),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_very_long_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
