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

/* The work behind `train` (from a loaded config) and `quantize`, shared with `run`. */
struct mf_config;
int train_from_config(const struct mf_config *cfg, mf_error *err);

#include "mf_quantize.h"
typedef struct quantize_request {
    const char *model_path, *out_path;
    mf_quant_options o;
    int calibration, mse, qat, qat_epochs;
    double qat_lr;
    int threads;
    char **overrides;
    int n_overrides;
} quantize_request;
int quantize_model(const quantize_request *r, mf_error *err);
/* mcuforge deploy's work (cmd_deploy.c), also the last step of mcuforge run. n_vectors −1:
 * the default (20); all_test implies stream; overrides apply to the model's embedded config. */
typedef struct deploy_request {
    const char *model_path, *out_dir, *cflags, *opt;
    int precision; /* 0 (a quantized model's own), 32, 16 or 8 */
    int run, n_vectors, all_test, stream, threads, timeout_s, no_fuse;
    char **overrides;
    int n_overrides;
} deploy_request;
int deploy_model(const deploy_request *r, mf_error *err);
/* What deploy (and lower) start from: the quantized model (loaded, or a float model quantized
 * with the PTQ defaults), or the float model for float32; the dataset of its embedded config;
 * the raw test vectors and labels. Notes go to log (NULL: quiet). */
#include <stdio.h>
typedef struct deploy_inputs {
    mf_model *model, *folded;
    mf_qmodel *q;
    struct mf_config *cfg;
    struct mf_dataset *data;
    float *vectors;
    int *labels, n_vectors;
    double *ranges;
} deploy_inputs;
int deploy_inputs_load(const deploy_request *r, FILE *log, deploy_inputs *in, mf_error *err);
void deploy_inputs_free(deploy_inputs *in);
int cmd_lower(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Prints "mcuforge: <formatted error>" to stderr and returns 1. */
int cli_fail(const mf_error *err);
/* True if argv has -h or --help. */
int cli_wants_help(int argc, char **argv);

#endif
