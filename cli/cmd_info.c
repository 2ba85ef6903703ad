/* mcuforge info MODEL.h5: the layers of a model file with their shapes, parameters and MACs. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mf_compress.h"
#include "mf_h5.h"
#include "mf_quantize.h"
#include "mf_runtime.h"
#include "mf_core.h"
#include "mf_model_io.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mcuforge info MODEL.h5\n\n"
               "Prints the model file's format version and provenance, then one row per layer\n"
               "(index, name, type, inputs, output shape, parameters, MACs) and the totals:\n"
               "parameters, multiply-accumulates per inference, and parameter bytes as\n"
               "float32, int16 and int8.\n");
}

/* Provenance read straight from the root attributes (the model loader validated the file
 * already); "unknown" where an attribute is absent or unreadable. */
typedef struct provenance {
    long long format_version;
    char version[64];
    char git[128];
} provenance;

/* One root attribute through the shared HDF5 reader; "unknown" (or −1) when it is absent or
 * unreadable: provenance is informative, the loader has validated the file already. */
static void read_provenance(const char *path, provenance *p)
{
    p->format_version = -1;
    snprintf(p->version, sizeof p->version, "unknown");
    snprintf(p->git, sizeof p->git, "unknown");
    mf_error err;
    mf_error_clear(&err);
    mf_h5 h;
    if (mf_h5_open(&h, path, 0, NULL, &err)) {
        mf_h5_close(&h, MF_ERR);
        return;
    }
    int v = 0;
    if (mf_h5_attr_exists(&h, h.file, "/", "mcuforge_format_version") > 0 &&
        mf_h5_attr_read_int(&h, h.file, "/", "mcuforge_format_version", INT_MIN, INT_MAX, &v) ==
            MF_OK)
        p->format_version = v;
    if (mf_h5_attr_exists(&h, h.file, "/", "mcuforge_version") > 0 &&
        mf_h5_attr_read_str(&h, h.file, "/", "mcuforge_version", p->version, sizeof p->version))
        snprintf(p->version, sizeof p->version, "unknown");
    if (mf_h5_attr_exists(&h, h.file, "/", "git_describe") > 0 &&
        mf_h5_attr_read_str(&h, h.file, "/", "git_describe", p->git, sizeof p->git))
        snprintf(p->git, sizeof p->git, "unknown");
    mf_h5_close(&h, MF_OK);
}

static const char *node_name(const mf_model *m, int i)
{
    return m->nodes[i].spec.name;
}

