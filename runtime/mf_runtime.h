/* mcuforge runtime kernels: inference for float32, int16 and int8, freestanding C11 (stdint.h,
 * stddef.h, string.h only; no allocation, no globals). The host evaluates quantized and float
 * models with these very files and the firmware compiles copies of them, so outputs agree bit
 * for bit (DESIGN.md §6, §13).
 *
 * Layouts: activations channels-last, 1D [L][C] is 2D with h = 1; weights [cout][kh][kw][cin]
 * for convolutions, [out][in] for dense.
 *
 * Fixed point (DESIGN.md §13): a value x is stored as q with x ≈ q·2^(−n). A layer's
 * accumulator has n_acc = n_in + n_w (int32 for int8, int64 for int16); biases are stored at
 * n_acc. Requantization to n_out: s = n_acc − n_out; s > 0 → arithmetic right shift with the
 * rounding mode (floor: acc >> s; half-up: (acc + (1 << (s − 1))) >> s); s < 0 → saturating left
 * shift; then saturate to the output type; a fused ReLU clamps at 0 afterwards, a fused ReLU6
 * (the *_relu6 kernels) also at saturate(lround(6·2^n_out)), the output value nearest to 6.
 * These are exact integer functions of (acc, s) for every int s: the half-up sum is formed
 * without overflow, s ≥ the accumulator width gives −1/0 (floor) or 0 (half-up), a left shift
 * that leaves the output range saturates (also s ≤ −width); no UB, no implementation-defined
 * shifts (requant.c). A rounding value other than MF_RT_ROUND_HALF_UP means floor.
 *
 * Preconditions the quantizer/code generator guarantees (not checked here): the accumulator does
 * not overflow (int8: kh·kw·cin·2^14 + |bias| < 2^31 is enough); average-pool windows and global
 * pools cover < 65536 positions; add alignments lie in [0, 23] (int8) or [0, 47] (int16).
 * Aliasing: `out` may equal an input only for relu, rescale and add (element-wise); conv,
 * dense and pools need separate buffers, except that the int8 1D convs (mf_rt_conv1d_s8,
 * mf_rt_conv1d_maxpool_s8, and on the host the references behind them) may write over their
 * input within mf_rt_conv1d_s8_lag, and the register-field kernels (mf_rt_conv_field<P>_s8,
 * _maxpool_s8, their ReLU6 forms) within mf_rt_conv_field_s8_lag.
 *
 * Float kernels accumulate in float in a fixed order (bias or 0 first, then ky, kx, cin
 * ascending; pools: taps in (ky, kx) order, then sum / (float)count), one rounding per
 * operation (-ffp-contract=off), so host and firmware agree bit for bit. Float ReLU is
 * v < 0 ? 0 : v (−0.0f and NaN pass unchanged); float ReLU6 is that ReLU, then v > 6 ? 6 : v. */
#ifndef MF_RUNTIME_H
#define MF_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

enum { MF_RT_ROUND_FLOOR = 0, MF_RT_ROUND_HALF_UP = 1 };

/* Window geometry of a conv or pool; 1D: h = oh = kh = sh = 1, pad_top = 0. Output (oy, ox)
 * reads input rows iy = oy·sh − pad_top + ky and columns ix = ox·sw − pad_left + kx; taps outside
 * the input are zero padding (conv; "same" puts the remaining padding after the last row/column
 * implicitly) or skipped (pools, which also divide by the number of taps inside). */
typedef struct mf_rt_geom {
    int h, w, cin;
    int oh, ow, cout; /* pools: cout = cin */
    int kh, kw, sh, sw;
    int pad_top, pad_left; /* zero padding before the first row / column ("same") */
} mf_rt_geom;

/* How an accumulator becomes an output: shift s = n_acc − n_out for the whole tensor, or per
 * output channel when `shifts` is not NULL (per-channel weight formats). */
typedef struct mf_rt_requant {
    int shift;
    const int8_t *shifts; /* NULL or cout entries (dense: n_out); overrides `shift` */
    int relu;     /* fused activation: 0 none, 1 ReLU; the *_relu6 kernels also take ReLU6 with
                     upper bound q6 as MF_RT_RELU6(q6) = 2 + q6 (every other kernel: 0 or 1) */
    int rounding; /* MF_RT_ROUND_* */
} mf_rt_requant;

/* ReLU6 clamping to [0, q6] (q6 ≥ 0, in the output format) as mf_rt_requant.relu. */
#define MF_RT_RELU6(q6) (2 + (q6))

/* ---- working memory (CMSIS-NN's buffer-size getter habit) ----
 * Kernels that need working memory take a `scratch` pointer as their last argument: at least the
 * bytes the matching getter returns, 8-byte aligned, not overlapping any argument, owned by the
 * caller for the call only (the memory planner gives it a one-call lifetime in the arena). A
 * getter returning 0 means scratch may be NULL. The getters describe the optimized paths' needs
 * on every platform (the plan is made on the host for the target); the reference paths ignore
 * scratch. No runtime function has a variable-length array or a stack buffer: frames stay
 * within 256 bytes on the host (-Wstack-usage=256) and 384 on the Cortex-M4 (tests/target), where
 * the int8 conv engine keeps its layer state and a quad of positions in one frame. */
size_t mf_rt_conv_s8_scratch_bytes(const mf_rt_geom *g);  /* also conv_maxpool_s8 */
size_t mf_rt_conv_s16_scratch_bytes(const mf_rt_geom *g); /* also conv_maxpool_s16 */
size_t mf_rt_dense_s8_scratch_bytes(int n_in, int n_out);

/* ---- scalar helpers (exposed for tests and the quantizer's fake-quant) ---- */
int8_t mf_rt_requant_s32(int32_t acc, int shift, int relu, int rounding);
int16_t mf_rt_requant_s64(int64_t acc, int shift, int relu, int rounding);

/* ---- convolution (conv1d and conv2d): out[oy][ox][co] = requant(bias[co] + Σ_{ky,kx,ci}
 * in[iy][ix][ci]·w[co][ky][kx][ci]); bias NULL means 0 ---- */
