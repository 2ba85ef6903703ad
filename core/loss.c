#include <math.h>

#include "mf_core.h"

double mf_softmax_xent(const float *logits, int n, int k, const int *labels_a, const int *labels_b,
                       float lambda, int scale_n, float *dlogits, int *correct)
{
    double loss = 0.0;
    int hits = 0;
    const double inv = 1.0 / (double)scale_n;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > z[best]) best = j;
        if (best == labels_a[i]) hits++;
        /* log-sum-exp in double around the max for stability */
        double zmax = z[best], sum = 0.0;
        for (int j = 0; j < k; j++)
            sum += exp((double)z[j] - zmax);
        double lse = zmax + log(sum);
        double la = lse - z[labels_a[i]];
        double lb = labels_b ? lse - z[labels_b[i]] : 0.0;
        loss += labels_b ? lambda * la + (1.0 - lambda) * lb : la;
        if (dlogits) {
            float *d = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++) {
                double p = exp((double)z[j] - lse);
                double t = labels_b
                               ? lambda * (j == labels_a[i]) + (1.0 - lambda) * (j == labels_b[i])
                               : (double)(j == labels_a[i]);
                d[j] = (float)((p - t) * inv);
            }
        }
    }
    if (correct) *correct = hits;
    return loss;
}
