/*
 * exec.c - the exec action: run a program with a templated argv, never
 * through a shell, capture its output with a hard cap, and kill its whole
 * process group on timeout or cancel.
 *
 * Process group: the child is spawned with UV_PROCESS_DETACHED, which makes
 * libuv call setsid() in the child before exec. The child is then the leader
 * of a new session and process group whose id is its pid, so kill(-pid)
 * reaches everything it started (unless a descendant itself calls setsid or
 * setpgid). setsid rather than setpgid because libuv offers no setpgid hook,
 * and a new session also detaches the action from any controlling terminal.
 * The handle still holds the loop and the exit callback still comes.
 *
 * Life of a run: start() renders and validates everything, then spawns.
 * The run ends when the process has exited AND both pipes have reached EOF,
 * or when the process has exited and the pipes stay open for EXEC_DRAIN_MS
 * (a background grandchild holding them): the group is then signalled and
 * the pipes closed. Ending means closing every uv handle; done is called from
 * the last close callback, so it is never called from within start() or
 * cancel(), and the state is freed right after.
 *
 * Run as (exec.run_as_user): the action runs as the requester's
 * [users.NAME].unix_user. An alias that asks for it never runs for a user
 * without one, and never when the bot cannot switch (not root, unless the
 * account is the bot's own). As root, the child must get the account's uid,
 * primary gid and supplementary groups; libuv's setuid/setgid path drops
 * every supplementary group (setgroups(0)), so the program is started
 * through the helper ackbot-runas (handlers/runas/ackbot-runas.c), found next to the
 * ackbot binary (or in /usr/libexec/ackbot, /usr/local/libexec/ackbot),
 * which must be a root-owned file that only root can write. The helper calls
 * initgroups, setgid, setuid, then execs the program. Without the helper,
 * libuv switches uid and gid and the supplementary groups are empty (a
 * warning is logged once).
 *
 * Environment: the child does NOT inherit the bot's environment, which holds
 * the bot's own secrets (tokens). It gets PATH, HOME, LANG and TZ from the
 * bot (PATH defaults to /usr/local/bin:/usr/bin:/bin), then the alias's env
 * (rendered), then inv->env (the user context the router fills: ACKBOT_USER,
 * ACKBOT_PARAM_<NAME>, ...), later entries replacing earlier ones.
 */
#include "handler.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "bot/log.h"
#include "bot/util.h"

#define EXEC_KILL_GRACE_MS 5000u        /* SIGTERM, then SIGKILL after this */
#define EXEC_DRAIN_MS 1000u             /* pipes may stay open this long after exit */
#define EXEC_DEFAULT_MAX_OUTPUT 65536u
#define EXEC_FIELD_MAX (128u * 1024u)   /* one rendered argv element, cwd or env value */
#define EXEC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

struct exec_run;

struct exec_pipe {
	uv_pipe_t pipe;
	struct exec_run *run;
	struct buf data;
	size_t dropped;
	bool eof;
	char chunk[16384];
};

enum exec_kill { KILL_NONE, KILL_TIMEOUT, KILL_CANCEL };

struct exec_run {
	struct invocation *inv;
	handler_done_cb done;
	void *arg;

	uv_process_t proc;
	struct exec_pipe out, err;
	uv_timer_t timer;               /* the timeout, then the kill grace */
	uv_timer_t drain;               /* drain window; also defers early failures */
	int handles;                    /* uv handles not yet closed */
	bool have_proc, have_pipes;
	bool spawned, exited, finishing;
	bool drain_expired;
	int64_t exit_status;
	int term_signal;
	enum exec_kill killed_by;
	pid_t pgid;
	uint64_t start_ms, timeout_ms, grace_ms;
	size_t max_output;

	char *fail_reason;              /* set when it failed before running */

	char **argv;
	size_t argc;
	char **envp;
	size_t envc, envcap;
	char *cwd;
	char *user;                     /* the account it runs as, or NULL */
	char **spawn_argv;              /* through the run-as helper, or NULL */
};

static void run_finish(struct exec_run *run);

/* --- environment ----------------------------------------------------------- */