/* "a,b" (node 0 is "input"). */
static const char *inputs_str(const mf_model *m, int i, char *buf, size_t size)
{
    const mf_node *nd = &m->nodes[i];
    size_t used = 0;
    buf[0] = '\0';
    if (i == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    for (int k = 0; k < nd->n_inputs && used < size; k++) {
        int w =
            snprintf(buf + used, size - used, "%s%s", k ? "," : "", node_name(m, nd->inputs[k]));
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static void print_model(const char *path, const mf_model *m, const provenance *p)
{
    char shape[64], ins[MF_MAX_INPUTS * MF_NAME_MAX + 8];
    int w_name = 5, w_type = 4, w_in = 6, w_shape = 6;
    for (int i = 0; i < m->n_nodes; i++) {
        w_name = max_int(w_name, (int)strlen(node_name(m, i)));
        w_type = max_int(w_type, (int)strlen(mf_op_get(m->nodes[i].spec.op)->name));
        w_in = max_int(w_in, (int)strlen(inputs_str(m, i, ins, sizeof ins)));
        w_shape = max_int(w_shape,
                          (int)strlen(mf_shape_str(&m->nodes[i].out_shape, shape, sizeof shape)));
    }

    printf("model:    %s\n", path);
    printf("format:   mcuforge_format_version %lld\n", p->format_version);
    printf("written:  mcuforge %s (git %s)\n", p->version, p->git);
    printf("config:   %s\n", m->config_text ? "embedded (attribute 'config')" : "none");
    printf("input:    %s\n", mf_shape_str(&m->input_shape, shape, sizeof shape));
    printf("output:   %s (%s)\n\n", node_name(m, m->output),
           mf_shape_str(&m->nodes[m->output].out_shape, shape, sizeof shape));

    printf("%5s  %-*s  %-*s  %-*s  %-*s  %12s  %14s\n", "index", w_name, "layer", w_type, "type",
           w_in, "inputs", w_shape, "output", "params", "MACs");
    size_t total_params = 0, total_state = 0;
    uint64_t total_macs = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const mf_node *nd = &m->nodes[i];
        uint64_t macs = i ? mf_node_macs(m, i) : 0;
        size_t params = i ? nd->n_params + nd->n_state : 0;
        char index[16];
        if (i)
            snprintf(index, sizeof index, "%d", i - 1);
        else
            snprintf(index, sizeof index, "-");
        printf("%5s  %-*s  %-*s  %-*s  %-*s  %12zu  %14llu\n", index, w_name, node_name(m, i),
               w_type, mf_op_get(nd->spec.op)->name, w_in, inputs_str(m, i, ins, sizeof ins),
               w_shape, mf_shape_str(&nd->out_shape, shape, sizeof shape), params,
               (unsigned long long)macs);
        if (i) {
            total_params += nd->n_params;
            total_state += nd->n_state;
            total_macs += macs;
        }
    }
    size_t all = total_params + total_state;
    printf("\ntotal parameters: %zu (%zu trainable, %zu non-trainable state)\n", all, total_params,
           total_state);
    printf("total MACs:       %llu per inference\n", (unsigned long long)total_macs);
    printf("parameter bytes:  float32 %zu, int16 %zu, int8 %zu\n", all * 4, all * 2, all);
}

static void print_extras(const mf_model *m)
{
    static const char *const kinds[] = {"none", "z-score per element", "z-score per channel"};
    if (m->dataset[0]) printf("dataset:          %s\n", m->dataset);
    printf("input transform:  %s", kinds[m->pre.kind]);
    if (m->pre.kind) printf(" (%zu mean/std pairs)", m->pre.n);
    printf("\n");
    if (m->n_class_names) {
        printf("classes:          ");
        for (int c = 0; c < m->n_class_names; c++)
            printf("%s%s", c ? ", " : "", m->class_names[c]);
        printf("\n");
    }
}

static void print_quantized(const mf_qmodel *q)
{
    const mf_model *m = q->model;
    printf("\nquantized: int%d, rounding %s, %s weight formats, input Q%d.%d\n", q->bits,
           q->rounding == MF_RT_ROUND_FLOOR ? "floor" : "half-up",
           q->per_channel ? "per-channel" : "per-tensor", q->bits - 1 - q->n_in, q->n_in);
    if (q->range_method)
        printf("calibration: %s ranges on %d training samples\n",
               q->range_method == 2 ? "MSE" : "max", q->calibration_samples);
    else
        printf("calibration: not recorded (a file written before mcuforge recorded it)\n");
    printf("  %-16s %10s %10s\n", "layer", "output", "weights");
    for (int k = 1; k < m->n_nodes; k++) {
        int i = m->order[k];
        const mf_qnode *qn = &q->nodes[i];
        char w[16] = "-";
        if (qn->w && !qn->n_w_ch) snprintf(w, sizeof w, "Q%d.%d", q->bits - 1 - qn->n_w, qn->n_w);
        if (qn->n_w_ch) snprintf(w, sizeof w, "per-channel");
        printf("  %-16s %6sQ%d.%d %10s\n", m->nodes[i].spec.name, "", q->bits - 1 - qn->n_out,
               qn->n_out, w);
    }
}

int cmd_info(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("info", "unknown option '%s'", argv[i]);
        if (path)
            return cli_usage_error("info", "expected one model file, got '%s' and '%s'", path,
                                   argv[i]);
        path = argv[i];
    }
    if (!path) return cli_usage_error("info", "name a model file (MODEL.h5)");
    mf_error err;
    mf_error_clear(&err);
    mf_model *m = mf_model_load(path, &err);
    if (!m) return cli_fail(&err);
    provenance p;
    read_provenance(path, &p);
    print_model(path, m, &p);
    print_extras(m);
    if (m->mask) { /* a pruned model (format version 2 masks) */
        printf("\npruned (kernel_mask):\n");
        mf_prune_print(m, stdout);
    }
    mf_model_free(m);
    int is_float = 0;
    mf_qmodel *q = mf_qmodel_load(path, &is_float, &err);
    if (!q && !is_float) return cli_fail(&err);
    if (q) print_quantized(q);
    mf_qmodel_free(q);
    return 0;
}
