/* Image resizing shared by the MNIST and PNG-folder loaders. */
#ifndef MF_RESIZE_H
#define MF_RESIZE_H

/* Bilinear, half-pixel centres (align corners false), edges clamped; channels-last float images;
 * a constant image stays exactly constant. */
void mf_resize_bilinear(const float *in, int ih, int iw, int ch, float *out, int oh, int ow);

#endif
