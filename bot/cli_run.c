/*
 * cli_run.c - `ackbot [--config FILE] [--json]`: runs the bot (app.h).
 *
 * The config file is --config FILE, else $ACKBOT_CONFIG, else
 * /etc/ackbot/ackbot.toml. --json (or ACKBOT_CONSOLE_JSON=1) makes the
 * console print one JSON object per line, for scripts and tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"

static int
run_usage(FILE *f, int status)
{
	fprintf(f, "usage: ackbot [--config FILE] [--json]\n"
	    "  --config FILE  the configuration (default: $ACKBOT_CONFIG, or "
	    ACKBOT_DEFAULT_CONFIG ")\n"
	    "  --json         console adapter: print one JSON object per line "
	    "(also ACKBOT_CONSOLE_JSON=1)\n");
	return status;
}

static bool
env_true(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0 &&
	    strcmp(v, "false") != 0 && strcmp(v, "no") != 0;
}

int
cli_run(int argc, char **argv)
{
	struct app_opts o;
	const char *path = NULL;
	int i;

	memset(&o, 0, sizeof o);
	o.json_output = env_true("ACKBOT_CONSOLE_JSON");
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "ackbot: %s needs a file name\n", a);
				return run_usage(stderr, 2);
			}
			path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			path = a + 9;
		} else if (strcmp(a, "--json") == 0) {
			o.json_output = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			return run_usage(stdout, 0);
		} else {
			fprintf(stderr, "ackbot: unknown option '%s'\n", a);
			return run_usage(stderr, 2);
		}
	}
	if (path == NULL || *path == '\0') {
		path = getenv("ACKBOT_CONFIG");
		if (path == NULL || *path == '\0')
			path = ACKBOT_DEFAULT_CONFIG;
	}
	o.config_path = path;
	return app_run(&o);
}