void mf_rt_conv_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                    int relu, float *out);
void mf_rt_conv_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w, const int64_t *bias,
                    const mf_rt_requant *rq, int16_t *out, void *scratch);
void mf_rt_conv_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                   const mf_rt_requant *rq, int8_t *out, void *scratch);

/* ---- depthwise convolution (dwconv.c; depthwise_conv1d/2d): geometry as for conv with cout =
 * cin·m (the depth multiplier m = cout / cin); output channel co reads input channel co / m only:
 * out[oy][ox][co] = requant(bias[co] + Σ_{ky,kx} in[iy][ix][co / m]·w[co][ky][kx]), weights
 * [cout][kh][kw], taps outside the input skipped; float: bias first, then (ky, kx) ascending.
 * int8 runs a Cortex-M4 path (dwconv_s8_opt.c) with scratch mf_rt_dwconv_s8_scratch_bytes; int16
 * and float32 the reference. The _relu6 forms: relu6.c's rule (the kernel with a plain ReLU,
 * then the clamp at q6, rq->relu = MF_RT_RELU6(q6); float at 6). ---- */
void mf_rt_dwconv_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                      int relu, float *out);
void mf_rt_dwconv_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w, const int64_t *bias,
                      const mf_rt_requant *rq, int16_t *out);
void mf_rt_dwconv_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                     const mf_rt_requant *rq, int8_t *out, void *scratch);
size_t mf_rt_dwconv_s8_scratch_bytes(const mf_rt_geom *g);
void mf_rt_dwconv_relu6_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                            int relu, float *out);
void mf_rt_dwconv_relu6_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                            const int64_t *bias, const mf_rt_requant *rq, int16_t *out);
void mf_rt_dwconv_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                           const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                           void *scratch);

/* ---- dense: out[o] = requant(bias[o] + Σ in[i]·w[o][i]); bias NULL means 0 ---- */
void mf_rt_dense_f32(int n_in, int n_out, const float *in, const float *w, const float *bias,
                     int relu, float *out);
void mf_rt_dense_s16(int n_in, int n_out, const int16_t *in, const int16_t *w, const int64_t *bias,
                     const mf_rt_requant *rq, int16_t *out);
void mf_rt_dense_s8(int n_in, int n_out, const int8_t *in, const int8_t *w, const int32_t *bias,
                    const mf_rt_requant *rq, int8_t *out, void *scratch);
/* The same outputs as mf_rt_conv_s8 / mf_rt_conv_maxpool_s8 for a pruned layer, its zero weights
 * skipped (conv_sparse.c): idx holds, output channel after channel, the count n_c of its nonzero
 * weights then their offsets in the receptive field as it lies in the input (ky·w·cin + kx·cin +
 * ci, ascending, < 65536); w the nonzero weights in the same order. Scratch:
 * mf_rt_conv_sparse_s8_scratch_bytes (four fields gathered where they leave the input). */
void mf_rt_conv_sparse_s8(const mf_rt_geom *g, const int8_t *in, const uint16_t *idx,
                          const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                          int8_t *out, void *scratch);
void mf_rt_conv_sparse_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                  int pool_sw, const int8_t *in, const uint16_t *idx,
                                  const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                  int8_t *out, void *scratch);
size_t mf_rt_conv_sparse_s8_scratch_bytes(const mf_rt_geom *g);
/* Whether they compute a geometry (else they write nothing): a kernel row no wider than the
 * input (kw ≤ w), every field offset below 65536 and K = kh·kw·cin below 65536 (a count). */
int mf_rt_conv_sparse_s8_covers(const mf_rt_geom *g);

/* The same outputs as mf_rt_dense_s8 for a pruned layer, its zero weights skipped
 * (dense_sparse.c). idx holds, output after output, its entry count n_o (2 bytes, little-endian)
 * then n_o index deltas, one byte each: the first entry's input index, then each one's distance
 * from the previous; a gap over 255 is bridged by filler entries of weight 0 and delta 255, and
 * n_o is padded to a multiple of 4 by entries of weight 0 and delta 0. w holds the entries'
 * weights in the same order. Flash: 2 bytes per entry + 2 per output, against n_in per output
 * dense. mf_rt_dense_sparse_s8_encode writes
 * the format. */
void mf_rt_dense_sparse_s8(int n_in, int n_out, const int8_t *in, const uint8_t *idx,
                           const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                           int8_t *out);
/* Encodes the dense weights w ([n_out][n_in]) into idx (2·n_out + entries bytes) and wn (entries
 * bytes); with idx and wn NULL it only counts. Returns the entries (nonzero weights + fillers), or
 * SIZE_MAX, writing nothing, when an output would have more than 65535. */
size_t mf_rt_dense_sparse_s8_encode(int n_in, int n_out, const int8_t *w, uint8_t *idx, int8_t *wn);

/* ---- pools: keep the input format; valid windows (pad 0). Average: the window sum divided
 * by its size with floor division (floor mode) or floor((2·sum + count) / (2·count)) (half-up),
 * never C's truncation. relu: clamp at 0 (a ReLU fused into the pool). ---- */
void mf_rt_maxpool_f32(const mf_rt_geom *g, const float *in, int relu, float *out);
void mf_rt_maxpool_s16(const mf_rt_geom *g, const int16_t *in, int relu, int16_t *out);
void mf_rt_maxpool_s8(const mf_rt_geom *g, const int8_t *in, int relu, int8_t *out);
void mf_rt_avgpool_f32(const mf_rt_geom *g, const float *in, int relu, float *out);
void mf_rt_avgpool_s16(const mf_rt_geom *g, const int16_t *in, int relu, int rounding,
                       int16_t *out);
void mf_rt_avgpool_s8(const mf_rt_geom *g, const int8_t *in, int relu, int rounding, int8_t *out);
/* Global pools over `positions` positions of `channels` channels: in [positions][channels],
 * out [channels]. */