static bool
env_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (i = 1; s[i]; i++)
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* Sets name=value in the child's environment, replacing an earlier one. */
static void
env_set(struct exec_run *run, const char *name, const char *value)
{
	size_t i, n = strlen(name);
	char *entry = xasprintf("%s=%s", name, value);

	for (i = 0; i < run->envc; i++) {
		if (strncmp(run->envp[i], name, n) == 0 && run->envp[i][n] == '=') {
			free(run->envp[i]);
			run->envp[i] = entry;
			return;
		}
	}
	run->envp = xgrow(run->envp, &run->envcap, run->envc + 2, sizeof *run->envp);
	run->envp[run->envc++] = entry;
	run->envp[run->envc] = NULL;
}

static void
env_from_bot(struct exec_run *run, const char *name, const char *dflt)
{
	const char *v = getenv(name);

	if (v == NULL)
		v = dflt;
	if (v != NULL)
		env_set(run, name, v);
}

/* --- preparing ------------------------------------------------------------- */

/* Looks up the account; fills uid/gid/home. */
static int
lookup_user(const char *name, uid_t *uid, gid_t *gid, char **home,
    char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz = sz > 0 ? (size_t)sz : 16384;
	char *b = NULL;
	int rc;

	for (;;) {
		b = xrealloc(b, bufsz);
		rc = getpwnam_r(name, &pw, b, bufsz, &res);
		if (rc != ERANGE || bufsz >= (1u << 20))
			break;
		bufsz *= 2;
	}
	if (res == NULL) {
		free(b);
		if (rc != 0)
			return ack_err(err, errlen, "cannot look up unix account \"%s\": %s",
			    name, strerror(rc));
		return ack_err(err, errlen, "unix account \"%s\" does not exist", name);
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	*home = xstrdup(pw.pw_dir);
	free(b);
	return 0;
}

#define RUNAS_HELPER "ackbot-runas"

/* A file root may execute without handing control to someone else: a
 * regular, executable file owned by root that only root can write. */
static bool
helper_ok(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    !(st.st_mode & S_IXUSR))
		return false;
	return true;
}

/* The run-as helper's path, looked up once; NULL if there is none. */
static const char *
runas_helper(void)
{
	static bool looked;
	static char found[4096];
	static const char *const dirs[] = { "/usr/libexec/ackbot", "/usr/local/libexec/ackbot" };
	char self[4000];
	ssize_t n;
	size_t i;

	if (looked)
		return found[0] ? found : NULL;
	looked = true;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(found, sizeof found, "%s/%s", self, RUNAS_HELPER);
			if (helper_ok(found))
				return found;
		}
	}
	for (i = 0; i < ACK_ARRAY_LEN(dirs); i++) {
		snprintf(found, sizeof found, "%s/%s", dirs[i], RUNAS_HELPER);
		if (helper_ok(found))
			return found;
	}
	found[0] = '\0';
	log_warn("exec: %s not found next to ackbot (nor in /usr/libexec/ackbot): actions "
	    "that run as a unix account get its uid and primary gid but no supplementary "
	    "groups", RUNAS_HELPER);
	return NULL;
}

/* Puts the helper in front of argv: HELPER USER UID GID -- argv... */
static void
wrap_argv(struct exec_run *run, const char *helper, uid_t uid, gid_t gid)
{
	char **v = xcalloc(run->argc + 6, sizeof *v);
	size_t i;

	v[0] = xstrdup(helper);
	v[1] = xstrdup(run->user);
	v[2] = xasprintf("%lu", (unsigned long)uid);
	v[3] = xasprintf("%lu", (unsigned long)gid);
	v[4] = xstrdup("--");
	for (i = 0; i < run->argc; i++)
		v[5 + i] = run->argv[i];        /* borrowed: freed with run->argv */
	run->spawn_argv = v;
}

