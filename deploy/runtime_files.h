/* Private to deploy/: the runtime sources of a firmware (runtime_files.c). */
#ifndef MF_DEPLOY_RUNTIME_FILES_H
#define MF_DEPLOY_RUNTIME_FILES_H

#include "mf_error.h"

typedef struct rt_file {
    char name[256];
    char *text;
    int is_c, used;
} rt_file;

/* Reads every .c and .h of SOURCE_DIR/runtime, sorted by name. */
int mf_rt_files_load(const char *source_dir, rt_file **out, int *n_out, mf_error *err);
void mf_rt_files_free(rt_file *f, int n);
/* The .c file defining the non-static function sym, or -1. */
int mf_rt_file_defining(rt_file *f, int nf, const char *sym);
/* Marks file k and every .c file defining an identifier it uses (transitively) as used. */
void mf_rt_mark_uses(rt_file *f, int nf, int k);

#endif
