/* SPDX-License-Identifier: Apache-2.0 */
/* File permission checks for secrets: node keys, the MQTT password and TLS key, the database. */
#ifndef LW_SECRETS_H
#define LW_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

/* LW_OK when path does not exist or gives "others" no access at all; LW_ERR_CONFIG otherwise,
 * with the reason and the fix written into err. */
int lw_check_private(const char *path, const char *what, char *err, size_t cap);

#endif