static int
render_all(struct exec_run *run, uv_process_options_t *o, char *err, size_t errlen)
{
	const struct invocation *inv = run->inv;
	const struct cfg_exec *x = &inv->alias->exec;
	char what[64], *home = NULL;
	uid_t uid = 0;
	gid_t gid = 0;
	size_t i;
	struct stat st;

	if (x->argv.n == 0)
		return ack_err(err, errlen, "the alias has an empty argv");
	run->argv = xcalloc(x->argv.n + 1, sizeof *run->argv);
	for (i = 0; i < x->argv.n; i++) {
		snprintf(what, sizeof what, "argv[%zu]", i);
		run->argv[i] = handler_render(x->argv.v[i].s, inv->context, EXEC_FIELD_MAX,
		    what, err, errlen);
		if (run->argv[i] == NULL)
			return -1;
		run->argc++;
	}
	if (run->argv[0][0] == '\0')
		return ack_err(err, errlen, "the program name (argv[0]) is empty");

	if (x->cwd.s != NULL) {
		run->cwd = handler_render(x->cwd.s, inv->context, EXEC_FIELD_MAX, "cwd",
		    err, errlen);
		if (run->cwd == NULL)
			return -1;
		/* Checked here so that ENOENT from uv_spawn means the program. */
		if (stat(run->cwd, &st) != 0)
			return ack_err(err, errlen, "working directory not found: %s", run->cwd);
		if (!S_ISDIR(st.st_mode))
			return ack_err(err, errlen, "working directory is not a directory: %s",
			    run->cwd);
	}

	/* Who it runs as. */
	if (x->run_as_user && inv->unix_user == NULL)
		return ack_err(err, errlen,
		    "this action runs as the requester's unix account, and the requester has "
		    "none (unix_user in [users.NAME])");
	if (inv->unix_user != NULL) {
		if (lookup_user(inv->unix_user, &uid, &gid, &home, err, errlen) != 0)
			return -1;
		if (geteuid() != 0 && geteuid() != uid) {
			free(home);
			return ack_err(err, errlen,
			    "cannot run as \"%s\": the bot is not running as root",
			    inv->unix_user);
		}
		run->user = xstrdup(inv->unix_user);
		if (geteuid() == 0) {
			const char *helper = runas_helper();

			if (helper != NULL) {
				/* the helper sets uid, gid and every group */
				wrap_argv(run, helper, uid, gid);
			} else {
				/* libuv drops every supplementary group
				 * (setgroups(0)), then sets gid and uid: the
				 * child has the account's uid and primary gid
				 * only. */
				o->flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
				o->uid = uid;
				o->gid = gid;
			}
		}
	}

	/* The environment: a minimal base, never the bot's own. */
	env_from_bot(run, "PATH", EXEC_DEFAULT_PATH);
	if (home != NULL)
		env_set(run, "HOME", home);
	else
		env_from_bot(run, "HOME", NULL);
	env_from_bot(run, "LANG", NULL);
	env_from_bot(run, "TZ", NULL);
	if (run->user != NULL) {
		env_set(run, "USER", run->user);
		env_set(run, "LOGNAME", run->user);
	}
	free(home);
	for (i = 0; i < x->env.n; i++) {
		char *v;

		if (!env_name_ok(x->env.v[i].key))
			return ack_err(err, errlen, "bad environment variable name \"%s\"",
			    x->env.v[i].key);
		snprintf(what, sizeof what, "env.%s", x->env.v[i].key);
		v = handler_render(x->env.v[i].value.s, inv->context, EXEC_FIELD_MAX, what,
		    err, errlen);
		if (v == NULL)
			return -1;
		env_set(run, x->env.v[i].key, v);
		free(v);
	}
	if (json_is_object(inv->env)) {
		const char *k;
		json_t *v;

		json_object_foreach(inv->env, k, v) {
			if (!env_name_ok(k) || !json_is_string(v)) {
				log_warn("exec %s: skipping bad environment entry", inv->id);
				continue;
			}
			env_set(run, k, json_string_value(v));
		}
	}
	if (run->envp == NULL) {
		run->envp = xcalloc(1, sizeof *run->envp);
	}
	return 0;
}

/* --- running --------------------------------------------------------------- */

static void
kill_group(struct exec_run *run, int sig)
{
	if (!run->spawned)
		return;
	if (kill(-run->pgid, sig) != 0 && !run->exited)
		uv_process_kill(&run->proc, sig);
}

