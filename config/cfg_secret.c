/*
 * cfg_secret.c - secrets in the config: the file only says where a secret
 * lives ({ env = "NAME" } or { file = "PATH" }); this reads that reference
 * and resolves it at load. A secret's value is never put into a message,
 * and is wiped when freed.
 */
#include "cfg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A secret file bigger than this is a mistake (a certificate bundle, a log). */
#define SECRET_FILE_MAX (64 * 1024)

static const char *const secret_keys[] = { "env", "file" };

static bool
env_name_ok(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

bool
cfg_read_secret(const struct cfg_tab *tab, const char *key, struct cfg_secret *out)
{
	const struct toml_keyval *kv = cfg_get(tab, key);
	const struct toml_keyval *env, *file;
	struct cfg_tab child;
	bool ok = true;

	if (kv == NULL)
		return false;
	if (kv->value.type == TOML_STRING) {
		/* Never echo the value: it is probably the secret itself. */
		cfg_key_err(tab, kv->value.pos, key,
		    "secrets are not written in the file: use { env = \"NAME\" } "
		    "or { file = \"PATH\" }");
		return false;
	}
	if (kv->value.type != TOML_TABLE) {
		cfg_expected(tab, kv, "{ env = \"NAME\" } or { file = \"PATH\" }");
		return false;
	}
	cfg_tab_child(&child, tab, kv->value.u.table, key, NULL);
	if (cfg_check_keys(&child, secret_keys, ACK_ARRAY_LEN(secret_keys)) > 0)
		ok = false;
	env = cfg_get(&child, "env");
	file = cfg_get(&child, "file");
	if (env != NULL && file != NULL) {
		cfg_key_err(tab, kv->value.pos, key,
		    "give either env or file, not both");
		return false;
	}
	if (env == NULL && file == NULL) {
		if (ok)
			cfg_key_err(tab, kv->value.pos, key,
			    "expected { env = \"NAME\" } or { file = \"PATH\" }");
		return false;
	}
	if (env != NULL) {
		char *name = NULL;

		if (!cfg_read_strdup(&child, "env", &name))
			return false;
		if (!env_name_ok(name)) {
			char got[128];

			cfg_describe(&env->value, got, sizeof got);
			cfg_key_err(&child, env->value.pos, "env",
			    "expected an environment variable name such as "
			    "\"SLACK_BOT_TOKEN\", got %s", got);
			free(name);
			return false;
		}
		if (!ok) {
			free(name);
			return false;
		}
		cfg_secret_free(out);
		out->env = name;
		out->pos = cfg_pos_of(env->value.pos);
		return true;
	}
	{
		char *path = NULL;

		if (!cfg_read_nonempty(&child, "file", &path))
			return false;
		if (!ok) {
			free(path);
			return false;
		}
		cfg_secret_free(out);
		out->file = path;
		out->pos = cfg_pos_of(file->value.pos);
		return true;
	}
}

static void
wipe_free(char *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

/* Reads a whole secret file into a new string; -1 with errno-style text. */
static int
read_secret_file(const char *path, char **out, mode_t *mode, char *err, size_t errlen)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ack_err(err, errlen, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		ack_err(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ack_err(err, errlen, "not a regular file");
		goto fail;
	}
	if (st.st_size > SECRET_FILE_MAX) {
		ack_err(err, errlen, "larger than %d bytes", SECRET_FILE_MAX);
		goto fail;
	}
	*mode = st.st_mode;
	data = xmalloc(SECRET_FILE_MAX + 1);
	for (;;) {
		r = read(fd, data + len, SECRET_FILE_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ack_err(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == SECRET_FILE_MAX) {
			ack_err(err, errlen, "larger than %d bytes", SECRET_FILE_MAX - 1);
			goto fail;
		}
	}
	if (memchr(data, '\0', len) != NULL) {
		ack_err(err, errlen, "it contains a NUL byte");
		goto fail;
	}
	close(fd);
	data[len] = '\0';
	*out = xstrndup(data, len);
	wipe_free(data, SECRET_FILE_MAX + 1);
	return 0;
fail:
	wipe_free(data, SECRET_FILE_MAX + 1);
	close(fd);
	return -1;
}

void
cfg_resolve_secret(struct cfg_ctx *x, struct cfg_secret *s, const char *keypath,
    bool required, const char *prefix_hint)
{
	enum diag_severity sev = required ? DIAG_ERROR : DIAG_WARNING;
	const char *why = required ? "" :
	    " (the adapter is not in use, so this is only a warning)";
	char err[ACK_ERR_LEN];
	char *v = NULL;
	size_t len, i;

	if (s->env == NULL && s->file == NULL)
		return;
	if (s->env != NULL) {
		const char *e = getenv(s->env);

		if (e == NULL || *e == '\0') {
			diag_add(x->d, sev, x->file, s->pos.line, s->pos.col,
			    "key \"%s\": secret not found: environment variable "
			    "%s is %s%s", keypath, s->env,
			    e == NULL ? "not set" : "empty", why);
			return;
		}
		v = xstrdup(e);
	} else {
		mode_t mode = 0;

		if (read_secret_file(s->file, &v, &mode, err, sizeof err) < 0) {
			diag_add(x->d, sev, x->file, s->pos.line, s->pos.col,
			    "key \"%s\": secret not found: cannot read %s: %s%s",
			    keypath, s->file, err, why);
			return;
		}
		if (mode & (S_IRGRP | S_IROTH))
			diag_add(x->d, DIAG_WARNING, x->file, s->pos.line,
			    s->pos.col, "key \"%s\": secret file %s is readable "
			    "by %s (mode %04o); make it private (chmod 600)",
			    keypath, s->file, (mode & S_IROTH) ? "everyone" :
			    "its group", (unsigned)(mode & 07777));
	}
	/* Strip trailing newlines (files usually end with one). */
	len = strlen(v);
	while (len > 0 && (v[len - 1] == '\n' || v[len - 1] == '\r'))
		v[--len] = '\0';
	if (len == 0) {
		diag_add(x->d, sev, x->file, s->pos.line, s->pos.col,
		    "key \"%s\": secret %s %s is empty%s", keypath,
		    s->env ? "environment variable" : "file",
		    s->env ? s->env : s->file, why);
		wipe_free(v, len);
		return;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			break;
	if (i < len) {
		diag_add(x->d, sev, x->file, s->pos.line, s->pos.col,
		    "key \"%s\": secret from %s %s contains a control character "
		    "or line break (at byte %zu); a token is one line%s", keypath,
		    s->env ? "environment variable" : "file",
		    s->env ? s->env : s->file, i + 1, why);
		wipe_free(v, len);
		return;
	}
	if (prefix_hint != NULL && strncmp(v, prefix_hint, strlen(prefix_hint)) != 0)
		diag_add(x->d, DIAG_WARNING, x->file, s->pos.line, s->pos.col,
		    "key \"%s\": the secret from %s %s does not start with "
		    "\"%s\"; is it the right token?", keypath,
		    s->env ? "environment variable" : "file",
		    s->env ? s->env : s->file, prefix_hint);
	s->value = v;
}

void
cfg_secret_free(struct cfg_secret *s)
{
	free(s->env);
	free(s->file);
	if (s->value != NULL)
		wipe_free(s->value, strlen(s->value));
	s->env = s->file = s->value = NULL;
}
