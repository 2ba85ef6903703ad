/* The compiler flags a firmware project accepts (--opt, --cflags, deploy.opt): config.mk's recipes
 * run through /bin/sh, so every flag must match an allow-list of option shapes, and flags that
 * would make float results differ from the host's are refused (mf_deploy.h
 * mf_deploy_check_flags). */
#include <stdio.h>
#include <string.h>

#include "mf_deploy.h"

static int is_lower_or_digit(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
    return is_lower_or_digit(c) || (c >= 'A' && c <= 'Z');
}

/* At least one character of [a-z0-9-] (plus those in `more`) from *p on; *p moves past them. */
static int span_name(const char **p, const char *end, const char *more)
{
    const char *s = *p;
    while (*p < end && (is_lower_or_digit(**p) || **p == '-' || (more && strchr(more, **p))))
        (*p)++;
    return *p > s;
}

/* "=VALUE" with VALUE of at least `min` characters of letters, digits and `more`, up to end. */
static int value_ok(const char *p, const char *end, const char *more, int min)
{
    if (p == end) return 1;
    if (*p++ != '=') return 0;
    if (end - p < min) return 0;
    for (; p < end; p++)
        if (!is_alnum(*p) && !strchr(more, *p)) return 0;
    return 1;
}

/* One flag, [p, end): the allowed shapes of mf_deploy_check_flags. */
static int flag_ok(const char *p, const char *end)
{
    if (end - p < 2 || p[0] != '-') return 0;
    const char kind = p[1];
    const char *q = p + 2;
    switch (kind) {
    case 'O':
        return end - q == 1 && strchr("0123sgz", *q);
    case 'g':
        return q == end;
    case 'f':
    case 'W':
        return span_name(&q, end, NULL) && value_ok(q, end, "_.,-", 1);
    case 'm':
        return span_name(&q, end, "=.") && q == end;
    case 'D':
        if (q == end || !((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || *q == '_'))
            return 0;
        while (q < end && (is_alnum(*q) || *q == '_'))
            q++;
        return value_ok(q, end, "_.-", 0);
    default:
        return 0;
    }
}

/* Flags of the allowed shapes that would still break the bit-exact contract with the host
 * (float contraction, fast math, reassociation) or load a compiler plugin. */
static int flag_changes_float(const char *p, const char *end)
{
    static const char *const refused[] = {"-ffast-math",
                                          "-ffp-contract",
                                          "-funsafe-math",
                                          "-fassociative-math",
                                          "-freciprocal-math",
                                          "-fno-signed-zeros",
                                          "-fno-trapping-math",
                                          "-ffinite-math",
                                          "-fplugin",
                                          "-fno-fast-math",
                                          "-Ofast"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        size_t n = strlen(refused[i]);
        if ((size_t)(end - p) >= n && !strncmp(p, refused[i], n)) return 1;
    }
    return 0;
}

/* value quoted for a message: control characters and backslashes escaped, cut to fit. */
static const char *quote_for_message(const char *value, char *buf, size_t size)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)value; *c && n + 8 < size; c++) {
        if (*c == '\n')
            n += (size_t)snprintf(buf + n, size - n, "\\n");
        else if (*c == '\t')
            n += (size_t)snprintf(buf + n, size - n, "\\t");
        else if (*c == '\\')
            n += (size_t)snprintf(buf + n, size - n, "\\\\");
        else if (*c < 0x20 || *c == 0x7f)
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", *c);
        else
            buf[n++] = (char)*c;
    }
    buf[n] = '\0';
    return buf;
}

int mf_deploy_check_flags(const char *field, const char *flags, mf_error *err)
{
    if (!flags) return MF_OK;
    for (const char *p = flags; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        const char *end = strchr(p, ' ');
        if (!end) end = p + strlen(p);
        if (flag_changes_float(p, end)) {
            char tok[300];
            snprintf(tok, sizeof tok, "%.*s", (int)(end - p < 200 ? end - p : 200), p);
            return mf_error_set(err,
                                "%s: '%s' would change floating-point results or load code into "
                                "the compiler: the firmware must compute what the host computes "
                                "(DESIGN.md §13: -ffp-contract=off, no fast math)",
                                field && *field ? field : "compiler flags", tok);
        }
        if (!flag_ok(p, end)) {
            char v[300], f[300], tok[300];
            snprintf(tok, sizeof tok, "%.*s", (int)(end - p < 200 ? end - p : 200), p);
            return mf_error_set(
                err,
                "%s '%s': '%s' is not an accepted compiler flag (accepted, separated by spaces: "
                "-O0|1|2|3|s|g|z, -g, -fNAME[=VALUE], -mNAME, -WNAME[=VALUE], -DMACRO[=VALUE]; "
                "NAME of a-z 0-9 -, VALUE of letters, digits and _ . , -)",
                field && *field ? field : "compiler flags", quote_for_message(flags, v, sizeof v),
                quote_for_message(tok, f, sizeof f));
        }
        p = end;
    }
    return MF_OK;
}