static void
on_grace(uv_timer_t *t)
{
	struct exec_run *run = t->data;

	log_info("exec %s: still running %llu ms after SIGTERM; sending SIGKILL",
	    run->inv->id, (unsigned long long)run->grace_ms);
	kill_group(run, SIGKILL);
}

static void
begin_kill(struct exec_run *run, enum exec_kill why)
{
	if (run->killed_by != KILL_NONE || run->finishing || !run->spawned)
		return;
	run->killed_by = why;
	kill_group(run, SIGTERM);
	if (!run->exited)
		uv_timer_start(&run->timer, on_grace, run->grace_ms, 0);
}

static void
on_timeout(uv_timer_t *t)
{
	struct exec_run *run = t->data;

	log_info("exec %s: timed out; sending SIGTERM to process group %d",
	    run->inv->id, (int)run->pgid);
	begin_kill(run, KILL_TIMEOUT);
}

static void
maybe_finish(struct exec_run *run)
{
	if (run->exited && run->out.eof && run->err.eof)
		run_finish(run);
}

static void
on_drain(uv_timer_t *t)
{
	struct exec_run *run = t->data;

	/* Exited, but something in its group still holds the pipes. */
	run->drain_expired = true;
	log_info("exec %s: output still open %u ms after exit; signalling the group",
	    run->inv->id, EXEC_DRAIN_MS);
	kill_group(run, run->killed_by != KILL_NONE ? SIGKILL : SIGTERM);
	run_finish(run);
}

static void
proc_exited(uv_process_t *p, int64_t status, int sig)
{
	struct exec_run *run = p->data;

	run->exited = true;
	run->exit_status = status;
	run->term_signal = sig;
	uv_timer_stop(&run->timer);
	if (run->out.eof && run->err.eof) {
		run_finish(run);
		return;
	}
	uv_timer_start(&run->drain, on_drain, EXEC_DRAIN_MS, 0);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct exec_pipe *p = h->data;

	(void)suggested;
	b->base = p->chunk;
	b->len = sizeof p->chunk;
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct exec_pipe *p = s->data;

	if (nread > 0) {
		size_t n = (size_t)nread, room = p->data.max - p->data.len;

		if (n > room) {
			p->dropped += n - room;
			n = room;
		}
		if (n)
			buf_append(&p->data, b->base, n);
		return;
	}
	if (nread == 0)
		return;
	/* UV_EOF or an error: this pipe is done. */
	p->eof = true;
	uv_read_stop(s);
	maybe_finish(p->run);
}

/* --- ending ---------------------------------------------------------------- */

static void
run_free(struct exec_run *run)
{
	size_t i;

	for (i = 0; i < run->argc; i++)
		free(run->argv[i]);
	free(run->argv);
	if (run->spawn_argv != NULL) {
		for (i = 0; i < 5; i++)
			free(run->spawn_argv[i]);
		free(run->spawn_argv);
	}
	for (i = 0; i < run->envc; i++)
		free(run->envp[i]);
	free(run->envp);
	free(run->cwd);
	free(run->user);
	free(run->fail_reason);
	buf_free(&run->out.data);
	buf_free(&run->err.data);
	free(run);
}

static void
report(struct exec_run *run)
{
	struct invocation *inv = run->inv;
	struct action_result res;
	char dur[32];

	memset(&res, 0, sizeof res);
	res.exit_code = -1;
	res.duration_ms = ack_now_ms() - run->start_ms;
	if (run->fail_reason != NULL) {
		res.status = ACTION_FAILED;
		res.reason = run->fail_reason;
		run->fail_reason = NULL;
	} else {
		if (run->term_signal == 0)
			res.exit_code = (int)run->exit_status;
		res.term_signal = run->term_signal;
		if (run->killed_by == KILL_TIMEOUT) {
			res.status = ACTION_TIMEOUT;
			handler_fmt_duration(run->timeout_ms, dur, sizeof dur);
			res.reason = xasprintf("timed out after %s", dur);
		} else if (run->killed_by == KILL_CANCEL) {
			res.status = ACTION_CANCELED;
			res.reason = xstrdup("canceled");
		} else if (run->term_signal != 0) {
			res.status = ACTION_FAILED;
			res.reason = xasprintf("killed by signal %d (%s)", run->term_signal,
			    strsignal(run->term_signal));
		} else if (run->exit_status != 0) {
			res.status = ACTION_FAILED;
			res.reason = xasprintf("exited with status %d", (int)run->exit_status);
		} else {
			res.status = ACTION_SUCCEEDED;
		}
	}
	res.out_len = run->out.data.len;
	res.out = buf_steal(&run->out.data);
	res.out_dropped = run->out.dropped;
	res.err_len = run->err.data.len;
	res.err = buf_steal(&run->err.data);
	res.err_dropped = run->err.dropped;
	log_info("exec %s: %s%s%s in %llu ms", inv->id, action_status_name(res.status),
	    res.reason ? ": " : "", res.reason ? res.reason : "",
	    (unsigned long long)res.duration_ms);
	inv->handler_state = NULL;
	run->done(inv, &res, run->arg);         /* inv may be gone after this */
	action_result_free_fields(&res);
	run_free(run);
}

