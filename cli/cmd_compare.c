/* mcuforge compare MODEL.h5 [--target] [--samples N] [--split test|val|train] [--out DIR]
 *                  [--precision P] [--timeout S] [--no-fuse] [key.sub=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_compare.h"

static void compare_usage(FILE *f)
{
    fprintf(f,
            "usage: mcuforge compare MODEL.h5 [--target] [--samples N] [--split test|val|train]\n"
            "                        [--out DIR] [--precision float32|int16|int8] [--timeout S]\n"
            "                        [--no-fuse] [key.sub=value ...]\n\n"
            "Layer by layer (every kernel call of the lowered program deploy generates), on N\n"
            "samples (default 5) of the split (default test): the SQNR (dB) of the host's integer\n"
            "program against the float model (the folded model run by the training engine); with\n"
            "--target also the firmware (firmware_dump.elf, every call's output sent through\n"
            "semihosting) run in QEMU: the share of values identical host vs target, the largest\n"
            "|difference| (integer units; float32: absolute) and the first layer where they\n"
            "differ. Writes DIR/compare.csv and DIR/compare.png (default DIR: compare; the\n"
            "firmware project in DIR/firmware).\n\n"
            "MODEL.h5 is a quantized model (its precision) or a float model with --precision,\n"
            "quantized as deploy does (PTQ defaults, its embedded config's dataset).\n");
}

int cmd_compare(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        compare_usage(stdout);
        return 0;
    }
    static const char verb[] = "compare";
    mf_compare_request r;
    memset(&r, 0, sizeof r);
    r.n_samples = 5;
    r.out_dir = "compare";
    r.deploy.threads = 2;
    r.deploy.timeout_s = 120;
    r.deploy.ptq = (mf_ptq_options){{0, MF_RT_ROUND_HALF_UP, 0, -1}, 0, 0, 2};
    r.deploy.overrides = calloc((size_t)argc, sizeof *r.deploy.overrides);
    if (!r.deploy.overrides) return 1;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--target"))
            r.target = 1;
        else if (!strcmp(a, "--no-fuse"))
            r.deploy.no_fuse = 1;
        else if (a[0] != '-' && strchr(a, '='))
            r.deploy.overrides[r.deploy.n_overrides++] = argv[i];
        else if (a[0] != '-' && !r.deploy.model_path)
            r.deploy.model_path = a;
        else if (a[0] != '-')
            bad = cli_usage_error(verb, "unexpected argument '%s' (one model file)", a);
        else if (strcmp(a, "--samples") && strcmp(a, "--split") && strcmp(a, "--out") &&
                 strcmp(a, "--precision") && strcmp(a, "--timeout"))
            bad = cli_usage_error(verb, "unknown option '%s'", a);
        else if (!(v = cli_value(verb, argc, argv, &i)))
            bad = 2;
        else if (!strcmp(a, "--samples"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_SAMPLES, &r.n_samples);
        else if (!strcmp(a, "--timeout"))
            bad = cli_parse_int(verb, a, v, 1, CLI_MAX_TIMEOUT, &r.deploy.timeout_s);
        else if (!strcmp(a, "--out"))
            r.out_dir = v;
        else if (!strcmp(a, "--split")) {
            if (strcmp(v, "test") && strcmp(v, "val") && strcmp(v, "train"))
                bad = cli_usage_error(verb, "--split '%s': expected test, val or train", v);
            r.split = v;
        } else {
            r.deploy.precision = !strcmp(v, "float32") ? 32
                                 : !strcmp(v, "int16") ? 16
                                 : !strcmp(v, "int8")  ? 8
                                                       : 0;
            if (!r.deploy.precision)
                bad = cli_usage_error(verb, "--precision '%s': expected float32, int16 or int8", v);
        }
    }
    if (!bad && !r.deploy.model_path) bad = cli_usage_error(verb, "name a model file (MODEL.h5)");
    if (!bad && !*r.out_dir) bad = cli_usage_error(verb, "--out '': expected a folder");
    if (bad) {
        free(r.deploy.overrides);
        return 2;
    }
    mf_error err;
    mf_error_clear(&err);
    int rc = mf_pipeline_compare(&r, stdout, &err) ? cli_fail(&err) : 0;
    free(r.deploy.overrides);
    return rc;
}
