#include "progress.h"

#include <unistd.h>

void mf_progress_init(mf_progress *p, FILE *out, mf_progress_kind kind, int epochs, int samples)
{
    p->out = out;
    p->quiet = kind == MF_PROGRESS_NONE || out == NULL;
    p->bar =
        !p->quiet && (kind == MF_PROGRESS_BAR || (kind == MF_PROGRESS_AUTO && isatty(fileno(out))));
    p->epochs = epochs;
    p->samples = samples;
    p->last_draw = -1.0;
    p->eval_split = "test";
}

void mf_progress_batch(mf_progress *p, int epoch, int done, double loss, double acc, double seconds)
{
    if (!p->bar) return;
    if (done < p->samples && seconds - p->last_draw < 0.1) return;
    p->last_draw = seconds;
    const int width = 30;
    int filled = (int)((long)width * done / (p->samples ? p->samples : 1));
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[width] = '\0';
    double rate = seconds > 0 ? done / seconds : 0.0;
    double eta = rate > 0 ? (p->samples - done) / rate : 0.0;
    fprintf(p->out, "\r\033[Kepoch %d/%d [%s] %3d%% %.0f samples/s ETA %d:%02d loss %.4f acc %.4f",
            epoch + 1, p->epochs, bar, (int)(100L * done / (p->samples ? p->samples : 1)), rate,
            (int)eta / 60, (int)eta % 60, loss, acc);
    fflush(p->out);
}

void mf_progress_epoch(mf_progress *p, int epoch, const mf_epoch_stats *st)
{
    if (p->quiet) return;
    if (p->bar) fprintf(p->out, "\r\033[K");
    fprintf(p->out,
            "epoch %d/%d loss=%.4f acc=%.4f %s_loss=%.4f %s_acc=%.4f lr=%.4g time=%.1fs "
            "samples/s=%.0f\n",
            epoch + 1, p->epochs, st->loss, st->accuracy, p->eval_split, st->test_loss,
            p->eval_split, st->test_accuracy, st->lr, st->seconds, st->samples_per_s);
    fflush(p->out);
}

void mf_progress_finish(mf_progress *p)
{
    if (p->out) fflush(p->out);
}
