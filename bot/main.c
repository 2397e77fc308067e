/*
 * main.c - the ackbot program: dispatches to a subcommand (cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ackbot [--config FILE] [--json]     run the bot (default config: $ACKBOT_CONFIG\n"
	    "                                           or " ACKBOT_DEFAULT_CONFIG ");\n"
	    "                                           --json: console posts as JSON lines\n"
	    "       ackbot check-config [--no-secrets] FILE\n"
	    "                                           validate a config file (exit 0 valid, 2 not);\n"
	    "                                           --no-secrets: do not read env/file secrets\n"
	    "       ackbot parse-format [--multiple] FORMAT TEXT\n"
	    "                                           the parameters FORMAT extracts from TEXT (JSON)\n"
	    "       ackbot test-alias --config FILE TEXT\n"
	    "                                           which alias and format TEXT runs, with its\n"
	    "                                           parameters (JSON)\n"
	    "       ackbot --version | --help\n");
}

int
main(int argc, char **argv)
{
	if (argc >= 2) {
		const char *cmd = argv[1];

		if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
		    strcmp(cmd, "help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
			printf("ackbot %s\n", ACKBOT_VERSION);
			return 0;
		}
		if (strcmp(cmd, "check-config") == 0)
			return cli_check_config(argc - 2, argv + 2);
		if (strcmp(cmd, "parse-format") == 0)
			return cli_parse_format(argc - 2, argv + 2);
		if (strcmp(cmd, "test-alias") == 0)
			return cli_test_alias(argc - 2, argv + 2);
		if (cmd[0] != '-') {
			fprintf(stderr, "ackbot: unknown command '%s'\n", cmd);
			usage(stderr);
			return 2;
		}
	}
	return cli_run(argc - 1, argv + 1);
}
