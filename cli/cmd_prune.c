/* mcuforge prune MODEL.h5 --sparsity S [options] [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_pipeline.h"

static void prune_usage(FILE *f)
{
    fprintf(f,
            "usage: mcuforge prune MODEL.h5 --sparsity S [--epochs N] [--lr X] [--initial S0]\n"
            "                     [--ramp-epochs E] [--every K] [--per-layer]\n"
            "                     [--exclude NAME[,NAME...]] [--layer NAME=S ...]\n"
            "                     [--threads T] [--out PATH]\n"
            "                     [key.sub=value ...]\n\n"
            "Unstructured magnitude pruning of the conv and dense kernels (biases and batch-norm\n"
            "parameters stay): the share S (0 to 0.99) of the kernel values with the smallest\n"
            "magnitudes becomes 0, over all kernels together (one threshold; layers with small\n"
            "weights lose more) or, with --per-layer, S of every kernel; --exclude keeps the\n"
            "named layers dense; --layer NAME=S (repeatable) prunes that layer to its own\n"
            "sparsity S, by its own threshold, whatever the others (e.g. --layer conv1=0.5\n"
            "--layer fc1=0.95: a small first conv keeps most of its weights).\n\n"
            "With --epochs N (default 4; 0 prunes at once, no training) the model is fine-tuned\n"
            "for N epochs on its embedded config's dataset and optimizer, at learning rate X\n"
            "(default: a tenth of train.lr, constant), while the sparsity grows from S0 (default\n"
            "0) to S along the cubic schedule of Zhu & Gupta (2017) over the first E epochs\n"
            "(default two thirds of N; the layers of --layer from S0 to their own S the same\n"
            "share of the way), the mask recomputed every K optimizer steps (default a\n"
            "quarter of an epoch). Pruned weights stay exactly 0 through every later step, the\n"
            "model file (its kernel_mask datasets), batch-norm folding, quantization and QAT.\n\n"
            "The fine-tuning distils from the teacher of the embedded config's train.distill, if\n"
            "it names one; train.distill.teacher=PATH sets one (e.g. the model itself, the dense\n"
            "model), train.distill.teacher= (empty) switches it off.\n\n"
            "Prints the test accuracy before and after and the sparsity per layer, and writes\n"
            "MODEL.pruned.h5 beside the model (or --out). --threads: 1 to 64 (default: the\n"
            "config's train.threads).\n");
}

/* --exclude a,b,c → its names (pointers into a copy of the value, owned by *buf). */
static int split_names(const char *verb, const char *v, char **buf, char ***names, int *n)
{
    *buf = strdup(v);
    *names = calloc(strlen(v) / 2 + 2, sizeof **names);
    if (!*buf || !*names) return cli_usage_error(verb, "out of memory");
    for (char *s = *buf, *next; s; s = next) {
        next = strchr(s, ',');
        if (next) *next++ = '\0';
        if (!*s) return cli_usage_error(verb, "--exclude '%s': an empty layer name", v);
        (*names)[(*n)++] = s;
    }
    return 0;
}

