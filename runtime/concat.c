/* Concatenation along the channels (DESIGN.md §13), portable C on every platform (a copy; the
 * integer forms requantize the inputs whose format differs from the output's, value by value,
 * with mf_rt_requant_s32/_s64 and no ReLU). */
#include "mf_runtime.h"

static int total(const mf_rt_concat *p)
{
    int t = 0;
    for (int i = 0; i < p->k && i < 4; i++)
        t += p->channels[i];
    return t;
}

void mf_rt_concat_f32(int positions, const mf_rt_concat *p, const float *a, const float *b,
                      const float *c, const float *d, float *out)
{
    const float *in[4] = {a, b, c, d};
    const int cout = total(p);
    for (int i = 0, at = 0; i < p->k && i < 4; at += p->channels[i], i++) {
        const size_t ci = (size_t)p->channels[i];
        for (int q = 0; q < positions; q++) {
            const float *x = in[i] + (size_t)q * ci;
            float *y = out + (size_t)q * cout + at;
            for (size_t k = 0; k < ci; k++)
                y[k] = x[k];
        }
    }
}

void mf_rt_concat_s16(int positions, const mf_rt_concat *p, const int16_t *a, const int16_t *b,
                      const int16_t *c, const int16_t *d, int16_t *out)
{
    const int16_t *in[4] = {a, b, c, d};
    const int cout = total(p);
    for (int i = 0, at = 0; i < p->k && i < 4; at += p->channels[i], i++) {
        const int ci = p->channels[i], s = p->shift[i];
        for (int q = 0; q < positions; q++) {
            const int16_t *x = in[i] + (size_t)q * ci;
            int16_t *y = out + (size_t)q * cout + at;
            for (int k = 0; k < ci; k++)
                y[k] = s == 0 ? x[k] : mf_rt_requant_s64(x[k], s, 0, p->rounding);
        }
    }
}

void mf_rt_concat_s8(int positions, const mf_rt_concat *p, const int8_t *a, const int8_t *b,
                     const int8_t *c, const int8_t *d, int8_t *out)
{
    const int8_t *in[4] = {a, b, c, d};
    const int cout = total(p);
    for (int i = 0, at = 0; i < p->k && i < 4; at += p->channels[i], i++) {
        const int ci = p->channels[i], s = p->shift[i];
        for (int q = 0; q < positions; q++) {
            const int8_t *x = in[i] + (size_t)q * ci;
            int8_t *y = out + (size_t)q * cout + at;
            for (int k = 0; k < ci; k++)
                y[k] = s == 0 ? x[k] : mf_rt_requant_s32(x[k], s, 0, p->rounding);
        }
    }
}