void mf_rt_global_maxpool_f32(int positions, int channels, const float *in, float *out);
void mf_rt_global_maxpool_s16(int positions, int channels, const int16_t *in, int16_t *out);
void mf_rt_global_maxpool_s8(int positions, int channels, const int8_t *in, int8_t *out);
void mf_rt_global_avgpool_f32(int positions, int channels, const float *in, float *out);
void mf_rt_global_avgpool_s16(int positions, int channels, const int16_t *in, int rounding,
                              int16_t *out);
void mf_rt_global_avgpool_s8(int positions, int channels, const int8_t *in, int rounding,
                             int8_t *out);

/* ---- add: both inputs aligned to the finer format by exact left shifts (align_a, align_b ≥
 * 0, in the accumulator type), added, then requantized with rq (shift = n_fine − n_out, per
 * tensor; rq->shifts is ignored). float: a + b (+ ReLU). n elements; out may be a or b. ---- */
void mf_rt_add_f32(size_t n, const float *a, const float *b, int relu, float *out);
void mf_rt_add_s16(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                   const mf_rt_requant *rq, int16_t *out);
void mf_rt_add_s8(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                  const mf_rt_requant *rq, int8_t *out);

/* ---- adds of k = 3 or 4 inputs (addn.c): every input aligned to the finest format by an exact
 * left shift (align ≥ 0; ≤ 22 for int8, ≤ 46 for int16) in the accumulator type, summed,
 * requantized once with rq (per tensor, relu 0 or 1); float ((a + b) + c) + d, then relu. d is
 * not read when k = 3. n elements; out may be any input. The _relu6 forms as relu6.c's. ---- */
void mf_rt_addn_f32(size_t n, int k, const float *a, const float *b, const float *c, const float *d,
                    int relu, float *out);
void mf_rt_addn_s16(size_t n, int k, const int16_t *a, int la, const int16_t *b, int lb,
                    const int16_t *c, int lc, const int16_t *d, int ld, const mf_rt_requant *rq,
                    int16_t *out);
void mf_rt_addn_s8(size_t n, int k, const int8_t *a, int la, const int8_t *b, int lb,
                   const int8_t *c, int lc, const int8_t *d, int ld, const mf_rt_requant *rq,
                   int8_t *out);
void mf_rt_addn_relu6_f32(size_t n, int k, const float *a, const float *b, const float *c,
                          const float *d, int relu, float *out);
void mf_rt_addn_relu6_s16(size_t n, int k, const int16_t *a, int la, const int16_t *b, int lb,
                          const int16_t *c, int lc, const int16_t *d, int ld,
                          const mf_rt_requant *rq, int16_t *out);
void mf_rt_addn_relu6_s8(size_t n, int k, const int8_t *a, int la, const int8_t *b, int lb,
                         const int8_t *c, int lc, const int8_t *d, int ld, const mf_rt_requant *rq,
                         int8_t *out);

/* ---- concatenation along the channels (concat.c): k = 2 to 4 inputs of `positions` positions
 * (every index but the last) and channels[i] channels each; out [positions][Σ channels] holds,
 * per position, input 0's channels, then input 1's, … Integer: every value of input i
 * requantized to the output's format, shift[i] = n_in[i] − n_out (a right shift with the
 * rounding mode or a saturating left shift, then saturation; mf_rt_requant_s32/_s64 without
 * ReLU); shift 0 copies unchanged. Float copies. Inputs i ≥ k are not read (may be NULL); out
 * must not overlap any input. ---- */
typedef struct mf_rt_concat {
    int k;
    int channels[4];
    int shift[4]; /* integer kernels */
    int rounding; /* MF_RT_ROUND_* */
} mf_rt_concat;
void mf_rt_concat_f32(int positions, const mf_rt_concat *p, const float *a, const float *b,
                      const float *c, const float *d, float *out);
void mf_rt_concat_s16(int positions, const mf_rt_concat *p, const int16_t *a, const int16_t *b,
                      const int16_t *c, const int16_t *d, int16_t *out);
void mf_rt_concat_s8(int positions, const mf_rt_concat *p, const int8_t *a, const int8_t *b,
                     const int8_t *c, const int8_t *d, int8_t *out);

/* ---- per-channel affine (affine.c; a batch-norm that cannot fold): `positions` rows of
 * `channels` values, out[p][c] = requant(b[c] + in[p][c]·a[c]) in the accumulator type with the
 * channel's shift (rq->shifts, else rq->shift; relu 0 or 1); float b[c] + in·a[c]. a is int8 /
 * int16 at its channel's format, b at n_in + n_a,c (NULL: 0). out may equal in. ---- */
void mf_rt_affine_f32(int positions, int channels, const float *in, const float *a, const float *b,
                      float *out);
void mf_rt_affine_s16(int positions, int channels, const int16_t *in, const int16_t *a,
                      const int64_t *b, const mf_rt_requant *rq, int16_t *out);
void mf_rt_affine_s8(int positions, int channels, const int8_t *in, const int8_t *a,
                     const int32_t *b, const mf_rt_requant *rq, int8_t *out);

/* ---- standalone ReLU (when it cannot be fused), in place allowed ---- */
void mf_rt_relu_f32(size_t n, const float *in, float *out);
void mf_rt_relu_s16(size_t n, const int16_t *in, int16_t *out);
void mf_rt_relu_s8(size_t n, const int8_t *in, int8_t *out);

/* ---- ReLU6 (relu6.c) ----
 * A fused ReLU6 runs the layer's kernel with a plain ReLU, then clamps its outputs at the upper
 * bound (rq->relu = MF_RT_RELU6(q6); float: 6): min is monotonic, so the clamp after a fused max
 * pool equals the clamp of every tap, and the result is requant → ReLU → min(·, q6) of every
 * output, exactly. Each *_relu6 kernel takes the arguments of the kernel it wraps (float: its
 * `relu` argument is ignored); the lowering calls them for layers whose activation is relu6, so
 * a firmware without ReLU6 links none of this. Standalone: out = min(max(in, 0), q6) in the
 * input's format (float: 6), in place allowed. */
