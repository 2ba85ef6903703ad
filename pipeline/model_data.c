/* What quantize and prune start from: a float model file, the dataset its embedded config
 * names (overrides applied), normalised with the model's stored statistics. */
#include <stdio.h>

#include "mf_model_io.h"
#include "mf_pipeline.h"
#include "mf_train.h"

int mf_pipeline_model_data(const char *model_path, char *const *overrides, int n_overrides,
                           FILE *log, mf_model **model, mf_config **cfg, mf_dataset **data,
                           mf_error *err)
{
    *model = NULL, *cfg = NULL, *data = NULL;
    *model = mf_model_load(model_path, err);
    if (!*model) return MF_ERR;
    if (!(*model)->config_text) {
        mf_error_set(err, "%s has no embedded config: cannot find its dataset", model_path);
        goto fail;
    }
    char origin[4200];
    snprintf(origin, sizeof origin, "%s (embedded config)", model_path);
    if (mf_config_load_text((*model)->config_text, origin, overrides, n_overrides,
                            MF_CONFIG_DATASET_ONLY, cfg, err) ||
        mf_dataset_load(&(*cfg)->dataset, log ? stderr : NULL, data, err))
        goto fail;
    /* an override (or an edited config) may describe samples the model cannot take: the
     * callers read each sample at the model's input size, past the end of the dataset's buffer */
    if (!mf_shape_equal(&(*data)->shape, &(*model)->input_shape) ||
        (int)mf_model_output_size(*model) != (*data)->classes) {
        char a[64], b[64];
        mf_error_set(err, "%s takes %s and predicts %zu classes; dataset %s has %s and %d classes",
                     model_path, mf_shape_str(&(*model)->input_shape, a, sizeof a),
                     mf_model_output_size(*model), (*data)->name,
                     mf_shape_str(&(*data)->shape, b, sizeof b), (*data)->classes);
        goto fail;
    }
    mf_dataset_apply_model(*model, *data);
    return MF_OK;
fail:
    mf_dataset_free(*data);
    mf_config_free(*cfg);
    mf_model_free(*model);
    *model = NULL, *cfg = NULL, *data = NULL;
    return MF_ERR;
}
