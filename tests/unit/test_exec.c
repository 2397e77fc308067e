/*
 * test_exec.c - the exec handler with real processes: output capture and
 * caps, exit codes and signals, timeouts that kill a whole process tree,
 * cancel, missing programs, cwd, the child's environment, argv without a
 * shell, run_as_user.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/log.h"
#include "bot/util.h"
#include "config/diag.h"
#include "handlers/handler.h"

struct got {
	int calls;
	enum action_status status;
	int exit_code, term_signal;
	char *out, *err, *reason;
	size_t out_len, out_dropped, err_len, err_dropped;
	uint64_t duration_ms;
	bool state_cleared;
};

struct fx {
	int nfds;               /* open descriptors before the test */
	uv_loop_t loop;
	struct cfg_alias alias;
	struct cfg_str argv[16];
	struct cfg_kv env[8];
	struct invocation inv;
	struct got g;
	char dir[64];
};

static void
on_done(struct invocation *inv, const struct action_result *r, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->state_cleared = inv->handler_state == NULL;
	g->status = r->status;
	g->exit_code = r->exit_code;
	g->term_signal = r->term_signal;
	g->out = xstrndup(r->out ? r->out : "", r->out_len);
	g->err = xstrndup(r->err ? r->err : "", r->err_len);
	g->reason = xstrdup(r->reason);
	g->out_len = r->out_len;
	g->out_dropped = r->out_dropped;
	g->err_len = r->err_len;
	g->err_dropped = r->err_dropped;
	g->duration_ms = r->duration_ms;
}

static void
got_free(struct got *g)
{
	free(g->out);
	free(g->err);
	free(g->reason);
	memset(g, 0, sizeof *g);
}

static int
count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (access(path, F_OK) == 0)
			n++;
	}
	return n;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	f->nfds = count_fds();
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->alias.name = "t";
	f->alias.handler = CFG_HANDLER_EXEC;
	f->alias.exec.argv.v = f->argv;
	f->alias.exec.env.v = f->env;
	snprintf(f->inv.id, sizeof f->inv.id, "c1");
	f->inv.alias = &f->alias;
	f->inv.loop = &f->loop;
	f->inv.context = json_object();
	f->inv.env = json_object();
	f->inv.timeout_ms = 20000;
	f->inv.max_output = 65536;
	snprintf(f->dir, sizeof f->dir, "/tmp/ackbot-exec-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	json_object_set_new(f->inv.context, "dir", json_string(f->dir));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	assert_int_equal(count_fds(), f->nfds);    /* no pipe left open */
	json_decref(f->inv.context);
	json_decref(f->inv.env);
	got_free(&f->g);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
set_argv(struct fx *f, ...)
{
	va_list ap;
	const char *s;
	size_t n = 0;

	va_start(ap, f);
	while ((s = va_arg(ap, const char *)) != NULL) {
		f->argv[n].s = (char *)s;
		f->argv[n].pos.line = 10;
		f->argv[n].pos.col = 5;
		n++;
	}
	va_end(ap);
	f->alias.exec.argv.n = n;
}

static void
watchdog(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Starts the action and runs the loop until done (30 s at most). */
static void
run_action(struct fx *f)
{
	char err[ACK_ERR_LEN];
	uv_timer_t wd;
	bool expired = false;

	got_free(&f->g);
	assert_int_equal(handler_exec.start(&f->inv, on_done, &f->g, err, sizeof err), 0);
	assert_int_equal(f->g.calls, 0);       /* never from within start */
	uv_timer_init(&f->loop, &wd);
	wd.data = &expired;
	uv_timer_start(&wd, watchdog, 30000, 0);
	uv_unref((uv_handle_t *)&wd);
	while (f->g.calls == 0 && !expired)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_false(expired);
	assert_int_equal(f->g.calls, 1);
	assert_true(f->g.state_cleared);
}

/* true once pid has exited (gone, or a zombie nobody has reaped yet). */
static bool
pid_dead(long pid)
{
	char path[64], buf[512];
	FILE *fp;
	char *p;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return true;
	if (fgets(buf, sizeof buf, fp) == NULL) {
		fclose(fp);
		return true;
	}
	fclose(fp);
	p = strrchr(buf, ')');
	return p != NULL && (p[2] == 'Z' || p[2] == 'X');
}

static bool
wait_dead(long pid)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (pid_dead(pid))
			return true;
		usleep(10 * 1000);
	}
	return false;
}

