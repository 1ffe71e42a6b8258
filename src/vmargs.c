/*
 * vmargs.c: the vm document -> virt-install's argv (rules in vmargs.h).
 *
 * Each option and its value are separate argv elements; nothing here is
 * ever seen by a shell. The only quoting is virt-install's own: its
 * sub-option parser is shlex with commas as the separators.
 */
#include "vmargs.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* A growing "a=1,b.c=2" string. */
struct optbuf {
	char *p;
	size_t len, cap;
};

static void optbuf_add(struct optbuf *b, const char *s, size_t n)
{
	if (n + 1 > b->cap - b->len) {
		while (n + 1 > b->cap - b->len)
			b->cap = b->cap ? 2 * b->cap : 128;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void optbuf_adds(struct optbuf *b, const char *s)
{
	optbuf_add(b, s, strlen(s));
}

struct build {
	char *errbuf;
	size_t errsize;
};

/*
 * Appends ",name=value" (no comma before the first). virt-install splits
 * a sub-option string with Python's shlex (posix mode, whitespace ","):
 * outside quotes a comma ends the value and '"', '\'' and '\\' are
 * syntax. A value holding any of the four is written in double quotes,
 * where shlex only gives '"' and '\\' a meaning, and those two are
 * escaped with '\\': every value reaches virt-install exactly as written.
 */
static void add_subopt(struct optbuf *b, const char *name, const char *value,
		       size_t len)
{
	bool quote = false;

	for (size_t i = 0; i < len && !quote; i++)
		quote = value[i] == ',' || value[i] == '"' ||
			value[i] == '\'' || value[i] == '\\';
	if (b->len)
		optbuf_adds(b, ",");
	optbuf_adds(b, name);
	optbuf_adds(b, "=");
	if (!quote) {
		optbuf_add(b, value, len);
		return;
	}
	optbuf_adds(b, "\"");
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '"' || value[i] == '\\')
			optbuf_adds(b, "\\");
		optbuf_add(b, value + i, 1);
	}
	optbuf_adds(b, "\"");
}

/* A key must be a name: a scalar, not null, without a NUL inside. */
static bool is_name(const struct ynode *key)
{
	return key->type == YNODE_SCALAR && key->len && !ynode_is_null(key) &&
	       strlen(key->value) == key->len;
}

/* The sub-options of map, named prefix.key (top: the option's name, for
 * messages; prefix: NULL at the first level). */
static int add_subopts(struct build *bd, struct optbuf *b,
		       const struct ynode *map, const char *top,
		       const char *prefix, bool skip_zvol)
{
	int ret = 0;

	for (size_t i = 0; ret == 0 && i + 1 < map->n; i += 2) {
		const struct ynode *key = map->items[i];
		const struct ynode *val = map->items[i + 1];
		char *name, *path;

		if (!is_name(key)) {
			if (prefix)
				return text_fail(bd->errbuf, bd->errsize,
					    "key '%s.%s': a sub-option name must be a non-empty string",
					    top, prefix);
			return text_fail(bd->errbuf, bd->errsize,
				    "key '%s': a sub-option name must be a non-empty string",
				    top);
		}
		if (skip_zvol && !strcmp(key->value, "zvol"))
			continue;
		name = prefix ? xasprintf("%s.%s", prefix, key->value) :
				xstrdup(key->value);
		path = xasprintf("%s.%s", top, name);
		switch (val->type) {
		case YNODE_SCALAR:
			if (ynode_is_null(val)) {
				if (b->len)
					optbuf_adds(b, ",");
				optbuf_adds(b, name);
			} else {
				add_subopt(b, name, val->value, val->len);
			}
			break;
		case YNODE_MAP:
			if (!val->n)
				ret = text_fail(bd->errbuf, bd->errsize,
					   "key '%s': an empty mapping cannot be passed to virt-install",
					   path);
			else
				ret = add_subopts(bd, b, val, top, name,
						  false);
			break;
		case YNODE_SEQ:
			ret = text_fail(bd->errbuf, bd->errsize,
				   "key '%s': a list inside a sub-option cannot be passed to virt-install",
				   path);
			break;
		case YNODE_ALIAS:
			ret = text_fail(bd->errbuf, bd->errsize,
				   "key '%s': aliases are not allowed", path);
			break;
		}
		free(name);
		free(path);
	}
	return ret;
}

