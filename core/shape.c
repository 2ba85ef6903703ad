#include <stdio.h>

#include "mf_core.h"

size_t mf_shape_size(const mf_shape *s)
{
    size_t n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= (size_t)s->dim[i];
    return n;
}

int mf_shape_equal(const mf_shape *a, const mf_shape *b)
{
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dim[i] != b->dim[i]) return 0;
    return 1;
}

const char *mf_shape_str(const mf_shape *s, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->rank && used < size; i++) {
        int w = snprintf(buf + used, size - used, i ? "x%d" : "%d", s->dim[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (s->rank == 0) snprintf(buf, size, "scalar");
    return buf;
}

size_t mf_param_cout(const mf_param_desc *d)
{
    int k = d->cout_dims > 0 ? d->cout_dims : 1;
    size_t n = 1;
    for (int i = d->shape.rank - k; i < d->shape.rank; i++)
        n *= i >= 0 ? (size_t)d->shape.dim[i] : 1;
    return n;
}