static long
read_pid(const char *dir)
{
	char path[128];
	long pid = -1;
	FILE *fp;

	snprintf(path, sizeof path, "%s/pid", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%ld", &pid), 1);
	fclose(fp);
	return pid;
}

static void
test_echo(void **state)
{
	struct fx *f = *state;

	json_object_set_new(f->inv.context, "a", json_string("x y"));
	set_argv(f, "printf", "%s|%s", "{{ a }}", "b c", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_int_equal(f->g.exit_code, 0);
	assert_int_equal(f->g.term_signal, 0);
	assert_string_equal(f->g.out, "x y|b c");
	assert_string_equal(f->g.err, "");
	assert_null(f->g.reason);
}

static void
test_exit_code_and_stderr(void **state)
{
	struct fx *f = *state;

	set_argv(f, "sh", "-c", "echo out; echo oops >&2; exit 3", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_int_equal(f->g.exit_code, 3);
	assert_string_equal(f->g.out, "out\n");
	assert_string_equal(f->g.err, "oops\n");
	assert_string_equal(f->g.reason, "exited with status 3");
}

static void
test_killed_by_signal(void **state)
{
	struct fx *f = *state;

	set_argv(f, "sh", "-c", "kill -KILL $$", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_int_equal(f->g.exit_code, -1);
	assert_int_equal(f->g.term_signal, SIGKILL);
	assert_non_null(strstr(f->g.reason, "killed by signal 9"));
}

static void
test_stdin_is_dev_null(void **state)
{
	struct fx *f = *state;

	set_argv(f, "cat", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_int_equal(f->g.out_len, 0);
}

static void
test_output_cap(void **state)
{
	struct fx *f = *state;

	f->inv.max_output = 100;
	set_argv(f, "sh", "-c",
	    "head -c 300000 /dev/zero | tr '\\0' x; head -c 5000 /dev/zero | tr '\\0' y >&2",
	    NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_int_equal(f->g.out_len, 100);
	assert_int_equal(f->g.out_dropped, 299900);
	assert_int_equal(f->g.err_len, 100);
	assert_int_equal(f->g.err_dropped, 4900);
	assert_int_equal(strspn(f->g.out, "x"), 100);
}

static void
test_timeout_kills_tree(void **state)
{
	struct fx *f = *state;
	long pid;

	f->inv.timeout_ms = 500;
	set_argv(f, "sh", "-c", "sleep 100 & echo $! > \"$1\"/pid; sleep 100", "sh", "{{ dir }}",
	    NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_TIMEOUT);
	assert_string_equal(f->g.reason, "timed out after 500ms");
	assert_int_equal(f->g.term_signal, SIGTERM);
	assert_true(f->g.duration_ms >= 450 && f->g.duration_ms < 15000);
	pid = read_pid(f->dir);
	assert_true(pid > 1);
	assert_true(wait_dead(pid));
}

static void
test_timeout_then_sigkill(void **state)
{
	struct fx *f = *state;
	long pid;

	f->inv.timeout_ms = 300;
	f->inv.kill_grace_ms = 300;
	/* Ignored signals stay ignored across exec: both ignore SIGTERM. */
	set_argv(f, "sh", "-c", "trap '' TERM; sleep 100 & echo $! > \"$1\"/pid; sleep 100",
	    "sh", "{{ dir }}", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_TIMEOUT);
	assert_int_equal(f->g.term_signal, SIGKILL);
	assert_true(f->g.duration_ms >= 550 && f->g.duration_ms < 15000);
	pid = read_pid(f->dir);
	assert_true(wait_dead(pid));
}

static void
test_grandchild_holding_pipe(void **state)
{
	struct fx *f = *state;
	long pid;

	set_argv(f, "sh", "-c", "sleep 100 & echo $! > \"$1\"/pid; echo done", "sh",
	    "{{ dir }}", NULL);
	run_action(f);
	/* Ends after the drain window, not after 100 s. */
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_string_equal(f->g.out, "done\n");
	assert_true(f->g.duration_ms < 15000);
	pid = read_pid(f->dir);
	assert_true(wait_dead(pid));
}

static void
test_missing_program(void **state)
{
	struct fx *f = *state;

	set_argv(f, "no-such-program-ackbot", "x", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_string_equal(f->g.reason, "program not found: no-such-program-ackbot");
	assert_int_equal(f->g.exit_code, -1);

	set_argv(f, "/nonexistent/bin/prog", NULL);
	run_action(f);
	assert_string_equal(f->g.reason, "program not found: /nonexistent/bin/prog");

	set_argv(f, "{{ empty }}", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_non_null(strstr(f->g.reason, "program name"));
}

static void
test_not_executable(void **state)
{
	struct fx *f = *state;
	char path[128];
	FILE *fp;

	snprintf(path, sizeof path, "%s/script", f->dir);
	fp = fopen(path, "w");
	fputs("#!/bin/sh\necho hi\n", fp);
	fclose(fp);
	chmod(path, 0644);
	set_argv(f, path, NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_non_null(strstr(f->g.reason, "not executable"));
}

static void
test_cwd(void **state)
{
	struct fx *f = *state;
	char want[80];

	f->alias.exec.cwd.s = "{{ dir }}";
	set_argv(f, "pwd", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	snprintf(want, sizeof want, "%s\n", f->dir);
	assert_string_equal(f->g.out, want);

	f->alias.exec.cwd.s = "/nonexistent/ackbot-dir";
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_string_equal(f->g.reason, "working directory not found: /nonexistent/ackbot-dir");
}

static void
test_environment(void **state)
{
	struct fx *f = *state;

	setenv("ACKBOT_FAKE_SECRET", "hunter2", 1);
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	json_object_set_new(f->inv.env, "ACKBOT_USER", json_string("alice"));
	json_object_set_new(f->inv.env, "ACKBOT_CHANNEL", json_string("ops"));
	json_object_set_new(f->inv.env, "ACKBOT_PARAM_HOST", json_string("web1"));
	json_object_set_new(f->inv.context, "name", json_string("bob"));
	f->env[0].key = "GREETING";
	f->env[0].value.s = "hi {{ name }}";
	f->env[1].key = "ACKBOT_USER";          /* the user context wins */
	f->env[1].value.s = "mallory";
	f->alias.exec.env.n = 2;
	set_argv(f, "env", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_non_null(strstr(f->g.out, "ACKBOT_USER=alice\n"));
	assert_non_null(strstr(f->g.out, "ACKBOT_CHANNEL=ops\n"));
	assert_non_null(strstr(f->g.out, "ACKBOT_PARAM_HOST=web1\n"));
	assert_non_null(strstr(f->g.out, "GREETING=hi bob\n"));
	assert_non_null(strstr(f->g.out, "PATH=/usr/local/bin:/usr/bin:/bin\n"));
	assert_null(strstr(f->g.out, "mallory"));
	assert_null(strstr(f->g.out, "ACKBOT_FAKE_SECRET"));
	assert_null(strstr(f->g.out, "hunter2"));
	unsetenv("ACKBOT_FAKE_SECRET");
}

static void
test_no_shell_interpretation(void **state)
{
	struct fx *f = *state;
	char marker[96], want[512];
	struct stat st;

	snprintf(marker, sizeof marker, "%s/marker", f->dir);
	json_object_set_new(f->inv.context, "p", json_string("; rm -rf /tmp/x"));
	snprintf(want, sizeof want, "$(touch %s) `touch %s` && touch %s", marker, marker,
	    marker);
	json_object_set_new(f->inv.context, "q", json_string(want));
	set_argv(f, "printf", "[%s]\\n", "{{ p }}", "{{ q }}", "*", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	snprintf(want, sizeof want,
	    "[; rm -rf /tmp/x]\n[$(touch %s) `touch %s` && touch %s]\n[*]\n", marker, marker,
	    marker);
	assert_string_equal(f->g.out, want);
	assert_int_not_equal(stat(marker, &st), 0);
}

struct cancel_ctx {
	struct fx *f;
	int calls_seen_in_cancel;
};

static void
cancel_fire(uv_timer_t *t)
{
	struct cancel_ctx *cc = t->data;

	handler_exec.cancel(&cc->f->inv);
	handler_exec.cancel(&cc->f->inv);       /* twice is harmless */
	cc->calls_seen_in_cancel = cc->f->g.calls;
	uv_close((uv_handle_t *)t, NULL);
}

static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct cancel_ctx cc = { f, -1 };
	uv_timer_t t;
	long pid;

	set_argv(f, "sh", "-c", "sleep 100 & echo $! > \"$1\"/pid; sleep 100", "sh", "{{ dir }}",
	    NULL);
	uv_timer_init(&f->loop, &t);
	t.data = &cc;
	uv_timer_start(&t, cancel_fire, 300, 0);
	run_action(f);
	assert_int_equal(cc.calls_seen_in_cancel, 0);   /* not from within cancel */
	assert_int_equal(f->g.status, ACTION_CANCELED);
	assert_string_equal(f->g.reason, "canceled");
	assert_true(f->g.duration_ms < 15000);
	pid = read_pid(f->dir);
	assert_true(wait_dead(pid));
}

static void
test_render_error(void **state)
{
	struct fx *f = *state;

	set_argv(f, "echo", "{{ unclosed", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_non_null(strstr(f->g.reason, "argv[1]"));
}

static void
test_run_as_user(void **state)
{
	struct fx *f = *state;

	/* Asked for, but the user has no unix account mapped: refused. */
	f->alias.exec.run_as_user = true;
	f->inv.unix_user = NULL;
	set_argv(f, "id", "-u", NULL);
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_non_null(strstr(f->g.reason, "unix_user"));

	f->inv.unix_user = "no-such-user-ackbot";
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_string_equal(f->g.reason, "unix account \"no-such-user-ackbot\" does not exist");

	f->inv.unix_user = "nobody";
	set_argv(f, "sh", "-c", "id -u; id -G; echo $HOME $USER", NULL);
	run_action(f);
	if (geteuid() != 0) {
		assert_int_equal(f->g.status, ACTION_FAILED);
		assert_non_null(strstr(f->g.reason, "not running as root"));
		return;
	}
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_non_null(strstr(f->g.out, "65534\n65534\n"));
	assert_non_null(strstr(f->g.out, "nobody\n"));
}

static void
test_check(void **state)
{
	struct fx *f = *state;
	struct diag d;

	diag_init(&d);
	set_argv(f, "echo", "{{ fine }}", NULL);
	f->env[0].key = "OK_NAME";
	f->env[0].value.s = "v";
	f->alias.exec.env.n = 1;
	handler_exec.check(&f->alias, "a.toml", &d);
	assert_int_equal(d.nerrors, 0);

	set_argv(f, "echo", "{{ broken", NULL);
	f->env[0].key = "1BAD";
	handler_exec.check(&f->alias, "a.toml", &d);
	assert_int_equal(d.nerrors, 2);
	assert_int_equal(d.items[0].line, 10);
	assert_non_null(strstr(d.items[0].msg, "exec.argv[1]"));
	assert_non_null(strstr(d.items[1].msg, "1BAD"));
	diag_free(&d);

	diag_init(&d);
	set_argv(f, NULL);
	f->alias.exec.env.n = 0;
	handler_exec.check(&f->alias, "a.toml", &d);
	assert_int_equal(d.nerrors, 1);
	diag_free(&d);
}

static void
test_many_at_once(void **state)
{
	struct fx *f = *state;
	struct invocation inv[20];
	struct got g[20];
	char err[ACK_ERR_LEN];
	int i, done;

	set_argv(f, "sh", "-c", "echo $ACKBOT_COMMAND_ID", NULL);
	memset(g, 0, sizeof g);
	for (i = 0; i < 20; i++) {
		inv[i] = f->inv;
		inv[i].env = json_object();
		snprintf(inv[i].id, sizeof inv[i].id, "c%d", i);
		json_object_set_new(inv[i].env, "ACKBOT_COMMAND_ID", json_string(inv[i].id));
		assert_int_equal(handler_exec.start(&inv[i], on_done, &g[i], err, sizeof err), 0);
	}
	for (;;) {
		done = 0;
		for (i = 0; i < 20; i++)
			done += g[i].calls;
		if (done == 20)
			break;
		uv_run(&f->loop, UV_RUN_ONCE);
	}
	for (i = 0; i < 20; i++) {
		char want[16];

		snprintf(want, sizeof want, "c%d\n", i);
		assert_int_equal(g[i].status, ACTION_SUCCEEDED);
		assert_string_equal(g[i].out, want);
		got_free(&g[i]);
		json_decref(inv[i].env);
	}
}

static void
warm_exit(uv_process_t *p, int64_t st, int sig)
{
	(void)st;
	(void)sig;
	uv_close((uv_handle_t *)p, NULL);
}

/* libuv opens its process-wide SIGCHLD plumbing on the first spawn and keeps
 * it: do that once here so that the per-test descriptor counts compare. */
static void
warm_up(void)
{
	uv_loop_t l;
	uv_process_t p;
	uv_process_options_t o;
	char *args[] = { "true", NULL };

	memset(&o, 0, sizeof o);
	o.file = "true";
	o.args = args;
	o.exit_cb = warm_exit;
	uv_loop_init(&l);
	if (uv_spawn(&l, &p, &o) != 0)
		uv_close((uv_handle_t *)&p, NULL);
	uv_run(&l, UV_RUN_DEFAULT);
	uv_loop_close(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_code_and_stderr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_by_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin_is_dev_null, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_then_sigkill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grandchild_holding_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_executable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cwd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_shell_interpretation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_as_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_at_once, setup, teardown),
	};

	log_setup(LOG_WARN, NULL);
	warm_up();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
