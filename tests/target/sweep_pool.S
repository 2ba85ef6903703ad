/* The data pool of the conv geometry sweep (sweep.c): 475,136 bytes of flash, enough for the
 * largest float32 weights of the sweep (64 x 64 x 5 x 5 x 4 bytes) followed by the largest
 * float32 input (16 x 16 x 64 x 4 bytes), generated here by the assembler so no data file or
 * generator is needed. Every word is a finite, normal float32 of magnitude in [2^-7, 2^-5) with
 * a pseudo-random sign, mantissa and exponent LSB (the high bits of a 32-bit LCG), so the same
 * bytes serve as float32 weights and, reinterpreted, as int8 and int16 weights: the three low
 * bytes and the low halfword are uniformly random, the top byte is 60 or -68 (±16,000 or so for
 * the high halfword) with a random sign, so products have mean ≈ 0. */
    .syntax unified
    .section .rodata.sweep_pool, "a"
    .balign 8
    .global sweep_pool
    .type sweep_pool, %object
sweep_pool:
    .set x, 0x2545F491
    .rept 118784
    .set x, (x * 1664525 + 1013904223) & 0xFFFFFFFF
    .word (x & 0x80000000) | 0x3C000000 | ((x >> 7) & 0x00FFFFFF)
    .endr
    .size sweep_pool, . - sweep_pool
