/* One function per subcommand, each in its own cmd_<verb>.c. argv[0] is the verb.
 * Each returns the process exit status (0 ok, 1 failure, 2 usage error) and handles --help. */
#ifndef MF_CLI_COMMANDS_H
#define MF_CLI_COMMANDS_H

#include "mf_error.h"

int cmd_train(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_dataset(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_deploy(int argc, char **argv);

int cmd_lower(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Prints "mcuforge: <formatted error>" to stderr and returns 1. */
int cli_fail(const mf_error *err);
/* True if argv has -h or --help. */
int cli_wants_help(int argc, char **argv);

#endif