void mf_rt_relu6_f32(size_t n, const float *in, float *out);
void mf_rt_relu6_s16(size_t n, const int16_t *in, const mf_rt_requant *rq, int16_t *out);
void mf_rt_relu6_s8(size_t n, const int8_t *in, const mf_rt_requant *rq, int8_t *out);
void mf_rt_conv_relu6_f32(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                          int relu, float *out);
void mf_rt_conv_relu6_s16(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                          const int64_t *bias, const mf_rt_requant *rq, int16_t *out,
                          void *scratch);
void mf_rt_conv_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv1d_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                           const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                           void *scratch);
void mf_rt_conv_maxpool_relu6_f32(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                  int pool_sw, const float *in, const float *w, const float *bias,
                                  int relu, float *out);
void mf_rt_conv_maxpool_relu6_s16(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                  int pool_sw, const int16_t *in, const int16_t *w,
                                  const int64_t *bias, const mf_rt_requant *rq, int16_t *out,
                                  void *scratch);
void mf_rt_conv_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                 int pool_sw, const int8_t *in, const int8_t *w,
                                 const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                 void *scratch);
void mf_rt_conv1d_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                   int pool_sw, const int8_t *in, const int8_t *w,
                                   const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                   void *scratch);
void mf_rt_conv_small_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                               const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                               void *scratch);
void mf_rt_conv_small_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw,
                                       int pool_sh, int pool_sw, const int8_t *in, const int8_t *w,
                                       const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                       void *scratch);
void mf_rt_conv_sparse_relu6_s8(const mf_rt_geom *g, const int8_t *in, const uint16_t *idx,
                                const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                int8_t *out, void *scratch);
void mf_rt_conv_sparse_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw,
                                        int pool_sh, int pool_sw, const int8_t *in,
                                        const uint16_t *idx, const int8_t *w, const int32_t *bias,
                                        const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_dense_relu6_f32(int n_in, int n_out, const float *in, const float *w, const float *bias,
                           int relu, float *out);
void mf_rt_dense_relu6_s16(int n_in, int n_out, const int16_t *in, const int16_t *w,
                           const int64_t *bias, const mf_rt_requant *rq, int16_t *out);
void mf_rt_dense_relu6_s8(int n_in, int n_out, const int8_t *in, const int8_t *w,
                          const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_dense_sparse_relu6_s8(int n_in, int n_out, const int8_t *in, const uint8_t *idx,
                                 const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,
                                 int8_t *out);
void mf_rt_add_relu6_f32(size_t n, const float *a, const float *b, int relu, float *out);
void mf_rt_add_relu6_s16(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                         const mf_rt_requant *rq, int16_t *out);
void mf_rt_add_relu6_s8(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                        const mf_rt_requant *rq, int8_t *out);

/* ---- the model's input (model_quantize_input): raw values → z-score x' = (x − mean[c]) /
 * std[c] in float, c = i mod n_stats (n_stats = 0: none; n_stats = n: per element), then for
 * the integer models q = saturate(lround(x' · scale)), scale = 2^n_in. n elements. ---- */
void mf_rt_input_f32(size_t n, const float *raw, const float *mean, const float *std,
                     size_t n_stats, float *out);
void mf_rt_input_s16(size_t n, const float *raw, const float *mean, const float *std,
                     size_t n_stats, float scale, int16_t *out);
void mf_rt_input_s8(size_t n, const float *raw, const float *mean, const float *std, size_t n_stats,
                    float scale, int8_t *out);

/* ---- format conversion: requantize a tensor from n_in to n_out fractional bits (shift =
 * n_in − n_out, any sign; no ReLU), e.g. the input of a layer whose format differs; in place
 * allowed ---- */
void mf_rt_rescale_s16(size_t n, const int16_t *in, int shift, int rounding, int16_t *out);
void mf_rt_rescale_s8(size_t n, const int8_t *in, int shift, int rounding, int8_t *out);

/* ---- fused convolution + max pool (DESIGN.md §7: a max-pool with stride ≥ pool size fused into
 * its producer, so the full-resolution conv output never exists) ----
 * out = maxpool(conv(in)) where conv is mf_rt_conv_* with geometry `conv` (and rq / relu), and the
 * max pool is mf_rt_maxpool_* with relu 0 over its output [conv->oh][conv->ow][conv->cout] with
 * pool window pool_kh × pool_kw, strides pool_sh × pool_sw and no padding (valid windows):
 *   out [poh][pow][cout], poh = (conv->oh − pool_kh) / pool_sh + 1, pow = (conv->ow − pool_kw) /
 *   pool_sw + 1 (1D: pool_kh = pool_sh = 1); requires 1 ≤ pool_kh ≤ conv->oh, 1 ≤ pool_kw ≤
 *   conv->ow, strides ≥ 1.
 * Bit-identical to the unfused pair: every conv output of a window is requantized (with the fused
 * ReLU of rq / relu) exactly as mf_rt_conv_* does, then the window's maximum is taken as
 * mf_rt_maxpool_* does (first tap in (ky, kx) order, replaced by every later tap strictly
 * greater). A ReLU that follows the pool (pool → ReLU) equals one fused into the conv for the
 * integer kernels (requantization is monotonic); for float32 the two orders differ only in the
 * sign of a zero (max(−1, −0.0) → −0.0 → ReLU −0.0, against ReLU first: max(+0.0, −0.0) = +0.0).
 * Any pool geometry is computed correctly; only stride ≥ size avoids recomputing conv outputs.
 * `out` must not alias `in` (int8 1D: see mf_rt_conv1d_s8_lag). */
void mf_rt_conv_maxpool_f32(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                            int pool_sw, const float *in, const float *w, const float *bias,
                            int relu, float *out);
void mf_rt_conv_maxpool_s16(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                            int pool_sw, const int16_t *in, const int16_t *w, const int64_t *bias,
                            const mf_rt_requant *rq, int16_t *out, void *scratch);
void mf_rt_conv_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                           int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                           const mf_rt_requant *rq, int8_t *out, void *scratch);

