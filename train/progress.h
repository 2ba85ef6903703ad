/* Training progress: a bar redrawn in place on a terminal (samples/s, ETA), one plain line per
 * epoch otherwise (logs, CI). */
#ifndef MF_PROGRESS_H
#define MF_PROGRESS_H

#include <stdio.h>

#include "mf_train.h"

typedef struct mf_progress {
    FILE *out;
    int bar; /* redraw a bar during the epoch */
    int quiet;
    int epochs, samples;
    double last_draw;
    const char *eval_split; /* "test" or "val" */
} mf_progress;

void mf_progress_init(mf_progress *p, FILE *out, mf_progress_kind kind, int epochs, int samples);
void mf_progress_batch(mf_progress *p, int epoch, int done, double loss, double acc,
                       double seconds);
void mf_progress_epoch(mf_progress *p, int epoch, const mf_epoch_stats *st);
void mf_progress_finish(mf_progress *p);

#endif
