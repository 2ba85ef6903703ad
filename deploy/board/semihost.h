/* ARM semihosting for the Cortex-M4F under QEMU (TARGET.md §5): Thumb "bkpt 0xAB", operation
 * in r0, pointer to a parameter block in r1, result in r0. QEMU needs
 * -semihosting-config enable=on,target=native (without it the bkpt locks the core up). */
#ifndef MF_SEMIHOST_H
#define MF_SEMIHOST_H

#include <stdint.h>

enum {
    SH_SYS_OPEN = 0x01,
    SH_SYS_CLOSE = 0x02,
    SH_SYS_WRITE0 = 0x04,
    SH_SYS_READ = 0x06,
    SH_SYS_FLEN = 0x0C,
    SH_SYS_EXIT_EXTENDED = 0x20
};
#define SH_ADP_STOPPED_APPLICATION_EXIT 0x20026u

static inline int32_t sh_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

/* console: a NUL-terminated string (QEMU's semihosting chardev) */
static inline void sh_puts(const char *s)
{
    sh_call(SH_SYS_WRITE0, s);
}

/* host file relative to QEMU's working directory; mode 1 = "rb". Returns fd or -1. */
static inline int32_t sh_open(const char *name, uint32_t mode)
{
    uint32_t len = 0;
    while (name[len])
        len++;
    uint32_t blk[3] = {(uint32_t)name, mode, len};
    return sh_call(SH_SYS_OPEN, blk);
}

/* returns the number of bytes NOT read (0: all read) */
static inline int32_t sh_read(int32_t fd, void *buf, uint32_t n)
{
    uint32_t blk[3] = {(uint32_t)fd, (uint32_t)buf, n};
    return sh_call(SH_SYS_READ, blk);
}

static inline int32_t sh_flen(int32_t fd)
{
    uint32_t blk[1] = {(uint32_t)fd};
    return sh_call(SH_SYS_FLEN, blk);
}

static inline int32_t sh_close(int32_t fd)
{
    uint32_t blk[1] = {(uint32_t)fd};
    return sh_call(SH_SYS_CLOSE, blk);
}

/* Ends QEMU with exit status code & 0xFF (SYS_EXIT_EXTENDED: plain SYS_EXIT cannot carry a code
 * on AArch32). */
__attribute__((noreturn)) static inline void sh_exit(uint32_t code)
{
    uint32_t blk[2] = {SH_ADP_STOPPED_APPLICATION_EXIT, code};
    sh_call(SH_SYS_EXIT_EXTENDED, blk);
    for (;;) {
    }
}

/* A line buffer printed with one SYS_WRITE0 per flush. */
typedef struct sh_line {
    char buf[512];
    unsigned len;
} sh_line;

void sh_line_str(sh_line *l, const char *s);
void sh_line_u32(sh_line *l, uint32_t v);
void sh_line_i32(sh_line *l, int32_t v);
void sh_line_hex(sh_line *l, uint32_t v);
void sh_line_flush(sh_line *l);

void sh_put_u32(uint32_t v);
void sh_put_hex(uint32_t v);

#endif
