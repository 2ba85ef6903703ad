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
int cmd_prune(int argc, char **argv);
int cmd_deploy(int argc, char **argv);

int cmd_lower(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Limits of numeric options (the config's own limits for the same settings). */
#define CLI_MAX_THREADS 64
#define CLI_MAX_EPOCHS  100000
#define CLI_MAX_SAMPLES (1 << 24)
#define CLI_MAX_TIMEOUT 86400
#define CLI_MAX_FORCE_N 40

/* Usage errors (exit status 2): "mcuforge <verb>: <message> (see 'mcuforge <verb> --help')" on
 * stderr; returns 2. Messages name the argument, the value and what is expected. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The value of the option argv[*i] (argv[*i + 1]; *i moves to it), or NULL after a usage error
 * ("--bits needs a value") when it is the last argument. */
const char *cli_value(const char *verb, int argc, char **argv, int *i);
/* Strict numbers: the whole of value must be a decimal integer (an optional '-' and digits) in
 * [lo, hi], or for cli_parse_double a finite decimal number ("0.01", "1e-3"; no spaces, hex,
 * nan or inf) in [lo, hi]. Returns 0 with *out set, or 2 after a usage error
 * "--threads '0': expected an integer from 1 to 64". */
int cli_parse_int(const char *verb, const char *arg, const char *value, long lo, long hi, int *out);
int cli_parse_double(const char *verb, const char *arg, const char *value, double lo, double hi,
                     double *out);

/* Prints "mcuforge: <formatted error>" to stderr and returns 1. */
int cli_fail(const mf_error *err);
/* True if argv has -h or --help. */
int cli_wants_help(int argc, char **argv);

#endif
