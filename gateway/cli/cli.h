/* SPDX-License-Identifier: Apache-2.0 */
/* Shared parts of the lorawatch CLI: exit statuses, the control-socket client, and the command
 * entry points, one file per family of commands (status/keygen here in lorawatch.c, nodes in
 * cli_nodes.c, alerts in cli_alerts.c, history and reports in cli_review.c ...). */
#ifndef LW_CLI_H
#define LW_CLI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#define CLI_DEFAULT_METRICS "/run/lorawatch/metrics.prom"
#define CLI_DEFAULT_SOCKET  "/run/lorawatch/control.sock"
#define CLI_DEFAULT_CONFIG  "/etc/lorawatch/lorawatch.conf"

/* Exit statuses, as documented in lorawatch(1). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,        /* the request failed (bad data, database or I/O error) */
    CLI_EXIT_USAGE = 2,       /* bad command line */
    CLI_EXIT_NOT_RUNNING = 3, /* the daemon is not running (or its figures are stale) */
    CLI_EXIT_NOT_FOUND = 4,   /* no such node, alert, place ... */
    CLI_EXIT_DENIED = 5,      /* permission denied (socket or database) */
    CLI_EXIT_TIMEOUT = 6,     /* waited in vain (pairing window closed, no answer) */
    CLI_EXIT_CONFLICT = 7,    /* refused because of the current state (duplicate EUI/key,
                               * retired node, alert already cleared ...) */
};

/* Options given before the command (lorawatch -s SOCK nodes): the defaults of the command's own
 * --socket, --db and --config, which win when given too. NULL when not given. */
struct cli_globals {
    const char *socket, *db, *config;
};
extern struct cli_globals cli_global;

/* The control socket: --socket, else the global -s, else $LORAWATCH_SOCKET, else the default. */
const char *cli_socket_path(const char *opt);

/* Send req (a JSON object with "cmd") to the daemon and wait up to timeout_s for its reply.
 * Returns the reply object when it says "ok": true (caller deletes it). Otherwise prints one
 * line "lorawatch PROG: ..." saying what went wrong and what to do, sets *exit_code (NOT_RUNNING
 * when nobody listens, DENIED when the socket refuses us, else the reply's "code" mapped as
 * above, FAIL by default) and returns NULL. With quiet_unreachable no line is printed when the
 * daemon is not running (the caller has a fallback). */
cJSON *cli_call(const char *prog, const char *socket_path, const cJSON *req, int timeout_s,
                bool quiet_unreachable, int *exit_code);

/* Exit status for a reply's "code" string ("not_found", "conflict", "denied", "timeout",
 * "usage"; anything else: FAIL). */
int cli_exit_for_code(const char *code);
/* After the options: any argument left from argv[first] on is refused ("lorawatch CMD: unexpected
 * argument 'X'"): CLI_EXIT_USAGE, else 0. */
int cli_no_more_args(const char *cmd, int argc, char **argv, int first);

/* Print a JSON value indented, then a newline. */
void cli_print_json(const cJSON *v);

/* Reading replies: a string field ("" when absent), a number field (false when absent). */
const char *cli_jstr(const cJSON *o, const char *name);
bool cli_jnum(const cJSON *o, const char *name, double *out);
/* Unix milliseconds as local time: "2026-07-21 03:12:00", or "07-21 03:12:00" for tables. */
void cli_local_time(double unix_ms, bool with_date, char *out, size_t cap);

/* The --help lines of the options every control-socket command takes. */
#define CLI_SOCKET_HELP                                                                            \
    "  -s, --socket PATH  the daemon's control socket (default $LORAWATCH_SOCKET, else\n"          \
    "                     " CLI_DEFAULT_SOCKET ")\n"                                               \
    "  -j, --json         print the daemon's reply as JSON\n"                                      \
    "  -h, --help         print this help\n"

/* cli_qr.c: text as a QR code (byte mode, level M, four modules of margin). cli_qr_text draws it
 * with UTF-8 half blocks, dark modules as ink on a light ground (color: set both with ANSI
 * colours, for a terminal); cli_qr_png writes a greyscale PNG, scale pixels a module. 0, or -1
 * (cli_qr_png: with why). */
int cli_qr_text(const char *text, FILE *out, bool color);
int cli_qr_png(const char *text, const char *path, int scale, char *why, size_t whycap);

/* Command entry points: argv[0] is the command name; return an exit status. */
int cli_status(int argc, char **argv);
int cli_keygen(int argc, char **argv);
/* cli_review.c: read-only on the database file */
int cli_history(int argc, char **argv);
int cli_events(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_backup(int argc, char **argv);

/* A family of commands in its own file: a table ending with a NULL name. */
struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for lorawatch --help */
};
extern const struct cli_command cli_node_commands[];  /* cli_nodes.c */
extern const struct cli_command cli_alert_commands[]; /* cli_alerts.c */
extern const struct cli_command cli_radio_commands[]; /* cli_radio.c */

#endif
