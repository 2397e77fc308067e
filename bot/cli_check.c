/*
 * cli_check.c - `ackbot check-config [--no-secrets] FILE`: loads and
 * validates a config file, prints every diagnostic and a short summary.
 * Exit status: 0 valid (warnings allowed), 2 invalid or usage error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../config/config.h"
#include "app.h"
#include "cli.h"

static int
usage(void)
{
	fprintf(stderr, "usage: ackbot check-config [--no-secrets] FILE\n"
	    "  --no-secrets  do not read secrets (environment variables, files);\n"
	    "                for checking a file on another machine\n");
	return 2;
}

int
cli_check_config(int argc, char **argv)
{
	const char *path = NULL;
	bool resolve = true;
	struct cfg *c = NULL;
	struct bot_gen *gen = NULL;
	struct diag d;
	int i, r;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--no-secrets") == 0)
			resolve = false;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage();
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage();
		else if (path == NULL)
			path = argv[i];
		else
			return usage();
	}
	if (path == NULL)
		return usage();

	diag_init(&d);
	r = cfg_load(path, resolve, &c, &d);
	if (r == 0) {
		/*
		 * The same checks the bot makes before it starts: handler fields,
		 * every format and template (with overlap warnings), and the
		 * [messages] templates. The generation owns c from here on.
		 */
		gen = app_build_gen(c, path, &d);
	}
	diag_print(&d, stderr);
	if (r == 0 && d.nerrors == 0) {
		printf("%s: OK", path);
		if (d.nwarnings > 0)
			printf(" (%zu warning%s)", d.nwarnings,
			    d.nwarnings == 1 ? "" : "s");
		printf("\n");
		cfg_print_summary(gen->cfg, stdout);
	} else {
		fprintf(stderr, "%s: %zu error%s", path, d.nerrors,
		    d.nerrors == 1 ? "" : "s");
		if (d.nwarnings > 0)
			fprintf(stderr, ", %zu warning%s", d.nwarnings,
			    d.nwarnings == 1 ? "" : "s");
		fprintf(stderr, "\n");
	}
	r = r == 0 && d.nerrors == 0 ? 0 : 2;
	gen_unref(gen);
	diag_free(&d);
	return r;
}