/* --key a=1,b.c=2; the disk holding "zvol" gets path=ZVOL_DEVICE first. */
static int add_mapping(struct build *bd, struct strvec *argv,
		       const char *key, const struct ynode *map,
		       const char *zvol_device)
{
	bool zvol = !strcmp(key, "disk") && ynode_map_get(map, "zvol");
	struct optbuf b = { NULL, 0, 0 };
	int ret = -1;

	if (!map->n)
		return text_fail(bd->errbuf, bd->errsize,
			    "key '%s': an empty mapping cannot be passed to virt-install",
			    key);
	if (zvol && ynode_map_get(map, "path"))
		return text_fail(bd->errbuf, bd->errsize,
			    "key 'disk.path': the zvol disk's path is set by qvm");
	if (zvol)
		add_subopt(&b, "path", zvol_device, strlen(zvol_device));
	if (add_subopts(bd, &b, map, key, NULL, zvol) < 0)
		goto done;
	strvec_pushf(argv, "--%s", key);
	strvec_push(argv, b.p);
	ret = 0;
done:
	free(b.p);
	return ret;
}

/* --key value, --key alone for true or null, nothing for false. */
static void add_scalar(struct strvec *argv, const char *key,
		       const struct ynode *val)
{
	int flag = ynode_bool(val);

	if (flag == 0)
		return;
	if (flag > 0 || ynode_is_null(val)) {
		strvec_pushf(argv, "--%s", key);
	} else if (val->value[0] == '-') {
		/* As its own word, "-x" would be read as an option by
		 * virt-install (after options whose value is optional). */
		strvec_pushf(argv, "--%s=%s", key, val->value);
	} else {
		strvec_pushf(argv, "--%s", key);
		strvec_push(argv, val->value);
	}
}

static int add_option(struct build *bd, struct strvec *argv,
		      const char *key, const struct ynode *val,
		      const char *zvol_device)
{
	switch (val->type) {
	case YNODE_SCALAR:
		add_scalar(argv, key, val);
		return 0;
	case YNODE_MAP:
		return add_mapping(bd, argv, key, val, zvol_device);
	case YNODE_SEQ:
		for (size_t i = 0; i < val->n; i++) {
			const struct ynode *item = val->items[i];

			if (item->type == YNODE_SEQ)
				return text_fail(bd->errbuf, bd->errsize,
					    "key '%s': a list inside a list cannot be passed to virt-install",
					    key);
			if (item->type == YNODE_ALIAS)
				return text_fail(bd->errbuf, bd->errsize,
					    "key '%s': aliases are not allowed",
					    key);
			if (item->type == YNODE_SCALAR)
				add_scalar(argv, key, item);
			else if (add_mapping(bd, argv, key, item,
					     zvol_device) < 0)
				return -1;
		}
		return 0;
	case YNODE_ALIAS:
		break;
	}
	return text_fail(bd->errbuf, bd->errsize,
		    "key '%s': aliases are not allowed", key);
}

/*
 * virt-install's options, from `virt-install --help` of virtinst 4.1.0
 * (Debian 12), long names only; --launchSecurity is there as
 * --launchsecurity too, and qvm's keys are lower case. argparse would
 * also take any unambiguous abbreviation ("nam" for --name) and options
 * --help does not list (--uuid, --print-step, old ones like --ram), so a
 * key must be one of these names exactly. A reason marks an option qvm
 * refuses: it would make the run something other than "import the
 * cloned zvol and define and start a persistent domain", or qvm passes
 * it itself.
 */
#define INSTALL_MODE "an installation option: qvm imports the cloned zvol (--import)"
#define NO_CONSOLE "qvm never attaches a console or waits for the guest (it passes --noautoconsole)"
#define DEFINES_NOTHING "virt-install would define no domain, and qvm would report one made"

