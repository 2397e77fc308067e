/*
 * cli.h - the ackbot command line: one function per subcommand.
 *
 * Each takes the arguments after the subcommand name and returns the process
 * exit status. main.c only dispatches.
 */
#ifndef ACKBOT_CLI_H
#define ACKBOT_CLI_H

#define ACKBOT_DEFAULT_CONFIG "/etc/ackbot/ackbot.toml"

/* ackbot check-config FILE: 0 valid, 2 invalid (every error printed). */
int cli_check_config(int argc, char **argv);
/* ackbot parse-format FORMAT TEXT: JSON params (0) or an error (1). */
int cli_parse_format(int argc, char **argv);
/* ackbot test-alias --config FILE TEXT: match as JSON (0), or why not (1). */
int cli_test_alias(int argc, char **argv);
/* ackbot [--config FILE]: runs the bot until stopped. */
int cli_run(int argc, char **argv);

#endif
