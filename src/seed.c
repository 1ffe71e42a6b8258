#include "seed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "text.h"

static const char *const skip_qvm[] = { "qvm", NULL };

char *seed_user_data(const struct qvmfile *qf, char *errbuf, size_t errsize)
{
	char *doc, *out;
	size_t len;

	/* A payload (a script, MIME, #include...) is the file, as is. */
	if (qf->payload)
		return xstrndup(qf->payload, qf->payload_len);
	doc = ynode_emit(qf->doc[QVM_DOC_USER_DATA], skip_qvm, &len, errbuf,
			 errsize);
	if (!doc)
		return NULL;
	/* Without this first line cloud-init ignores user-data entirely. */
	out = xasprintf("#cloud-config\n%s", doc);
	free(doc);
	return out;
}

char *seed_meta_data(const struct qvmfile *qf, const char *instance_id,
		     char *errbuf, size_t errsize)
{
	const struct ynode *md = qf->doc[QVM_DOC_META_DATA];
	const char *extra[5];
	size_t n = 0, len;

	if (!ynode_map_get(md, "instance-id")) {
		extra[n++] = "instance-id";
		extra[n++] = instance_id;
	}
	if (!ynode_map_get(md, "local-hostname")) {
		extra[n++] = "local-hostname";
		extra[n++] = qf->name;
	}
	extra[n] = NULL;
	return ynode_emit_extended(md, skip_qvm, extra, &len, errbuf, errsize);
}

char *seed_network_config(const struct qvmfile *qf, char *errbuf,
			  size_t errsize)
{
	size_t len;

	if (!qf->doc[QVM_DOC_NETWORK_CONFIG])
		return NULL;
	return ynode_emit(qf->doc[QVM_DOC_NETWORK_CONFIG], skip_qvm, &len,
			  errbuf, errsize);
}

char *seed_instance_id(const char *name)
{
	char hex[9];

	return xasprintf("%s-%s", name, text_random_hex(hex, 4));
}

void seed_iso_argv(struct strvec *argv, const char *iso_path,
		   const char *dir, int with_network_config)
{
	strvec_pushv(argv, (const char *const[]){ "genisoimage", "-output",
						  iso_path, "-volid", "cidata",
						  "-joliet", "-rock", NULL });
	strvec_pushf(argv, "%s/user-data", dir);
	strvec_pushf(argv, "%s/meta-data", dir);
	if (with_network_config)
		strvec_pushf(argv, "%s/network-config", dir);
}

/* The files of a seed, in the order genisoimage gets them. */
static const char *const seed_files[] = { "user-data", "meta-data",
					  "network-config" };

/* The first n seed files in dir. */
static void seed_paths(struct strvec *paths, const char *dir, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strvec_pushf(paths, "%s/%s", dir, seed_files[i]);
}

int seed_dir_remove(const struct host *h, const char *dir, char **why)
{
	static const char *const names[] = {
		SEED_ISO_NAME, CONSOLE_LOG_NAME, "user-data", "meta-data",
		"network-config", NULL };
	char errbuf[512];

	if (h->ops->remove_dir(h->ctx, dir, names, errbuf,
			       sizeof(errbuf)) == 0)
		return 0;
	*why = xstrdup(errbuf);
	return -1;
}

int seed_iso_build(const struct host *h, const struct qvmfile *qf,
		   const char *dir, const char *iso_path, const char *task)
{
	struct strvec argv = STRVEC_INIT, paths = STRVEC_INIT;
	struct run_result res = RUN_RESULT_INIT;
	char *user = NULL, *meta = NULL, *net = NULL, *iid = NULL;
	const char *data[3];
	size_t n_files, written = 0;
	char errbuf[512] = "";
	char last[512];
	int rc = -1;

	iid = seed_instance_id(qf->name);
	user = seed_user_data(qf, errbuf, sizeof(errbuf));
	if (user)
		meta = seed_meta_data(qf, iid, errbuf, sizeof(errbuf));
	if (meta && qf->doc[QVM_DOC_NETWORK_CONFIG])
		net = seed_network_config(qf, errbuf, sizeof(errbuf));
	if (!user || !meta || (qf->doc[QVM_DOC_NETWORK_CONFIG] && !net)) {
		msg_error(task, "cannot write the cloud-init seed: %s", errbuf);
		goto done;
	}
	data[0] = user;
	data[1] = meta;
	data[2] = net;
	n_files = net ? 3 : 2;

	for (; written < n_files; written++) {
		char *p = xasprintf("%s/%s", dir, seed_files[written]);

		rc = h->ops->write_file(h->ctx, p, data[written],
					strlen(data[written]), 0600, errbuf,
					sizeof(errbuf));
		free(p);
		if (rc < 0) {
			msg_error(task, "%s", errbuf);
			goto done;
		}
	}
	rc = -1;

	seed_iso_argv(&argv, iso_path, dir, net != NULL);
	if (runner_run(h->runner, strvec_argv(&argv), RUN_CHANGES,
		       &res) != 0) {
		msg_error(task, "genisoimage failed to make %s: %s", iso_path,
			  run_result_last_err(&res, last, sizeof(last)));
		goto done;
	}
	/* genisoimage honours the umask; the seed holds secrets. */
	if (h->ops->set_mode(h->ctx, iso_path, 0600) < 0 && errno != ENOENT) {
		msg_error(task, "cannot set the mode of %s: %s", iso_path,
			  strerror(errno));
		goto done;
	}
	rc = 0;
done:
	/* Whatever happened, the secrets do not stay beside the ISO. */
	seed_paths(&paths, dir, written);
	h->ops->remove_files(h->ctx, strvec_argv(&paths));
	strvec_clear(&paths);
	run_result_clear(&res);
	strvec_clear(&argv);
	free(user);
	free(meta);
	free(net);
	free(iid);
	return rc;
}
