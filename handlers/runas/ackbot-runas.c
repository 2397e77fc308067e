/*
 * ackbot-runas.c - the run-as helper: sets a unix account's full identity
 * (uid, primary gid AND supplementary groups) and executes the action.
 *
 *     ackbot-runas USER UID GID -- PROGRAM [ARG...]
 *
 * Why a separate program: libuv's uv_spawn with UV_PROCESS_SETUID/SETGID
 * calls setgroups(0, NULL) before setgid/setuid, so the child has no
 * supplementary groups at all, and libuv offers no hook to run code in the
 * child between fork and exec. When ackbot runs as root and finds this
 * helper, handlers/exec.c spawns it (as root) instead of the program; it
 * calls initgroups(USER, GID), setgid(GID), setuid(UID), checks that root
 * cannot be regained, and execs the program with the environment it was
 * given (PATH lookup as execvp does).
 *
 * It refuses to work unless it was started by root itself (real and
 * effective uid 0): installed setuid by mistake, it does nothing for anyone
 * else. USER must resolve to exactly UID and GID (a cross-check against the
 * lookup the bot made). It never runs anything as root unless UID is 0.
 *
 * Exit status: the program's, or 126 (cannot switch identity, cannot
 * execute) / 127 (program not found), with a line on stderr.
 *
 * Build (one C file, no dependencies):
 *     add_executable(ackbot-runas handlers/runas/ackbot-runas.c)
 * and install it next to the ackbot binary, owned by root, mode 0755.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int
parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out > (unsigned long)INT_MAX)
		return -1;
	return 0;
}

static void die(int status, const char *what, const char *arg)
    __attribute__((noreturn));

static void
die(int status, const char *what, const char *arg)
{
	fprintf(stderr, "ackbot-runas: %s%s%s%s%s\n", what, arg ? ": " : "", arg ? arg : "",
	    errno ? ": " : "", errno ? strerror(errno) : "");
	exit(status);
}

int
main(int argc, char **argv)
{
	unsigned long uid, gid;
	struct passwd *pw;
	const char *user;

	if (argc < 6 || strcmp(argv[4], "--") != 0 || parse_id(argv[2], &uid) != 0 ||
	    parse_id(argv[3], &gid) != 0) {
		errno = 0;
		die(126, "usage: ackbot-runas USER UID GID -- PROGRAM [ARG...]", NULL);
	}
	user = argv[1];
	if (getuid() != 0 || geteuid() != 0) {
		errno = 0;
		die(126, "must be started by root (it is not meant to be setuid)", NULL);
	}
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL)
		die(126, "no such unix account", user);
	if ((unsigned long)pw->pw_uid != uid || (unsigned long)pw->pw_gid != gid) {
		errno = 0;
		die(126, "the account's uid or gid changed; not running", user);
	}
	if (initgroups(user, (gid_t)gid) != 0)
		die(126, "cannot set the supplementary groups of", user);
	if (setgid((gid_t)gid) != 0)
		die(126, "cannot set the group id for", user);
	if (setuid((uid_t)uid) != 0)
		die(126, "cannot set the user id for", user);
	if (getuid() != (uid_t)uid || geteuid() != (uid_t)uid ||
	    getgid() != (gid_t)gid || getegid() != (gid_t)gid) {
		errno = 0;
		die(126, "the identity did not change as asked", user);
	}
	if (uid != 0 && setuid(0) == 0) {
		errno = 0;
		die(126, "root could be regained after dropping it; not running", user);
	}
	errno = 0;
	execvp(argv[5], &argv[5]);
	die(errno == ENOENT ? 127 : 126, errno == ENOENT ? "program not found" :
	    "cannot run", argv[5]);
	return 126;
}
