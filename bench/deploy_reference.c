/* deploy_reference [OUT_DIR] — the reference 1D CNN of TARGET.md §8.1 through the normal deploy
 * path (mf_deploy_generate + mf_deploy_run) for float32, int16 and int8, measured in QEMU
 * (netduinoplus2, -icount shift=0): one line per precision, then the anchor figures of
 * TARGET.md §8–9 for comparison.
 *
 * Model: input 128×9 → conv1d 9→16 k3 same + ReLU → maxpool 2 → conv1d 16→16 k3 same + ReLU →
 * maxpool 2 → conv1d 16→32 k3 same + ReLU → global average pool → dense 32→6 (153,792 MACs).
 * Deterministic pseudo-random parameters as in TARGET.md: weights w/64 with w in [−64, 63],
 * biases b/4096, inputs x/128 with x in [−128, 127]. int16/int8 are quantized by mcuforge's own
 * scheme (PTQ: per-tensor power-of-two formats from ranges calibrated on 256 such inputs,
 * half-up rounding), not by TARGET.md's hand-picked shifts, so outputs differ from its logits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mf_deploy.h"
#include "mf_quantize.h"
#include "mf_runtime.h"

#define N_CAL     256
#define N_VECTORS 10

static int add(mf_model *m, mf_op op, const char *name, int filters, int kernel, int relu,
               mf_error *err)
{
    mf_layer_spec s;
    mf_layer_spec_init(&s, op, name);
    s.filters = filters;
    s.kernel = kernel;
    if (op == MF_OP_CONV1D) s.padding = MF_PAD_SAME;
    s.activation = relu ? MF_ACT_RELU : MF_ACT_NONE;
    return mf_model_add(m, &s, err);
}

static mf_model *reference_cnn(mf_error *err)
{
    mf_shape in = {2, {128, 9}};
    mf_model *m = mf_model_new(&in, err);
    if (!m) return NULL;
    if (add(m, MF_OP_CONV1D, "conv1", 16, 3, 1, err) ||
        add(m, MF_OP_MAXPOOL1D, "pool1", 0, 2, 0, err) ||
        add(m, MF_OP_CONV1D, "conv2", 16, 3, 1, err) ||
        add(m, MF_OP_MAXPOOL1D, "pool2", 0, 2, 0, err) ||
        add(m, MF_OP_CONV1D, "conv3", 32, 3, 1, err) ||
        add(m, MF_OP_GLOBAL_AVGPOOL, "gap", 0, 0, 0, err) ||
        add(m, MF_OP_FLATTEN, "flatten", 0, 0, 0, err) ||
        add(m, MF_OP_DENSE, "dense", 6, 0, 0, err) || mf_model_finalize(m, err)) {
        mf_model_free(m);
        return NULL;
    }
    /* deterministic parameters: kernels w/64, biases b/4096 */
    mf_rng r;
    mf_rng_seed(&r, 2024);
    for (int i = 1; i < m->n_nodes; i++) {
        mf_param_desc d[4];
        int np = mf_node_params(m, i, d);
        for (int k = 0; k < np; k++) {
            float *p = m->params + m->nodes[i].param_offset + d[k].offset;
            size_t n = mf_shape_size(&d[k].shape);
            int is_bias = !strcmp(d[k].name, "bias");
            for (size_t e = 0; e < n; e++)
                p[e] = is_bias ? (float)((int)mf_rng_below(&r, 1024) - 512) / 4096.0f
                               : (float)((int)mf_rng_below(&r, 128) - 64) / 64.0f;
        }
    }
    return m;
}

