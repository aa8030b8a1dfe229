/* SPDX-License-Identifier: Apache-2.0 */
/* Permission checks, so keys and readings are never left world-readable by mistake. */
#include "lw_secrets.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lw_error.h"

int lw_check_private(const char *path, const char *what, char *err, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT
                   ? LW_OK
                   : (snprintf(err, cap, "%s: %s: %s", path, what, strerror(errno)), LW_ERR_IO);
    if (st.st_mode & S_IRWXO) {
        snprintf(err, cap,
                 "%s: %s is accessible to other users (mode %04o); fix with: chmod o-rwx %s", path,
                 what, (unsigned)(st.st_mode & 07777), path);
        return LW_ERR_CONFIG;
    }
    return LW_OK;
}
