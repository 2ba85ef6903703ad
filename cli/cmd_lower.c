/* mcuforge lower MODEL.h5 [--precision float32|int16|int8] [--no-fuse] [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_lower.h"
#include "mf_pipeline.h"

static void lower_usage(FILE *f)
{
    fprintf(f,
            "usage: mcuforge lower MODEL.h5 [--precision float32|int16|int8] [--no-fuse]\n"
            "                     [key.sub=value ...]\n\n"
            "Prints the lowered program deploy would generate, without building anything: every\n"
            "kernel call in order (runtime function, layers, input/output tensors with their\n"
            "shapes, Q formats and arena ranges, kernel scratch, geometry, requantization shift,\n"
            "alignments, rounding, blob sizes), then the memory plan (tensor offsets, lifetimes,\n"
            "arena and its lower bound). The host evaluates and the firmware runs exactly this\n"
            "program.\n\n"
            "MODEL.h5 is a quantized model (its precision) or a float model: float32 lowers it as\n"
            "is (batch-norm folded, ReLU fused); int16/int8 first quantize it as deploy does\n"
            "(PTQ defaults, the dataset of its embedded config; key=value overrides apply).\n"
            "--no-fuse keeps conv -> max-pool pairs as two calls.\n");
}

int cmd_lower(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        lower_usage(stdout);
        return 0;
    }
    mf_deploy_request r;
    memset(&r, 0, sizeof r);
    r.n_vectors = 1;
    r.threads = 2;
    r.ptq = (mf_ptq_options){{0, MF_RT_ROUND_HALF_UP, 0, -1}, 0, 0, 2};
    r.overrides = calloc((size_t)argc, sizeof *r.overrides);
    if (!r.overrides) return 1;
    static const char verb[] = "lower";
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--no-fuse"))
            r.no_fuse = 1;
        else if (a[0] != '-' && strchr(a, '='))
            r.overrides[r.n_overrides++] = argv[i];
        else if (a[0] != '-' && !r.model_path)
            r.model_path = a;
        else if (a[0] != '-')
            bad = cli_usage_error(verb, "unexpected argument '%s' (one model file)", a);
        else if (strcmp(a, "--precision"))
            bad = cli_usage_error(verb, "unknown option '%s'", a);
        else if (!(v = cli_value(verb, argc, argv, &i)))
            bad = 2;
        else {
            r.precision = !strcmp(v, "float32") ? 32
                          : !strcmp(v, "int16") ? 16
                          : !strcmp(v, "int8")  ? 8
                                                : 0;
            if (!r.precision)
                bad = cli_usage_error(verb, "--precision '%s': expected float32, int16 or int8", v);
        }
    }
    if (!bad && !r.model_path) bad = cli_usage_error(verb, "name a model file (MODEL.h5)");
    if (bad) {
        free(r.overrides);
        return 2;
    }
    mf_error err;
    mf_error_clear(&err);
    mf_deploy_inputs in;
    mf_model *folded = NULL;
    mf_program p;
    memset(&p, 0, sizeof p);
    int rc = 1;
    if (mf_pipeline_deploy_inputs(&r, NULL, &in, &err)) {
        free(r.overrides);
        return cli_fail(&err);
    }
    if (!in.q && !(folded = mf_fold_model(in.model, &err))) goto done;
    mf_lower_options o = {.fuse_pools = !r.no_fuse, .keep_all = 0, .align = 8};
    if (mf_lower_program(in.q, folded, &o, &p, &err)) goto done;
    mf_program_print(&p, stdout);
    rc = 0;
done:
    if (rc) cli_fail(&err);
    mf_program_free(&p);
    mf_model_free(folded);
    mf_deploy_inputs_free(&in);
    free(r.overrides);
    return rc;
}
