/* Argument parsing shared by the subcommands (commands.h): strict numbers, option values and
 * usage errors. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mcuforge %s: ", verb);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'mcuforge %s --help')\n", verb);
    va_end(ap);
    return 2;
}

const char *cli_value(const char *verb, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_usage_error(verb, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_int(const char *verb, const char *arg, const char *value, long lo, long hi, int *out)
{
    /* an optional '-' and decimal digits, nothing else (strtol alone skips spaces, takes '+'
     * and stops at the first other character) */
    const char *digits = value[0] == '-' ? value + 1 : value;
    size_t n = strspn(digits, "0123456789");
    errno = 0;
    long v = n && !digits[n] ? strtol(value, NULL, 10) : 0;
    if (!n || digits[n] || errno == ERANGE || v < lo || v > hi)
        return cli_usage_error(verb, "%s '%s': expected an integer from %ld to %ld", arg, value, lo,
                               hi);
    *out = (int)v;
    return 0;
}

int cli_parse_double(const char *verb, const char *arg, const char *value, double lo, double hi,
                     double *out)
{
    /* decimal notation only: digits, '.', an exponent and signs (no spaces, hex, nan, inf) */
    size_t n = strspn(value, "0123456789.eE+-");
    char *end = NULL;
    errno = 0;
    double v = n && !value[n] ? strtod(value, &end) : NAN;
    if (!n || value[n] || !end || *end || errno == ERANGE || !isfinite(v) || v < lo || v > hi)
        return cli_usage_error(verb, "%s '%s': expected a finite number from %g to %g", arg, value,
                               lo, hi);
    *out = v;
    return 0;
}
