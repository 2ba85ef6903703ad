/* Model files (DESIGN.md §3): one HDF5 file per model. Root attributes carry
 * mcuforge_format_version, the graph (layer names, types, hyperparameters, inputs) and
 * provenance; one group per layer holds its named datasets in Keras layout (§13). */
#ifndef MF_MODEL_IO_H
#define MF_MODEL_IO_H

#include "mf_core.h"

struct mf_h5;

/* Atomic (mf_file_write_atomic): "<path>.tmp.<host>.<pid>" in the same folder, flushed, then
 * renamed over path; a failure leaves no temporary file and an existing path as it was. */
int mf_model_save(const mf_model *m, const char *path, mf_error *err);
/* Writes the model into the open, empty HDF5 file h (mf_h5_create), for files that add to the
 * model file's content (quantized models); errors name h->name. */
int mf_model_write_h5(const mf_model *m, struct mf_h5 *h);
/* Validates version, graph, dataset types, ranks and sizes before use; errors name the file
 * and the layer/dataset. */
mf_model *mf_model_load(const char *path, mf_error *err);

#endif
