/* Exact instruction counting on QEMU 7.2 netduinoplus2 (TARGET.md §6): with
 * "-icount shift=0,sleep=off" TIM2 (prescaler 0, 1 GHz of virtual time) advances by exactly 1 per
 * executed instruction. read B − read A = instructions from the load at A (inclusive) to the
 * load at B (exclusive), modulo 2^32. Put a compiler barrier on both sides of every read
 * (TARGET.md §7.14). */
#ifndef MF_ICOUNT_H
#define MF_ICOUNT_H

#include <stdint.h>

#define MF_TIM2_BASE 0x40000000u
#define MF_TIM2_CR1  (*(volatile uint32_t *)(MF_TIM2_BASE + 0x00u))
#define MF_TIM2_CNT  (*(volatile uint32_t *)(MF_TIM2_BASE + 0x24u))
#define MF_TIM2_PSC  (*(volatile uint32_t *)(MF_TIM2_BASE + 0x28u))
#define MF_TIM2_ARR  (*(volatile uint32_t *)(MF_TIM2_BASE + 0x2Cu))

#define MF_BARRIER() __asm__ volatile("" ::: "memory")

static inline void mf_icount_init(void)
{
    MF_TIM2_PSC = 0;           /* 1 tick = 1 ns of virtual time = 1 instruction */
    MF_TIM2_ARR = 0xFFFFFFFFu; /* full 32-bit range */
    MF_TIM2_CR1 = 1;           /* CEN */
}

static inline uint32_t mf_icount_read(void)
{
    return MF_TIM2_CNT;
}

#endif
