/* ARM semihosting for the tests/target harness (TARGET.md §5): console output and the exit code
 * (SYS_EXIT_EXTENDED; QEMU's exit status = code & 0xFF). Needs
 * -semihosting-config enable=on,target=native. */
#ifndef MF_TARGET_SEMIHOST_H
#define MF_TARGET_SEMIHOST_H

#include <stdint.h>

static inline int32_t sh_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

static inline void sh_puts(const char *s)
{
    sh_call(0x04, s); /* SYS_WRITE0 */
}

__attribute__((noreturn)) static inline void sh_exit(uint32_t code)
{
    uint32_t blk[2] = {0x20026u, code}; /* ADP_Stopped_ApplicationExit, code */
    sh_call(0x20, blk);                 /* SYS_EXIT_EXTENDED */
    for (;;) {
    }
}

#endif
