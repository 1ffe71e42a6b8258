#include "seed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dryrun.h"
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

/* Creates dir/name (it must not exist) holding data, mode 0600; on
 * failure nothing is left. */
static int write_file(const char *dir, const char *name, const char *data,
		      char *errbuf, size_t errsize)
{
	char *path = xasprintf("%s/%s", dir, name);
	size_t len = strlen(data), off = 0;
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(errbuf, errsize, "cannot create %s: %s", path,
			 strerror(errno));
		free(path);
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(errbuf, errsize, "cannot write %s: %s", path,
				 n < 0 ? strerror(errno) : "short write");
			goto done;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(errbuf, errsize, "cannot write %s: %s", path,
			 strerror(errno));
		goto done;
	}
	fd = -1;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(path);	/* ours: O_EXCL made it */
	free(path);
	return rc;
}

/* The first n seed files in dir: removed, or with show, the command that
 * removes them printed. */
static void remove_files(const char *dir, size_t n, FILE *show)
{
	struct strvec argv = STRVEC_INIT;

	strvec_pushv(&argv, (const char *const[]){ "rm", "--", NULL });
	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", dir, seed_files[i]);

		if (!show)
			unlink(p);
		strvec_push(&argv, p);
		free(p);
	}
	if (show && n)
		dryrun_print(show, strvec_argv(&argv));
	strvec_clear(&argv);
}

int seed_dir_remove(const char *dir, char **why)
{
	static const char *const own[] = { SEED_ISO_NAME, CONSOLE_LOG_NAME };

	for (size_t i = 0; i < 2 + sizeof(seed_files) / sizeof(*seed_files);
	     i++) {
		char *p = xasprintf("%s/%s", dir, i < 2 ? own[i] :
				    seed_files[i - 2]);
		int rc = unlink(p);

		if (rc < 0 && errno != ENOENT) {
			*why = xasprintf("%s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	if (rmdir(dir) < 0 && errno != ENOENT) {
		*why = xasprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int seed_iso_build(const struct runner *r, const struct qvmfile *qf,
		   const char *dir, const char *iso_path, const char *task,
		   FILE *show)
{
	struct strvec argv = STRVEC_INIT;
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
		if (show) {
			char *p = xasprintf("%s/%s", dir, seed_files[written]);

			dryrun_print_write(show, p, data[written]);
			free(p);
		} else if (write_file(dir, seed_files[written], data[written],
				      errbuf, sizeof(errbuf)) < 0) {
			msg_error(task, "%s", errbuf);
			goto done;
		}
	}

	seed_iso_argv(&argv, iso_path, dir, net != NULL);
	if (runner_run(r, strvec_argv(&argv), RUN_CHANGES, &res) != 0) {
		msg_error(task, "genisoimage failed to make %s: %s", iso_path,
			  run_result_last_err(&res, last, sizeof(last)));
		goto done;
	}
	/* genisoimage honours the umask; the seed holds secrets. */
	if (show)
		dryrun_print(show, (const char *const[]){ "chmod", "0600",
							  iso_path, NULL });
	else if (chmod(iso_path, 0600) < 0 && errno != ENOENT) {
		msg_error(task, "cannot set the mode of %s: %s", iso_path,
			  strerror(errno));
		goto done;
	}
	rc = 0;
done:
	/* Whatever happened, the secrets do not stay beside the ISO. */
	if (!show || rc == 0)
		remove_files(dir, written, show);
	run_result_clear(&res);
	strvec_clear(&argv);
	free(user);
	free(meta);
	free(net);
	free(iid);
	return rc;
}