static void
handle_closed(uv_handle_t *h)
{
	struct exec_run *run = h->data;

	if (--run->handles == 0)
		report(run);
}

static void
close_handle(struct exec_run *run, uv_handle_t *h)
{
	h->data = run;
	uv_close(h, handle_closed);
}

/* Decides that the run is over and closes every handle; done follows from
 * the last close callback. */
static void
run_finish(struct exec_run *run)
{
	if (run->finishing)
		return;
	run->finishing = true;
	uv_timer_stop(&run->timer);
	uv_timer_stop(&run->drain);
	close_handle(run, (uv_handle_t *)&run->timer);
	close_handle(run, (uv_handle_t *)&run->drain);
	if (run->have_pipes) {
		close_handle(run, (uv_handle_t *)&run->out.pipe);
		close_handle(run, (uv_handle_t *)&run->err.pipe);
	}
	if (run->have_proc)
		close_handle(run, (uv_handle_t *)&run->proc);
}

/* Fails before anything ran; reported from the loop, not from start(). */
static void
fail_early(struct exec_run *run, const char *reason)
{
	run->fail_reason = xstrdup(reason);
	log_info("exec %s: not started: %s", run->inv->id, reason);
	run_finish(run);        /* done comes from the close callbacks */
}

static int
exec_start(struct invocation *inv, handler_done_cb done, void *arg,
    char *err, size_t errlen)
{
	struct exec_run *run;
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	char reason[ACK_ERR_LEN], esc[256];
	int rc;

	if (inv == NULL || inv->alias == NULL || inv->loop == NULL || done == NULL)
		return ack_err(err, errlen, "exec: incomplete invocation");
	if (inv->alias->handler != CFG_HANDLER_EXEC)
		return ack_err(err, errlen, "exec: alias %s is not an exec action",
		    inv->alias->name);

	run = xcalloc(1, sizeof *run);
	run->inv = inv;
	run->done = done;
	run->arg = arg;
	run->start_ms = ack_now_ms();
	run->timeout_ms = inv->timeout_ms;
	run->grace_ms = inv->kill_grace_ms ? inv->kill_grace_ms : EXEC_KILL_GRACE_MS;
	run->max_output = inv->max_output ? inv->max_output :
	    inv->alias->exec.max_output ? inv->alias->exec.max_output : EXEC_DEFAULT_MAX_OUTPUT;
	run->out.run = run;
	run->err.run = run;
	buf_init(&run->out.data, run->max_output);
	buf_init(&run->err.data, run->max_output);
	inv->handler_state = run;

	uv_timer_init(inv->loop, &run->timer);
	uv_timer_init(inv->loop, &run->drain);
	run->timer.data = run;
	run->drain.data = run;
	run->handles = 2;

	memset(&o, 0, sizeof o);
	if (render_all(run, &o, reason, sizeof reason) != 0) {
		fail_early(run, reason);
		return 0;
	}

	uv_pipe_init(inv->loop, &run->out.pipe, 0);
	uv_pipe_init(inv->loop, &run->err.pipe, 0);
	run->out.pipe.data = &run->out;
	run->err.pipe.data = &run->err;
	run->have_pipes = true;
	run->handles += 2;

	memset(stdio, 0, sizeof stdio);
	stdio[0].flags = UV_IGNORE;             /* libuv opens /dev/null for it */
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&run->out.pipe;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&run->err.pipe;
	o.file = run->spawn_argv ? run->spawn_argv[0] : run->argv[0];
	o.args = run->spawn_argv ? run->spawn_argv : run->argv;
	o.env = run->envp;
	o.cwd = run->cwd;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = proc_exited;
	o.flags |= UV_PROCESS_DETACHED;         /* setsid: its own process group */
	run->proc.data = run;

	rc = uv_spawn(inv->loop, &run->proc, &o);
	run->have_proc = true;                  /* initialised even on failure */
	run->handles++;
	run->proc.data = run;
	if (rc != 0) {
		log_escape(esc, sizeof esc, run->argv[0], strlen(run->argv[0]));
		if (rc == UV_ENOENT)
			snprintf(reason, sizeof reason, "program not found: %s", esc);
		else if (rc == UV_EACCES)
			snprintf(reason, sizeof reason, "program not executable: %s", esc);
		else if (rc == UV_EPERM && run->user)
			snprintf(reason, sizeof reason, "cannot switch to unix account %s: %s",
			    run->user, uv_strerror(rc));
		else
			snprintf(reason, sizeof reason, "cannot start %s: %s", esc,
			    uv_strerror(rc));
		fail_early(run, reason);
		return 0;
	}
	run->spawned = true;
	run->pgid = run->proc.pid;
	log_escape(esc, sizeof esc, run->argv[0], strlen(run->argv[0]));
	log_info("exec %s: started %s as pid %d%s%s", inv->id, esc, (int)run->proc.pid,
	    run->user ? " for unix user " : "", run->user ? run->user : "");
	uv_read_start((uv_stream_t *)&run->out.pipe, on_alloc, on_read);
	uv_read_start((uv_stream_t *)&run->err.pipe, on_alloc, on_read);
	if (run->timeout_ms > 0)
		uv_timer_start(&run->timer, on_timeout, run->timeout_ms, 0);
	return 0;
}