/* ---- geometry-specific int8 kernels (chosen by the lowering, lower/kernels.c) ----
 * The same outputs as mf_rt_conv_s8 / mf_rt_conv_maxpool_s8 for a 1D geometry (h = kh = oh = sh =
 * 1, pad_top = 0) and, for the pool variant, a 1×2 max pool of stride 1×2 (or a 1-tap one); on any
 * other geometry they write nothing. Their code holds only the 1D paths, so a firmware whose layers
 * are all 1D carries none of the 2D machinery (each generated firmware links only the kernels it
 * calls). Same scratch as mf_rt_conv_s8 (mf_rt_conv_s8_scratch_bytes). mf_rt_conv1d_s8_covers says
 * whether they compute a call (a plain conv: pool 1, 1, 1, 1; the pool variant takes that or
 * 1, 2, 1, 2): the one test the kernels, the host and the lowering share. */
int mf_rt_conv1d_s8_covers(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh, int pool_sw);
/* Their output may overlap their input (the memory plan puts it there to save RAM, in the way of
 * Unlu's ping-pong buffers) as long as out ≤ in + lag bytes, lag = this function's value
 * (negative: the output must start that far before the input). Why it is safe, for the optimized
 * path and the reference alike: both read pool window after pool window, and write a window's
 * outputs after every read of that window and before any read of a later one; the reads of
 * window o start at byte start(o) = max(0, o·pool_sw·sw − pad_left)·cin of the input and never
 * go below it (later windows start later), and its outputs end at (o + 1)·cout; lag is the
 * least start(o) − (o + 1)·cout, so no write reaches a byte still to be read. (The reference
 * re-reads window o for every channel after writing the channel before: the same bound holds.) */
long mf_rt_conv1d_s8_lag(const mf_rt_geom *g, int pool_kw);
void mf_rt_conv1d_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                     const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv1d_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                             int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                             const mf_rt_requant *rq, int8_t *out, void *scratch);

/* The same outputs as mf_rt_conv_s8 / mf_rt_conv_maxpool_s8 (any geometry, any pool window) from
 * plain loops, one position at a time and output channels in blocks of 4 (conv_s8_small.c): on
 * layers with few output channels or few values per receptive field they run faster than the
 * quad engine of mf_rt_conv_s8, whose fixed cost per quad and per call such layers do not
 * amortise. mf_rt_conv_small_s8_chosen says where: the lowering calls them there, and only
 * there (the choice the host, the firmware and bench/kernel_sweep share). Scratch:
 * mf_rt_conv_small_s8_scratch_bytes (4 bytes per output channel). `out` must not alias `in`
 * (a pool's taps are computed tap after tap over all the windows). */
size_t mf_rt_conv_small_s8_scratch_bytes(const mf_rt_geom *g); /* also the maxpool form */
int mf_rt_conv_small_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw);
void mf_rt_conv_small_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv_small_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                 int pool_sw, const int8_t *in, const int8_t *w,
                                 const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                 void *scratch);

/* The parameter lists of the int8 conv kernels and their maxpool forms, for the geometry-specific
 * entry points below (defined one by one: deploy finds a kernel's file by its definition). */
#define MF_RT_CONV_S8_PARAMS                                                                       \
    const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,                   \
        const mf_rt_requant *rq, int8_t *out, void *scratch
#define MF_RT_CONV_MAXPOOL_S8_PARAMS                                                               \
    const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh, int pool_sw, const int8_t *in,  \
        const int8_t *w, const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch

/* The register-field kernels (conv_s8_field.c): the same outputs as mf_rt_conv_s8 /
 * mf_rt_conv_maxpool_s8 on 1D layers (h = kh = oh = 1) of K = kw·cin ≤ 16 values per field,
 * plain or with a 1×2 stride-2 max pool: two positions (or a pool window's two taps) at a time,
 * each field split once into P ≤ 8 pair words held in registers. One kernel per field size P =
 * mf_rt_conv_field_s8_p (1-8, 0: not such a geometry), so a firmware links only the sizes its
 * layers call: mf_rt_conv_field<P>_s8 and mf_rt_conv_field<P>_maxpool_s8 write nothing on a
 * geometry of another P. mf_rt_conv_field_s8_chosen says where they beat the other kernels.
 * Scratch: mf_rt_conv_field_s8_scratch_bytes ((4·P + 6)·cout bytes, rounded up to 8). `out` may
 * overlap `in` as long as out ≤ in + mf_rt_conv_field_s8_lag bytes (below). */
int mf_rt_conv_field_s8_p(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh, int pool_sw);
/* How far the output of a register-field kernel may start past its input (pool: 1 for the 1×2
 * stride-2 pool, 0 plain), for every P, the optimized path and the host's reference alike: the
 * 1D kernels' lag, mf_rt_conv1d_s8_lag(g, pool ? 2 : 1). Why it holds: the fast path reads both
 * fields of two positions (or of a window's two taps) into registers, or gathers them into
 * stack buffers at the edges, before it writes any of their outputs, and later pairs read from
 * later bytes, so its writes may even come a position or two closer; but its slow path (for
 * requantizations other than one shift with ReLU or none, conv_s8_field.c) and the host's
 * reference (conv.c) write each position's channels one by one between reads of that
 * position's field, in the order the 1D lag assumes, and the plan must hold for both (one plan
 * for host and firmware). An odd last position goes through the scratch, which never
 * overlaps. */
