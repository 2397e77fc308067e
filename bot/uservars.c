/*
 * uservars.c - the per-user variable store and its file (see uservars.h).
 *
 * In memory: an array of users sorted by name (binary search), each with an
 * array of variables sorted by name. Both are small and bounded. A change is
 * made on a copy of the one user's variable list: the copy is written out,
 * and only when the file is safely renamed into place does it replace the
 * old list, so that a failed write changes nothing.
 */
#include "uservars.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct uv_var {
	char *name;
	char *value;
	bool secret;
};

struct uv_user {
	char *name;
	struct uv_var *v;               /* sorted by name */
	size_t n;
};

struct uservars {
	char *path;                     /* NULL = in memory */
	struct uservars_limits lim;
	struct uv_user *u;              /* sorted by name */
	size_t n, cap;
	struct uservars_item item;      /* uservars_get's answer */
};

/* ---- memory ----------------------------------------------------------- */

static void
wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
vars_free(struct uv_var *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		wipe(v[i].value);
	}
	free(v);
}

void
uservars_free(struct uservars *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->u[i].name);
		vars_free(s->u[i].v, s->u[i].n);
	}
	free(s->u);
	free(s->path);
	free(s);
}

const char *
uservars_path(const struct uservars *s)
{
	return s->path;
}

/* The index of user, or where it would go (*found false). */
static size_t
user_pos(const struct uservars *s, const char *user, bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->u[mid].name, user);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static const struct uv_user *
user_find(const struct uservars *s, const char *user)
{
	bool found;
	size_t i;

	if (user == NULL)
		return NULL;
	i = user_pos(s, user, &found);
	return found ? &s->u[i] : NULL;
}

static size_t
var_pos(const struct uv_var *v, size_t n, const char *name, bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* ---- checks ----------------------------------------------------------- */

bool
uservars_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (i = 1; s[i]; i++)
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return i <= USERVARS_MAX_NAME;
}

/* Canonical user names, as the config allows them. */
static bool
user_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		return false;
	for (i = 0; s[i]; i++)
		if (!(s[i] == '_' || s[i] == '.' || s[i] == '@' || s[i] == '-' ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return false;
	return i <= 256;
}

/* Never echoes the value: it may be a secret. */
static int
value_check(const struct uservars *s, const char *value, bool secret, char *err,
    size_t errlen)
{
	size_t i, len = strlen(value);

	if (len == 0)
		return ack_err(err, errlen, "the value is empty");
	if (len > s->lim.max_value)
		return ack_err(err, errlen, "the value is %zu bytes; at most %zu are kept", len,
		    s->lim.max_value);
	if (!utf8_valid(value, len))
		return ack_err(err, errlen, "the value is not valid UTF-8");
	for (i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return ack_err(err, errlen, "the value contains a control character "
			    "or a line break (at byte %zu); a value is one line", i + 1);
	if (secret && len < USERVARS_MIN_SECRET)
		return ack_err(err, errlen, "a secret must be at least %d characters (shorter "
		    "ones could not be masked in what I post)", USERVARS_MIN_SECRET);
	return 0;
}

/* ---- the file --------------------------------------------------------- */

static json_t *
to_json(const struct uservars *s, const char *user, const struct uv_var *v, size_t n)
{
	json_t *root = json_object(), *users = json_object();
	size_t i, k;

	json_object_set_new(root, "version", json_integer(1));
	for (i = 0; i < s->n; i++) {
		const struct uv_var *vv = s->u[i].v;
		size_t nn = s->u[i].n;
		json_t *o;

		if (user != NULL && strcmp(s->u[i].name, user) == 0)
			continue;       /* written from the new list below */
		o = json_object();
		for (k = 0; k < nn; k++) {
			json_t *e = json_pack("{s:s}", "value", vv[k].value);

			if (vv[k].secret)
				json_object_set_new(e, "secret", json_true());
			json_object_set_new(o, vv[k].name, e);
		}
		if (nn > 0)
			json_object_set_new(users, s->u[i].name, o);
		else
			json_decref(o);
	}
	if (user != NULL && n > 0) {
		json_t *o = json_object();

		for (k = 0; k < n; k++) {
			json_t *e = json_pack("{s:s}", "value", v[k].value);

			if (v[k].secret)
				json_object_set_new(e, "secret", json_true());
			json_object_set_new(o, v[k].name, e);
		}
		json_object_set_new(users, user, o);
	}
	json_object_set_new(root, "users", users);
	return root;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Writes the store, with user's variables replaced by v[0..n), to the file:
 * temp file in the same directory, fsync, rename, fsync the directory.
 */
static int
save(const struct uservars *s, const char *user, const struct uv_var *v, size_t n,
    char *err, size_t errlen)
{
	json_t *doc;
	char *text = NULL, *tmp = NULL, *dircopy = NULL;
	const char *dir;
	int fd = -1, dfd, rc = -1;

	if (s->path == NULL)
		return 0;
	doc = to_json(s, user, v, n);
	text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(doc);
	if (text == NULL)
		return ack_err(err, errlen, "cannot encode the variables");
	tmp = xasprintf("%s.tmp.XXXXXX", s->path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ack_err(err, errlen, "cannot create a file next to %s: %s", s->path,
		    strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
	    write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
		ack_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		ack_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, s->path) != 0) {
		ack_err(err, errlen, "cannot replace %s: %s", s->path, strerror(errno));
		goto out_unlink;
	}
	dircopy = xstrdup(s->path);
	dir = dirname(dircopy);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) != 0)
			log_warn("state file: cannot fsync directory %s: %s", dir,
			    strerror(errno));
		close(dfd);
	} else {
		log_warn("state file: cannot open directory %s: %s", dir, strerror(errno));
	}
	rc = 0;
	goto out;
out_unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	explicit_bzero(text, strlen(text));
	free(text);
	free(tmp);
	free(dircopy);
	return rc;
}

