/* Model files (DESIGN.md §3): one HDF5 file per model. Root attributes carry
 * mcuforge_format_version, the graph (layer names, types, hyperparameters, inputs) and
 * provenance; one group per layer holds its named datasets in Keras layout (§13). */
#ifndef MF_MODEL_IO_H
#define MF_MODEL_IO_H

#include "mf_core.h"

/* Atomic: writes "<path>.tmp.<pid>" in the same folder, then renames it over path. */
int mf_model_save(const mf_model *m, const char *path, mf_error *err);
/* Validates version, graph, dataset types, ranks and sizes before use; errors name the file
 * and the layer/dataset. */
mf_model *mf_model_load(const char *path, mf_error *err);

#endif
