/* SPDX-License-Identifier: Apache-2.0 */
/* Control-socket messages: a 4-byte big-endian length, then that many bytes of UTF-8 JSON, one
 * object per message. Requests are {"cmd": NAME, ...}; replies {"ok": true, ...} or
 * {"ok": false, "error": TEXT}. Pure framing and validation, no I/O. */
#ifndef LW_CTLPROTO_H
#define LW_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#define LW_CTL_MAX_MSG 65536 /* larger messages are refused and the connection closed */

/* Find one complete message at the start of buf. Returns bytes consumed (header + body) with
 * body and body_len set, 0 when more bytes are needed, or LW_ERR_TOOBIG when the announced length
 * exceeds LW_CTL_MAX_MSG or is zero (LW_ERR_INVAL). */
long lw_ctl_take(const uint8_t *buf, size_t len, const uint8_t **body, size_t *body_len);

/* Write the 4-byte header for a body of len bytes. */
void lw_ctl_header(uint8_t out[4], uint32_t len);

/* Validate a request body: a JSON object whose "cmd" is a string naming a command (lower-case
 * letters, digits, '-'); copies it into cmd. On LW_OK *req (when req is not NULL) is the parsed
 * object, for the caller to cJSON_Delete; LW_ERR_INVAL with a reason in why otherwise. */
struct cJSON;
int lw_ctl_parse_request(const uint8_t *body, size_t len, char *cmd, size_t cmdcap,
                         struct cJSON **req, char *why, size_t whycap);

#endif