static int
read_file(const char *path, char **out, size_t *outlen, bool *missing, char *err,
    size_t errlen)
{
	struct stat st;
	struct buf b;
	char chunk[8192];
	int fd;

	*missing = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			*missing = true;
			return 0;
		}
		return ack_err(err, errlen, "state file %s: cannot read it: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ack_err(err, errlen, "state file %s: not a regular file", path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		log_warn("state file %s is accessible by %s (mode %04o); it is rewritten "
		    "with mode 0600 at the next change", path, (st.st_mode & S_IRWXO) ?
		    "everyone" : "its group", (unsigned)(st.st_mode & 07777));
	buf_init(&b, USERVARS_MAX_FILE);
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ack_err(err, errlen, "state file %s: cannot read it: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		if (buf_append(&b, chunk, (size_t)r) != 0) {
			ack_err(err, errlen, "state file %s: larger than %u bytes", path,
			    USERVARS_MAX_FILE);
			goto fail;
		}
	}
	close(fd);
	explicit_bzero(chunk, sizeof chunk);
	*outlen = b.len;
	*out = buf_steal(&b);
	return 0;
fail:
	close(fd);
	explicit_bzero(chunk, sizeof chunk);
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	return -1;
}

/* Fills s from the parsed document; -1 with a message naming what is wrong. */
static int
load_doc(struct uservars *s, const char *path, json_t *doc, char *err, size_t errlen)
{
	json_t *users, *vars, *e, *val, *sec;
	const char *uname, *vname;

	if (!json_is_object(doc))
		return ack_err(err, errlen, "state file %s: expected a JSON object", path);
	if (json_integer_value(json_object_get(doc, "version")) != 1 ||
	    !json_is_integer(json_object_get(doc, "version")))
		return ack_err(err, errlen, "state file %s: \"version\" must be 1", path);
	users = json_object_get(doc, "users");
	if (users == NULL)
		return 0;
	if (!json_is_object(users))
		return ack_err(err, errlen, "state file %s: \"users\" must be an object", path);
	if (json_object_size(users) > s->lim.max_users)
		return ack_err(err, errlen, "state file %s: %zu users, more than the limit "
		    "of %zu", path, json_object_size(users), s->lim.max_users);
	json_object_foreach(users, uname, vars) {
		struct uv_user *u;
		bool found;
		size_t at;

		if (!user_name_ok(uname))
			return ack_err(err, errlen, "state file %s: bad user name \"%.64s\"",
			    path, uname);
		if (!json_is_object(vars))
			return ack_err(err, errlen, "state file %s: users.%s must be an object",
			    path, uname);
		if (json_object_size(vars) > s->lim.max_vars)
			return ack_err(err, errlen, "state file %s: users.%s has %zu variables, "
			    "more than the limit of %zu", path, uname, json_object_size(vars),
			    s->lim.max_vars);
		at = user_pos(s, uname, &found);
		s->u = xgrow(s->u, &s->cap, s->n + 1, sizeof *s->u);
		memmove(&s->u[at + 1], &s->u[at], (s->n - at) * sizeof *s->u);
		s->n++;
		u = &s->u[at];
		memset(u, 0, sizeof *u);
		u->name = xstrdup(uname);
		json_object_foreach(vars, vname, e) {
			char why[ACK_ERR_LEN];
			size_t vi;
			bool vfound;

			if (!uservars_name_ok(vname))
				return ack_err(err, errlen, "state file %s: users.%s: bad variable "
				    "name \"%.64s\"", path, uname, vname);
			val = json_object_get(e, "value");
			sec = json_object_get(e, "secret");
			if (!json_is_object(e) || !json_is_string(val) ||
			    (sec != NULL && !json_is_boolean(sec)))
				return ack_err(err, errlen, "state file %s: users.%s.%s must be "
				    "{\"value\": \"...\", \"secret\": true|false}", path, uname, vname);
			if (value_check(s, json_string_value(val), json_is_true(sec), why,
			    sizeof why) != 0 || strlen(json_string_value(val)) !=
			    json_string_length(val))
				return ack_err(err, errlen, "state file %s: users.%s.%s: %s", path,
				    uname, vname, strlen(json_string_value(val)) !=
				    json_string_length(val) ? "the value contains a NUL" : why);
			vi = var_pos(u->v, u->n, vname, &vfound);
			u->v = xrealloc(u->v, (u->n + 1) * sizeof *u->v);
			memmove(&u->v[vi + 1], &u->v[vi], (u->n - vi) * sizeof *u->v);
			u->v[vi].name = xstrdup(vname);
			u->v[vi].value = xstrdup(json_string_value(val));
			u->v[vi].secret = json_is_true(sec);
			u->n++;
		}
	}
	return 0;
}