long mf_rt_conv_field_s8_lag(const mf_rt_geom *g, int pool);
int mf_rt_conv_field_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw);
size_t mf_rt_conv_field_s8_scratch_bytes(const mf_rt_geom *g); /* also the maxpool forms */
#define MF_RT_CONV_FIELD_DECL(P)                                                                   \
    void mf_rt_conv_field##P##_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,          \
                                  const int32_t *bias, const mf_rt_requant *rq, int8_t *out,       \
                                  void *scratch);                                                  \
    void mf_rt_conv_field##P##_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw,        \
                                          int pool_sh, int pool_sw, const int8_t *in,              \
                                          const int8_t *w, const int32_t *bias,                    \
                                          const mf_rt_requant *rq, int8_t *out, void *scratch);    \
    void mf_rt_conv_field##P##_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,    \
                                        const int32_t *bias, const mf_rt_requant *rq, int8_t *out, \
                                        void *scratch);                                            \
    void mf_rt_conv_field##P##_maxpool_relu6_s8(                                                   \
        const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh, int pool_sw,                \
        const int8_t *in, const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,           \
        int8_t *out, void *scratch);
MF_RT_CONV_FIELD_DECL(1)
MF_RT_CONV_FIELD_DECL(2)
MF_RT_CONV_FIELD_DECL(3)
MF_RT_CONV_FIELD_DECL(4)
MF_RT_CONV_FIELD_DECL(5)
MF_RT_CONV_FIELD_DECL(6)
MF_RT_CONV_FIELD_DECL(7)
MF_RT_CONV_FIELD_DECL(8)

/* The patch kernels (conv_s8_patch.c): the same outputs as mf_rt_conv_s8 / mf_rt_conv_maxpool_s8
 * (any pool window, stride and padding) on the layers of one of four shapes
 * (mf_rt_conv_patch_s8_shape; other geometries: they write nothing), one entry point per shape
 * so a firmware links only the shapes it calls: 3x3o3 (3 kernel rows of kw·cin = 3 values, 3
 * output channels: 1 → 3 k3), 1x3o3 (3 → 3 k1), 5x5o1 (5 rows of 5 values, 1 channel:
 * 1 → 1 k5); and go3, the generic shape of 3 output channels (1D or 2D, any kernel whose rows
 * hold at most 4·MF_RT_CONV_PATCH_GO3_GROUPS values). Every channel of a position from one pass
 * over its field read in place, the input copied with its zero border into scratch when the
 * geometry pads (go3: also when kw·cin is not a multiple of 4). mf_rt_conv_patch_s8_chosen says
 * where they beat the other kernels. Scratch: mf_rt_conv_patch_s8_scratch_bytes (16 bytes,
 * 8·⌈kw·cin/4⌉·kh·cout of split weights, when the layer pads the padded input,
 * ((oh − 1)·sh + kh)·((ow − 1)·sw + kw)·cin + 4 bytes, and for go3 two rows of outputs for the
 * pool). `out` must not alias `in`. */
/* The most scratch mf_rt_conv_s8_choose gives a kernel that copies or splits its whole input (the
 * patch kernels' padded copy, the lane kernels' band): scratch lives in the firmware's arena
 * beside the layer's input and output, so a layer whose copy would be larger keeps a kernel of
 * small scratch (the quad engine, the small-geometry or the 1D kernels) at more instructions
 * instead of growing the model's RAM by up to its input's size. */
#define MF_RT_CONV_COPY_MAX_SCRATCH 16384 /* an eighth of the Cortex-M4F target's 128 KiB */
#define MF_RT_CONV_PATCH_BYTES      40    /* the largest field on the stack: 5 rows of 2 words */
#define MF_RT_CONV_PATCH_GO3_GROUPS 80    /* go3: the most words of a kernel row (unrolled) */
enum {
    MF_RT_CONV_PATCH_NONE,
    MF_RT_CONV_PATCH_3X3O3,
    MF_RT_CONV_PATCH_1X3O3,
    MF_RT_CONV_PATCH_5X5O1,
    MF_RT_CONV_PATCH_GO3,
};
int mf_rt_conv_patch_s8_shape(const mf_rt_geom *g); /* MF_RT_CONV_PATCH_* */
int mf_rt_conv_patch_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw);
size_t mf_rt_conv_patch_s8_scratch_bytes(const mf_rt_geom *g); /* also the maxpool forms */
#define MF_RT_CONV_PATCH_DECL(S)                                                                   \
    void mf_rt_conv_patch##S##_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,          \
                                  const int32_t *bias, const mf_rt_requant *rq, int8_t *out,       \
                                  void *scratch);                                                  \
    void mf_rt_conv_patch##S##_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw,        \
                                          int pool_sh, int pool_sw, const int8_t *in,              \
                                          const int8_t *w, const int32_t *bias,                    \
                                          const mf_rt_requant *rq, int8_t *out, void *scratch);    \
    void mf_rt_conv_patch##S##_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,    \
                                        const int32_t *bias, const mf_rt_requant *rq, int8_t *out, \
                                        void *scratch);                                            \
    void mf_rt_conv_patch##S##_maxpool_relu6_s8(                                                   \
        const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh, int pool_sw,                \
        const int8_t *in, const int8_t *w, const int32_t *bias, const mf_rt_requant *rq,           \
        int8_t *out, void *scratch);
MF_RT_CONV_PATCH_DECL(3x3o3)
MF_RT_CONV_PATCH_DECL(1x3o3)
MF_RT_CONV_PATCH_DECL(5x5o1)
MF_RT_CONV_PATCH_DECL(go3)

/* The lane kernels (conv_s8_lanes.c): the same outputs as mf_rt_conv_s8 / mf_rt_conv_maxpool_s8
 * (any pool window, stride and padding) on the layers of one output channel whose input channels
 * come in multiples of 8 (mf_rt_conv_lanes_s8_fits; other geometries: they write nothing). The
 * input is split into 16-bit lanes once per call, kh padded rows at a time, so each position's
 * sum is one SMLAD per 2 values. mf_rt_conv_lanes_s8_chosen says where they beat the other
 * kernels. Scratch: mf_rt_conv_lanes_s8_scratch_bytes (kh rotations of the split weights,
 * 2·kh·kw·cin bytes each; the band of kh padded rows, 2·((ow − 1)·sw + kw)·kh·cin bytes; 4·kh +
 * 8·ow bytes of tags and sums). `out` must not alias `in`. */