static void
exec_cancel(struct invocation *inv)
{
	struct exec_run *run = inv ? inv->handler_state : NULL;

	if (run == NULL || run->finishing)
		return;
	if (run->exited) {
		/* It has ended on its own and only its output is still open: end
		 * now, reporting how it exited rather than "canceled". */
		kill_group(run, SIGTERM);
		run_finish(run);
		return;
	}
	log_info("exec %s: canceled; sending SIGTERM to process group %d", inv->id,
	    (int)run->pgid);
	begin_kill(run, KILL_CANCEL);
}

static void
exec_check(const struct cfg_alias *a, const char *file, struct diag *d)
{
	const struct cfg_exec *x = &a->exec;
	char what[96];
	size_t i;

	if (x->argv.n == 0 || x->argv.v[0].s == NULL || x->argv.v[0].s[0] == '\0')
		diag_add(d, DIAG_ERROR, file, a->pos.line, a->pos.col,
		    "alias \"%s\": exec.argv must name a program", a->name);
	for (i = 0; i < x->argv.n; i++) {
		snprintf(what, sizeof what, "alias \"%s\": exec.argv[%zu]", a->name, i);
		handler_check_template(&x->argv.v[i], what, file, d);
	}
	snprintf(what, sizeof what, "alias \"%s\": exec.cwd", a->name);
	handler_check_template(&x->cwd, what, file, d);
	for (i = 0; i < x->env.n; i++) {
		if (!env_name_ok(x->env.v[i].key))
			diag_add(d, DIAG_ERROR, file, x->env.v[i].value.pos.line,
			    x->env.v[i].value.pos.col,
			    "alias \"%s\": exec.env: \"%s\" is not a valid variable name "
			    "(letters, digits, _; not starting with a digit)",
			    a->name, x->env.v[i].key);
		snprintf(what, sizeof what, "alias \"%s\": exec.env.%s", a->name, x->env.v[i].key);
		handler_check_template(&x->env.v[i].value, what, file, d);
	}
}

const struct handler_ops handler_exec = {
	.name = "exec",
	.check = exec_check,
	.start = exec_start,
	.cancel = exec_cancel,
};