struct uservars *
uservars_open(const char *path, const struct uservars_limits *lim, char *err,
    size_t errlen)
{
	struct uservars *s = xcalloc(1, sizeof *s);
	json_error_t je;
	json_t *doc;
	char *text = NULL;
	size_t len = 0;
	bool missing;

	s->lim.max_vars = lim && lim->max_vars ? lim->max_vars : USERVARS_MAX_VARS;
	s->lim.max_value = lim && lim->max_value ? lim->max_value : USERVARS_MAX_VALUE;
	s->lim.max_users = lim && lim->max_users ? lim->max_users : USERVARS_MAX_USERS;
	if (path == NULL)
		return s;
	s->path = xstrdup(path);
	if (read_file(path, &text, &len, &missing, err, errlen) != 0)
		goto fail;
	if (missing)
		return s;
	if (len == 0) {
		ack_err(err, errlen, "state file %s is empty (a valid store is at least "
		    "{\"version\": 1}); remove it to start with no user variables", path);
		goto fail;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	explicit_bzero(text, len);
	free(text);
	text = NULL;
	if (doc == NULL) {
		ack_err(err, errlen, "state file %s is not valid JSON (line %d, column %d: "
		    "%s); fix or remove it (it holds people's variables)", path, je.line,
		    je.column, je.text);
		goto fail;
	}
	if (load_doc(s, path, doc, err, errlen) != 0) {
		json_decref(doc);
		goto fail;
	}
	json_decref(doc);
	return s;
fail:
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	uservars_free(s);
	return NULL;
}

int
uservars_check_file(const char *path, char *err, size_t errlen)
{
	struct uservars *s = uservars_open(path, NULL, err, errlen);

	if (s == NULL)
		return -1;
	uservars_free(s);
	return 0;
}

/* ---- changes ---------------------------------------------------------- */

static struct uv_var *
vars_copy(const struct uv_var *v, size_t n, size_t extra)
{
	struct uv_var *c = xcalloc(n + extra + 1, sizeof *c);
	size_t i;

	for (i = 0; i < n; i++) {
		c[i].name = xstrdup(v[i].name);
		c[i].value = xstrdup(v[i].value);
		c[i].secret = v[i].secret;
	}
	return c;
}

/* Installs v[0..n) as user's list (taking it), adding or dropping the
 * user entry as needed. */
static void
install(struct uservars *s, const char *user, struct uv_var *v, size_t n)
{
	bool found;
	size_t at = user_pos(s, user, &found);

	if (found) {
		vars_free(s->u[at].v, s->u[at].n);
		if (n == 0) {
			free(s->u[at].name);
			free(v);
			memmove(&s->u[at], &s->u[at + 1], (s->n - at - 1) * sizeof *s->u);
			s->n--;
			return;
		}
		s->u[at].v = v;
		s->u[at].n = n;
		return;
	}
	if (n == 0) {
		free(v);
		return;
	}
	s->u = xgrow(s->u, &s->cap, s->n + 1, sizeof *s->u);
	memmove(&s->u[at + 1], &s->u[at], (s->n - at) * sizeof *s->u);
	s->n++;
	s->u[at].name = xstrdup(user);
	s->u[at].v = v;
	s->u[at].n = n;
}

int
uservars_set(struct uservars *s, const char *user, const char *name, const char *value,
    bool secret, char *err, size_t errlen)
{
	const struct uv_user *u;
	struct uv_var *v;
	size_t n, i;
	bool found;

	if (!user_name_ok(user))
		return ack_err(err, errlen, "bad user name");
	if (!uservars_name_ok(name))
		return ack_err(err, errlen, "a variable name is letters, digits and _, not "
		    "starting with a digit, at most %d characters", USERVARS_MAX_NAME);
	if (value_check(s, value, secret, err, errlen) != 0)
		return -1;
	u = user_find(s, user);
	if (u == NULL && s->n >= s->lim.max_users)
		return ack_err(err, errlen, "the store is full (%zu users have variables)",
		    s->lim.max_users);
	n = u ? u->n : 0;
	v = vars_copy(u ? u->v : NULL, n, 1);
	i = var_pos(v, n, name, &found);
	if (found) {
		wipe(v[i].value);
		v[i].value = xstrdup(value);
		v[i].secret = secret;
	} else {
		if (n >= s->lim.max_vars) {
			vars_free(v, n);
			return ack_err(err, errlen, "you have %zu variables, the most I keep per "
			    "person; unset one first", n);
		}
		memmove(&v[i + 1], &v[i], (n - i) * sizeof *v);
		v[i].name = xstrdup(name);
		v[i].value = xstrdup(value);
		v[i].secret = secret;
		n++;
	}
	if (save(s, user, v, n, err, errlen) != 0) {
		vars_free(v, n);
		return -1;
	}
	install(s, user, v, n);
	return 0;
}

int
uservars_unset(struct uservars *s, const char *user, const char *name, bool *found,
    char *err, size_t errlen)
{
	const struct uv_user *u = user_find(s, user);
	struct uv_var *v;
	size_t n, i;
	bool f = false;

	if (found)
		*found = false;
	if (u == NULL || name == NULL)
		return 0;
	i = var_pos(u->v, u->n, name, &f);
	if (!f)
		return 0;
	if (found)
		*found = true;
	n = u->n;
	v = vars_copy(u->v, n, 0);
	free(v[i].name);
	wipe(v[i].value);
	memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof *v);
	n--;
	if (save(s, user, v, n, err, errlen) != 0) {
		vars_free(v, n);
		return -1;
	}
	install(s, user, v, n);
	return 0;
}

