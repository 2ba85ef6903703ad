#include <math.h>
#include <stddef.h>

#include "resize.h"

/* Bilinear resize, half-pixel centres (align corners false), edges clamped; written as
 * a + f·(b − a) so a constant image stays exactly constant. */
void mf_resize_bilinear(const float *in, int ih, int iw, int ch, float *out, int oh, int ow)
{
    for (int oy = 0; oy < oh; oy++) {
        double sy = (oy + 0.5) * ih / oh - 0.5;
        if (sy < 0) sy = 0;
        int y0 = (int)floor(sy);
        if (y0 > ih - 1) y0 = ih - 1;
        int y1 = y0 + 1 < ih ? y0 + 1 : ih - 1;
        float fy = (float)(sy - y0);
        for (int ox = 0; ox < ow; ox++) {
            double sx = (ox + 0.5) * iw / ow - 0.5;
            if (sx < 0) sx = 0;
            int x0 = (int)floor(sx);
            if (x0 > iw - 1) x0 = iw - 1;
            int x1 = x0 + 1 < iw ? x0 + 1 : iw - 1;
            float fx = (float)(sx - x0);
            for (int c = 0; c < ch; c++) {
                float a = in[((size_t)y0 * iw + x0) * ch + c];
                float b = in[((size_t)y0 * iw + x1) * ch + c];
                float p = in[((size_t)y1 * iw + x0) * ch + c];
                float q = in[((size_t)y1 * iw + x1) * ch + c];
                float top = a + fx * (b - a);
                float bot = p + fx * (q - p);
                out[((size_t)oy * ow + ox) * ch + c] = top + fy * (bot - top);
            }
        }
    }
}
