/* Console helpers over semihosting: decimal and hex without printf (newlib's stdio would need
 * syscall stubs and several KB of flash). Used by startup.c's fault reports, the generated
 * firmware's harness and tests/target. */
#include "semihost.h"

void sh_line_flush(sh_line *l)
{
    l->buf[l->len] = 0;
    if (l->len) sh_puts(l->buf);
    l->len = 0;
}

static void line_char(sh_line *l, char c)
{
    if (l->len + 1 >= sizeof l->buf) sh_line_flush(l);
    l->buf[l->len++] = c;
}

void sh_line_str(sh_line *l, const char *s)
{
    while (*s)
        line_char(l, *s++);
}

void sh_line_u32(sh_line *l, uint32_t v)
{
    char b[11];
    int i = 10;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    sh_line_str(l, &b[i]);
}

void sh_line_i32(sh_line *l, int32_t v)
{
    if (v < 0) {
        line_char(l, '-');
        sh_line_u32(l, 0u - (uint32_t)v);
    } else {
        sh_line_u32(l, (uint32_t)v);
    }
}

void sh_line_hex(sh_line *l, uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    line_char(l, '0');
    line_char(l, 'x');
    for (int i = 0; i < 8; i++)
        line_char(l, hex[(v >> (28 - 4 * i)) & 15u]);
}

void sh_put_u32(uint32_t v)
{
    sh_line l;
    l.len = 0;
    sh_line_u32(&l, v);
    sh_line_flush(&l);
}

void sh_put_hex(uint32_t v)
{
    sh_line l;
    l.len = 0;
    sh_line_hex(&l, v);
    sh_line_flush(&l);
}