int mf_rt_conv_lanes_s8_fits(const mf_rt_geom *g);
int mf_rt_conv_lanes_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw);
size_t mf_rt_conv_lanes_s8_scratch_bytes(const mf_rt_geom *g); /* also the maxpool forms */
void mf_rt_conv_lanes_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv_lanes_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                 int pool_sw, const int8_t *in, const int8_t *w,
                                 const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                 void *scratch);
void mf_rt_conv_lanes_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                               const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                               void *scratch);
void mf_rt_conv_lanes_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw,
                                       int pool_sh, int pool_sw, const int8_t *in, const int8_t *w,
                                       const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                       void *scratch);

/* The dot kernels (conv_s8_dot.c): the same outputs as mf_rt_conv_s8 / mf_rt_conv_maxpool_s8 on
 * layers one kernel row high (kh = 1, no padding above or below) of K = kw·cin ≤ 16 values per
 * field (1D layers, 2D 1×1 convs), plain or with a max pool whose windows tile the rows
 * horizontally (pool_sw = pool_kw ≤ 2, mf_rt_conv_dot_s8_covers; other geometries: they write
 * nothing). Channels innermost: each position's field split once into registers, every channel
 * one block of split weights, start and shift. mf_rt_conv_dot_s8_chosen says where they beat the
 * other kernels. Scratch: mf_rt_conv_dot_s8_scratch_bytes (the blocks, 24 or 40 bytes per
 * channel; a chunk of conv outputs for the pool; the padded input when the layer pads). `out`
 * must not alias `in`, but for the overlap mf_rt_conv_dot_s8_lag allows on 1D layers. */
int mf_rt_conv_dot_s8_covers(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                             int pool_sw);
int mf_rt_conv_dot_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                             int pool_sw);
size_t mf_rt_conv_dot_s8_scratch_bytes(const mf_rt_geom *g); /* also the maxpool forms */
/* On a 1D geometry (h = 1) their output may overlap their input as long as out ≤ in + this
 * function's value (pool_kw: the pool's width, 1 plain): the 1D kernels' lag,
 * mf_rt_conv1d_s8_lag. Why it holds, for the optimized path and the host's reference (conv.c,
 * whose order the 1D lag assumes) alike: pool window after pool window, every field of a window
 * (a chunk of windows on the pooled chunk path) is read into registers or scratch before any
 * of its outputs is written, and before any read of a later window; a padded layer reads only
 * its copy of the input, made before the first write. The word reads past a field's K values
 * meet zero weights and lie above the field's start, where nothing has been written yet. */
long mf_rt_conv_dot_s8_lag(const mf_rt_geom *g, int pool_kw);
void mf_rt_conv_dot_s8(MF_RT_CONV_S8_PARAMS);
void mf_rt_conv_dot_maxpool_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS);
void mf_rt_conv_dot_relu6_s8(MF_RT_CONV_S8_PARAMS);
void mf_rt_conv_dot_maxpool_relu6_s8(MF_RT_CONV_MAXPOOL_S8_PARAMS);

/* The quad engine of mf_rt_conv_s8 / mf_rt_conv_maxpool_s8 with the fields that hang over the
 * input's edges gathered row by row (conv_s8_opt.c): the same outputs, scratch
 * (mf_rt_conv_s8_scratch_bytes) and aliasing rule; fewer instructions where the kernel rows hold
 * many values (mf_rt_conv_wide_s8_chosen). A separate kernel, so a firmware without such layers
 * does not link it. */
int mf_rt_conv_wide_s8_chosen(const mf_rt_geom *g, int pool_kh, int pool_kw, int pool_sh,
                              int pool_sw);
void mf_rt_conv_wide_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                        const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv_wide_maxpool_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                                const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv_wide_relu6_s8(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                              const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                              void *scratch);
void mf_rt_conv_wide_maxpool_relu6_s8(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                      int pool_sw, const int8_t *in, const int8_t *w,
                                      const int32_t *bias, const mf_rt_requant *rq, int8_t *out,
                                      void *scratch);

/* Which int8 conv kernel a layer calls (plain: pool 1, 1, 1, 1): the one choice the lowering, the
 * host interpreter, the firmware and bench/kernel_sweep share. FIELD: mf_rt_conv_field<P>_s8
 * (_maxpool); SMALL: mf_rt_conv_small_s8 (_maxpool); 1D: mf_rt_conv1d_s8 (_maxpool); WIDE:
 * mf_rt_conv_wide_s8 (_maxpool); PATCH: mf_rt_conv_patch<shape>_s8 (_maxpool); LANES:
 * mf_rt_conv_lanes_s8 (_maxpool); DOT: mf_rt_conv_dot_s8 (_maxpool); ENGINE: mf_rt_conv_s8
 * (_maxpool). Each kernel is chosen where it
 * measured fewest instructions with bench/kernel_sweep (see the predicates above). */
typedef enum {
    MF_RT_CONV_S8_ENGINE,
    MF_RT_CONV_S8_1D,
    MF_RT_CONV_S8_SMALL,
    MF_RT_CONV_S8_FIELD,
    MF_RT_CONV_S8_WIDE,
    MF_RT_CONV_S8_PATCH,
    MF_RT_CONV_S8_LANES,
    MF_RT_CONV_S8_DOT,
} mf_rt_conv_s8_kernel;
mf_rt_conv_s8_kernel mf_rt_conv_s8_choose(const mf_rt_geom *g, int pool_kh, int pool_kw,
                                          int pool_sh, int pool_sw);