static const struct {
	const char *name;
	const char *refused;	/* NULL: allowed */
} options[] = {
	{ "arch", NULL }, { "audio", NULL },
	{ "autoconsole", NO_CONSOLE }, { "autostart", NULL },
	{ "blkiotune", NULL }, { "boot", NULL },
	{ "cdrom", INSTALL_MODE }, { "channel", NULL }, { "check", NULL },
	{ "clock", NULL },
	{ "cloud-init", "virt-install would make a second cloud-init seed: qvm writes its own from the user-data and meta-data documents" },
	{ "connect", NULL }, { "console", NULL }, { "container", NULL },
	{ "controller", NULL }, { "cpu", NULL }, { "cputune", NULL },
	{ "debug", NULL }, { "destroy-on-exit", NO_CONSOLE },
	{ "disk", NULL }, { "dry-run", DEFINES_NOTHING },
	{ "events", NULL }, { "extra-args", INSTALL_MODE },
	{ "features", NULL }, { "filesystem", NULL },
	{ "graphics", NULL }, { "help", DEFINES_NOTHING },
	{ "hostdev", NULL }, { "hvm", NULL }, { "idmap", NULL },
	{ "import", "qvm passes it itself" },
	{ "initrd-inject", INSTALL_MODE }, { "input", NULL },
	{ "install", INSTALL_MODE }, { "iommu", NULL },
	{ "iothreads", NULL }, { "keywrap", NULL },
	{ "launchsecurity", NULL }, { "location", INSTALL_MODE },
	{ "machine", NULL }, { "memballoon", NULL }, { "memdev", NULL },
	{ "memory", NULL }, { "memorybacking", NULL }, { "memtune", NULL },
	{ "metadata", NULL }, { "name", NULL }, { "network", NULL },
	{ "noautoconsole", "qvm passes it itself" }, { "noreboot", NULL },
	{ "numatune", NULL }, { "os-variant", NULL }, { "osinfo", NULL },
	{ "panic", NULL }, { "parallel", NULL }, { "paravirt", NULL },
	{ "pm", NULL }, { "print-xml", DEFINES_NOTHING },
	{ "pxe", INSTALL_MODE }, { "qemu-commandline", NULL },
	{ "quiet", NULL }, { "redirdev", NULL },
	{ "reinstall", INSTALL_MODE }, { "resource", NULL },
	{ "rng", NULL }, { "seclabel", NULL }, { "security", NULL },
	{ "serial", NULL }, { "shmem", NULL }, { "smartcard", NULL },
	{ "sound", NULL }, { "sysinfo", NULL }, { "tpm", NULL },
	{ "transient", "a transient domain is gone once it stops, but qvm records (and destroys) a persistent one" },
	{ "unattended", INSTALL_MODE }, { "vcpus", NULL },
	{ "version", DEFINES_NOTHING }, { "video", NULL },
	{ "virt-type", NULL }, { "vsock", NULL },
	{ "wait", NO_CONSOLE }, { "watchdog", NULL }, { "xml", NULL },
	/* Not in --help. --description still works (virtinst reads it
	 * as --metadata description=) and qvm files use it; the others are
	 * named so that the reason is clear. */
	{ "description", NULL },
	{ "uuid", "qvm sets --uuid itself" },
	{ "print-step", DEFINES_NOTHING },
};

const char *vmargs_refused_option(const char *name)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (!strcmp(options[i].name, name))
			return options[i].refused;
	return "not an option of virt-install 4.1.0 (names are matched exactly, never as abbreviations; see virt-install --help)";
}

int vmargs_build(const struct ynode *vm_doc, const char *zvol_device,
		 const char *seed_iso, struct strvec *argv,
		 char *errbuf, size_t errsize)
{
	struct build bd = { errbuf, errsize };
	struct strvec out = STRVEC_INIT;
	struct optbuf seed = { NULL, 0, 0 };

	if (!vm_doc || vm_doc->type != YNODE_MAP)
		return text_fail(errbuf, errsize, "the vm document is not a mapping");
	strvec_push(&out, "virt-install");
	for (size_t i = 0; i + 1 < vm_doc->n; i += 2) {
		const struct ynode *key = vm_doc->items[i];

		if (!is_name(key)) {
			text_fail(errbuf, errsize,
			     "an option name must be a non-empty string");
			goto fail;
		}
		if (!strcmp(key->value, "qvm"))
			continue;
		if (add_option(&bd, &out, key->value, vm_doc->items[i + 1],
			       zvol_device) < 0)
			goto fail;
	}
	add_subopt(&seed, "path", seed_iso, strlen(seed_iso));
	optbuf_adds(&seed, ",device=cdrom");
	strvec_push(&out, "--noautoconsole");
	strvec_push(&out, "--import");
	strvec_push(&out, "--disk");
	strvec_push(&out, seed.p);
	free(seed.p);
	/* argv changes only on success. */
	strvec_pushv(argv, strvec_argv(&out));
	strvec_clear(&out);
	return 0;
fail:
	free(seed.p);
	strvec_clear(&out);
	return -1;
}