int main(int argc, char **argv)
{
    /* deploy_reference [OUT_DIR] [OPT_FLAGS]: OPT_FLAGS replaces the default optimisation
     * flags, to compare size/speed trade-offs on the same model */
    const char *out = argc > 1 ? argv[1] : "deploy_reference";
    const char *opt = argc > 2 ? argv[2] : MF_DEPLOY_DEFAULT_OPT;
    mf_error err;
    mf_error_clear(&err);
    const char *missing = mf_deploy_missing_tool();
    if (missing) {
        fprintf(stderr,
                "deploy_reference: %s is not installed; bash tools/setup.sh installs the "
                "firmware toolchain and qemu-system-arm\n",
                missing);
        return 1;
    }
    mf_model *m = reference_cnn(&err);
    if (!m) {
        fprintf(stderr, "deploy_reference: %s\n", err.message);
        return 1;
    }
    size_t in = mf_model_input_size(m);
    float *x = malloc(sizeof(float) * in * N_CAL);
    mf_rng r;
    mf_rng_seed(&r, 7);
    for (size_t i = 0; i < in * N_CAL; i++)
        x[i] = (float)((int)mf_rng_below(&r, 256) - 128) / 128.0f;
    mkdir(out, 0777);
    int rc = 0;
    printf("reference 1D CNN (TARGET.md §8.1): %llu MACs, %zu parameters; QEMU netduinoplus2 "
           "(Cortex-M4F), -icount shift=0,sleep=off; flags: -mcpu=cortex-m4 -mthumb "
           "-mfloat-abi=hard -mfpu=fpv4-sp-d16 %s -ffp-contract=off -fno-fast-math "
           "-ffunction-sections -fdata-sections -Wl,--gc-sections --specs=nano.specs "
           "(arm-none-eabi-gcc 12.2)\n",
           (unsigned long long)mf_model_macs(m), m->n_params, opt);
    static const int precisions[3] = {32, 16, 8};
    for (int k = 0; k < 3 && !rc; k++) {
        int bits = precisions[k];
        mf_qmodel *q = NULL;
        if (bits != 32) {
            /* the pipeline's one PTQ policy: all N_CAL samples, max ranges, half-up */
            mf_ptq_options po = {{bits, MF_RT_ROUND_HALF_UP, 0, -1}, 0, 0, 2};
            q = mf_ptq(m, x, N_CAL, &po, &err);
            if (!q) {
                fprintf(stderr, "deploy_reference: %s\n", err.message);
                rc = 1;
                break;
            }
        }
        char dir[4200];
        const char *name = bits == 32 ? "float32" : bits == 16 ? "int16" : "int8";
        snprintf(dir, sizeof dir, "%s/%s", out, name);
        mf_deploy_options o = {0};
        o.out_dir = dir;
        o.opt = opt;
        o.vectors = x;
        o.n_vectors = N_VECTORS;
        o.stream = 1;
        mf_deploy_report rep;
        mf_deploy_run_options ro = {120, 2, NULL};
        if (mf_deploy_generate(q, bits == 32 ? m : NULL, &o, NULL, &err) ||
            mf_deploy_run(dir, &ro, &rep, &err)) {
            fprintf(stderr, "deploy_reference (%s): %s\n", name, err.message);
            mf_qmodel_free(q);
            rc = 1;
            break;
        }
        printf("precision=%s instructions=%.0f (min %u, max %u) macs=%llu macs_per_instr=%.3f "
               "instr_per_mac=%.2f flash=%zu ram=%zu (arena %zu + stack %zu + other %zu) "
               "bit_exact=%d/%d\n",
               name, rep.instr_mean, rep.instr_min, rep.instr_max, (unsigned long long)rep.macs,
               rep.macs_per_instr, rep.instr_mean / (double)rep.macs, rep.flash_model,
               rep.ram_arena + rep.ram_stack_peak + rep.ram_model_other, rep.ram_arena,
               rep.ram_stack_peak, rep.ram_model_other, rep.bit_exact, rep.n_vectors);
        printf("  per layer:");
        for (int l = 0; l < rep.n_layers; l++)
            printf(" %s=%.0f", rep.layers[l].name, rep.layers[l].instructions);
        printf("\n  flash split: kernels %zu, weights %zu, model code %zu (report: %s/report.json)"
               "\n",
               rep.rom_kernels, rep.rom_weights, rep.rom_model_code, dir);
        if (rep.bit_exact != rep.n_vectors) rc = 1;
        mf_deploy_report_free(&rep);
        mf_qmodel_free(q);
    }
    printf("anchors (TARGET.md §8.2, §9.1; instructions per inference, same machine and "
           "counting):\n"
           "  int8    CMSIS-NN s8 -O2        571,305  (flash 18,036 B)\n"
           "  int8    MicroAI -Ofast          577,565  (flash 6,398 B)\n"
           "  int8    plain C -O3             590,088  (flash 5,004 B)\n"
           "  int8    plain C -O2           1,016,508  (flash 3,788 B)\n"
           "  int16   MicroAI -Ofast          552,381  (flash 9,218 B)\n"
           "  float32 MicroAI -Ofast          518,878  (flash 15,062 B)\n"
           "  float32 plain C -O2           1,062,545  (flash 12,544 B)\n"
           "targets: int8 <= 400,000 with flash <= 6 KB; float32 and int16 <= 450,000\n");
    free(x);
    mf_model_free(m);
    return rc;
}