/* ---- reference paths ----
 * Every public kernel above is a dispatcher: on a Cortex-M with the DSP extension
 * (__ARM_FEATURE_DSP) the integer kernels run an optimized path (int8: SXTB16 + SMLAD, int16:
 * SMLALD into int64, one channel × 4 positions per inner loop; SSAT/USAT, the rounding folded
 * into the accumulator start), and with a single-precision FPU (__ARM_FP) the float
 * kernels run a blocked path with VMLA.F32 that keeps each output's documented order of
 * operations; the model's input (with both) quantizes with VCVT (one fraction bit), QADD and
 * SSAT instead of float range tests; elsewhere (the host) they run these portable C reference
 * implementations. Both paths give bit-identical outputs for every input: tests/test_runtime.c
 * compares them on the host (DSP instructions emulated in C, MF_RT_EMULATE_DSP) and on QEMU's
 * Cortex-M4F (tests/target). The optimized paths live in the *_opt.c files (private header
 * mf_rt_dsp.h); the _ref functions are always available, with the same signatures and
 * semantics as the public ones.
 * Scratch: the optimized int8 conv keeps 4 receptive fields, their lanes, and per channel its
 * accumulator start twice and 4 sums (about 12·K + 24·cout bytes, K = kh·kw·cin; on 1D
 * geometries only the fields of the edge positions: 8·K + 24·cout + K per edge position), plus a
 * value- group offset table for 2D kernels (about K bytes) and a zero-padded word of weights per
 * channel when K < 4; the int8 dense the input split into 16-bit lanes (2 words per 4 inputs) and
 * one accumulator start per output; the int16 conv 4 interleaved receptive fields, an accumulator
 * start, a shift and 4 outputs per channel (16·⌈K/2⌉ + 17·cout bytes). */
void mf_rt_conv_f32_ref(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                        int relu, float *out);
void mf_rt_conv_s16_ref(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                        const int64_t *bias, const mf_rt_requant *rq, int16_t *out, void *scratch);
void mf_rt_conv_s8_ref(const mf_rt_geom *g, const int8_t *in, const int8_t *w, const int32_t *bias,
                       const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_conv_maxpool_f32_ref(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const float *in, const float *w, const float *bias,
                                int relu, float *out);
void mf_rt_conv_maxpool_s16_ref(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                                int pool_sw, const int16_t *in, const int16_t *w,
                                const int64_t *bias, const mf_rt_requant *rq, int16_t *out,
                                void *scratch);
void mf_rt_conv_maxpool_s8_ref(const mf_rt_geom *conv, int pool_kh, int pool_kw, int pool_sh,
                               int pool_sw, const int8_t *in, const int8_t *w, const int32_t *bias,
                               const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_dwconv_f32_ref(const mf_rt_geom *g, const float *in, const float *w, const float *bias,
                          int relu, float *out);
void mf_rt_dwconv_s16_ref(const mf_rt_geom *g, const int16_t *in, const int16_t *w,
                          const int64_t *bias, const mf_rt_requant *rq, int16_t *out);
void mf_rt_dwconv_s8_ref(const mf_rt_geom *g, const int8_t *in, const int8_t *w,
                         const int32_t *bias, const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_dense_f32_ref(int n_in, int n_out, const float *in, const float *w, const float *bias,
                         int relu, float *out);
void mf_rt_dense_s16_ref(int n_in, int n_out, const int16_t *in, const int16_t *w,
                         const int64_t *bias, const mf_rt_requant *rq, int16_t *out);
void mf_rt_dense_s8_ref(int n_in, int n_out, const int8_t *in, const int8_t *w, const int32_t *bias,
                        const mf_rt_requant *rq, int8_t *out, void *scratch);
void mf_rt_maxpool_f32_ref(const mf_rt_geom *g, const float *in, int relu, float *out);
void mf_rt_maxpool_s16_ref(const mf_rt_geom *g, const int16_t *in, int relu, int16_t *out);
void mf_rt_maxpool_s8_ref(const mf_rt_geom *g, const int8_t *in, int relu, int8_t *out);
void mf_rt_avgpool_f32_ref(const mf_rt_geom *g, const float *in, int relu, float *out);
void mf_rt_avgpool_s16_ref(const mf_rt_geom *g, const int16_t *in, int relu, int rounding,
                           int16_t *out);
void mf_rt_avgpool_s8_ref(const mf_rt_geom *g, const int8_t *in, int relu, int rounding,
                          int8_t *out);
void mf_rt_global_maxpool_f32_ref(int positions, int channels, const float *in, float *out);
void mf_rt_global_maxpool_s16_ref(int positions, int channels, const int16_t *in, int16_t *out);
void mf_rt_global_maxpool_s8_ref(int positions, int channels, const int8_t *in, int8_t *out);
void mf_rt_global_avgpool_f32_ref(int positions, int channels, const float *in, float *out);
void mf_rt_global_avgpool_s16_ref(int positions, int channels, const int16_t *in, int rounding,
                                  int16_t *out);
void mf_rt_global_avgpool_s8_ref(int positions, int channels, const int8_t *in, int rounding,
                                 int8_t *out);
void mf_rt_add_f32_ref(size_t n, const float *a, const float *b, int relu, float *out);
void mf_rt_add_s16_ref(size_t n, const int16_t *a, int align_a, const int16_t *b, int align_b,
                       const mf_rt_requant *rq, int16_t *out);
void mf_rt_add_s8_ref(size_t n, const int8_t *a, int align_a, const int8_t *b, int align_b,
                      const mf_rt_requant *rq, int8_t *out);
void mf_rt_relu_f32_ref(size_t n, const float *in, float *out);
void mf_rt_relu_s16_ref(size_t n, const int16_t *in, int16_t *out);
void mf_rt_relu_s8_ref(size_t n, const int8_t *in, int8_t *out);
void mf_rt_rescale_s16_ref(size_t n, const int16_t *in, int shift, int rounding, int16_t *out);
void mf_rt_rescale_s8_ref(size_t n, const int8_t *in, int shift, int rounding, int8_t *out);
void mf_rt_input_f32_ref(size_t n, const float *raw, const float *mean, const float *std,
                         size_t n_stats, float *out);
void mf_rt_input_s16_ref(size_t n, const float *raw, const float *mean, const float *std,
                         size_t n_stats, float scale, int16_t *out);
void mf_rt_input_s8_ref(size_t n, const float *raw, const float *mean, const float *std,
                        size_t n_stats, float scale, int8_t *out);

#endif
