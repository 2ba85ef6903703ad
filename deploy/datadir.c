/* Where deploy reads the runtime sources (runtime/) and the board templates (deploy/board/)
 * from: the source tree, or the data folder `cmake --install` writes (PREFIX/share/mcuforge, the
 * same layout). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deploy_util.h"

const char *mf_deploy_data_dir(const char *compiled_in)
{
    const char *env = getenv("MCUFORGE_SOURCE_DIR");
    if (env && *env) return env;
    /* an installed mcuforge: PREFIX/bin/mcuforge next to PREFIX/share/mcuforge */
    static char dir[PATH_MAX + 32];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(dir, sizeof dir, "%s/../share/mcuforge", exe);
            struct stat st;
            if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return dir;
        }
    }
    return compiled_in;
}