int cmd_prune(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        prune_usage(stdout);
        return 0;
    }
    static const char verb[] = "prune";
    mf_prune_request r = {0};
    r.epochs = 4;
    r.spec.sparsity = -1.0;
    char **overrides = calloc((size_t)argc, sizeof *overrides), *names_buf = NULL;
    mf_prune_target *targets = calloc((size_t)argc, sizeof *targets);
    int bad = 0, every = 0;
    if (!overrides || !targets) {
        free(overrides);
        free(targets);
        return 1;
    }
    r.spec.targets = targets;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--per-layer"))
            r.spec.per_layer = 1;
        else if (a[0] != '-' && strchr(a, '='))
            overrides[r.n_overrides++] = argv[i];
        else if (a[0] != '-' && !r.model_path)
            r.model_path = a;
        else if (a[0] != '-')
            bad = cli_usage_error(verb, "unexpected argument '%s' (one model file)", a);
        else if (strcmp(a, "--sparsity") && strcmp(a, "--epochs") && strcmp(a, "--lr") &&
                 strcmp(a, "--initial") && strcmp(a, "--ramp-epochs") && strcmp(a, "--every") &&
                 strcmp(a, "--exclude") && strcmp(a, "--threads") && strcmp(a, "--out") &&
                 strcmp(a, "--layer"))
            bad = cli_usage_error(verb, "unknown option '%s'", a);
        else if (!(v = cli_value(verb, argc, argv, &i)))
            bad = 2;
        else if (!strcmp(a, "--sparsity"))
            bad = cli_parse_double(verb, a, v, 0.0, 0.99, &r.spec.sparsity);
        else if (!strcmp(a, "--epochs"))
            bad = cli_parse_int(verb, a, v, 0, CLI_MAX_EPOCHS, &r.epochs);
        else if (!strcmp(a, "--lr"))
            bad = cli_parse_double(verb, a, v, 0.0, 100.0, &r.lr);
        else if (!strcmp(a, "--initial"))
            bad = cli_parse_double(verb, a, v, 0.0, 0.99, &r.initial);
        else if (!strcmp(a, "--ramp-epochs"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_EPOCHS, &r.ramp_epochs);
        else if (!strcmp(a, "--every"))
            bad = cli_parse_int(verb, a, v, 1, 1 << 30, &every);
        else if (!strcmp(a, "--threads"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_THREADS, &r.threads);
        else if (!strcmp(a, "--out"))
            r.out_path = v;
        else if (!strcmp(a, "--layer")) {
            const char *eq = strchr(v, '=');
            mf_prune_target *t = &targets[r.spec.n_targets];
            if (!eq || eq == v)
                bad = cli_usage_error(verb, "--layer '%s': expected NAME=S (conv2=0.9)", v);
            else if (!(bad = cli_parse_double(verb, "--layer", eq + 1, 0.0, 0.99, &t->sparsity))) {
                t->name = strndup(v, (size_t)(eq - v));
                if (!t->name) bad = cli_usage_error(verb, "out of memory");
                r.spec.n_targets++;
            }
        } else if (names_buf)
            bad = cli_usage_error(verb, "--exclude given twice (list the layers once, "
                                        "separated by commas)");
        else
            bad = split_names(verb, v, &names_buf, &r.spec.exclude, &r.spec.n_exclude);
    }
    r.every = every;
    if (!bad && !r.model_path) bad = cli_usage_error(verb, "name a model file (MODEL.h5)");
    if (!bad && r.spec.sparsity < 0) bad = cli_usage_error(verb, "give the target --sparsity S");
    if (!bad && r.initial > r.spec.sparsity)
        bad = cli_usage_error(verb, "--initial %g is above --sparsity %g", r.initial,
                              r.spec.sparsity);
    if (!bad && r.ramp_epochs > r.epochs)
        bad = cli_usage_error(verb, "--ramp-epochs %d is more than --epochs %d", r.ramp_epochs,
                              r.epochs);
    int rc = bad ? 2 : 0;
    if (!bad) {
        char default_out[4200];
        if (!r.out_path) {
            size_t len = strlen(r.model_path);
            int h5 = len > 3 && !strcmp(r.model_path + len - 3, ".h5");
            snprintf(default_out, sizeof default_out, "%.*s.pruned.h5", (int)(h5 ? len - 3 : len),
                     r.model_path);
            r.out_path = default_out;
        }
        r.overrides = overrides;
        mf_error err;
        mf_error_clear(&err);
        rc = mf_pipeline_prune(&r, stdout, &err) == MF_OK ? 0 : 1;
        if (rc) cli_fail(&err);
    }
    free(r.spec.exclude);
    for (int k = 0; k < r.spec.n_targets; k++)
        free((char *)targets[k].name);
    free(targets);
    free(names_buf);
    free(overrides);
    return rc;
}
