/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's configuration loader: one INI file parsed into a validated struct lw_config
 * (lw_model.h). Scalar keys come from a single table (name, type, default, bounds, help) that
 * drives parsing, validation and --help. */
#ifndef LW_CONFIG_H
#define LW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lw_model.h"

struct lw_radio_settings;

/* Where configuration errors go: one call per problem, already formatted as
 * "FILE:LINE: [section] key: message". */
typedef void (*lw_config_error_fn)(void *arg, const char *msg);

/* Load and validate. Every problem is reported through err (default: stderr) and loading goes on
 * so all of them show. Returns NULL when anything was wrong. */
struct lw_config *lw_config_load(const char *path, lw_config_error_fn err, void *arg);
/* Same, from text in memory; name is used in messages (for tests and the fuzzer). */
struct lw_config *lw_config_parse(const char *name, const char *text, size_t len,
                                  lw_config_error_fn err, void *arg);
void lw_config_free(struct lw_config *cfg);

/* For a reload: settings that only take effect at start (everything but log_level, nodes and
 * rules) keep the running values; each one that differs is reported through note. */
void lw_config_keep_restart_keys(const struct lw_config *running, struct lw_config *next,
                                 void (*note)(void *arg, const char *section, const char *key),
                                 void *arg);

/* Resolve cfg into the radio settings of a chip backend (lw_presets.h), board and region applied
 * (lw_config_radio.c). LW_OK, or LW_ERR_CONFIG with the first problem in why (the configuration
 * loader reports each problem at its line before this is ever called). */
int lw_radio_settings_from_config(const struct lw_config *cfg, struct lw_radio_settings *out,
                                  char *why, size_t cap);

/* Settings that load but are wrong for a gateway in service (lw_config_warn.c): the radio never
 * chosen or the simulator's, node keys published in lorawatch's examples, no duty roster. One
 * call per warning, formatted like the errors ("FILE:LINE: [section] key: message", without
 * LINE when no line says it). Returns how many there were. */
size_t lw_config_warnings(const struct lw_config *cfg, lw_config_error_fn warn, void *arg);
/* Whether the file chose a radio: [radio] backend, board, or a sim_* key (the simulator). The
 * daemon refuses to start without one. */
bool lw_config_radio_chosen(const struct lw_config *cfg);

/* Print every scalar key with default, range and meaning (for --help-config and the man page). */
void lw_config_print_keys(FILE *out);

#endif