/* ---- reading ---------------------------------------------------------- */

size_t
uservars_count(const struct uservars *s, const char *user)
{
	const struct uv_user *u = s ? user_find(s, user) : NULL;

	return u ? u->n : 0;
}

const struct uservars_item *
uservars_get(const struct uservars *s, const char *user, const char *name)
{
	const struct uv_user *u = s ? user_find(s, user) : NULL;
	struct uservars *ms = (struct uservars *)s;
	bool found;
	size_t i;

	if (u == NULL || name == NULL)
		return NULL;
	i = var_pos(u->v, u->n, name, &found);
	if (!found)
		return NULL;
	ms->item.name = u->v[i].name;
	ms->item.value = u->v[i].value;
	ms->item.secret = u->v[i].secret;
	return &ms->item;
}

size_t
uservars_foreach(const struct uservars *s, const char *user,
    void (*cb)(const struct uservars_item *it, void *arg), void *arg)
{
	const struct uv_user *u = s ? user_find(s, user) : NULL;
	size_t i;

	if (u == NULL)
		return 0;
	for (i = 0; i < u->n; i++) {
		struct uservars_item it = { u->v[i].name, u->v[i].value, u->v[i].secret };

		cb(&it, arg);
	}
	return u->n;
}

json_t *
uservars_json(const struct uservars *s, const char *user)
{
	const struct uv_user *u = s ? user_find(s, user) : NULL;
	json_t *o = json_object();
	size_t i;

	for (i = 0; u != NULL && i < u->n; i++)
		json_object_set_new(o, u->v[i].name, json_string(u->v[i].value));
	return o;
}

void
uservars_foreach_secret(const struct uservars *s,
    void (*cb)(const char *value, void *arg), void *arg)
{
	size_t i, k;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->u[i].n; k++)
			if (s->u[i].v[k].secret)
				cb(s->u[i].v[k].value, arg);
}

/* ---- the process-wide store ------------------------------------------- */

static struct uservars *shared;
static bool shared_warned;

struct uservars *
uservars_shared_open(const char *path, char *err, size_t errlen)
{
	if (shared != NULL) {
		const char *now = shared->path;

		if (!shared_warned && ((now == NULL) != (path == NULL) ||
		    (now && strcmp(now, path) != 0))) {
			shared_warned = true;
			log_warn("[bot].state_file changed; the new file is used after a "
			    "restart (still using %s)", now ? now : "memory");
		}
		return shared;
	}
	shared = uservars_open(path, NULL, err, errlen);
	return shared;
}

struct uservars *
uservars_shared(void)
{
	return shared;
}

void
uservars_shared_close(void)
{
	uservars_free(shared);
	shared = NULL;
}
