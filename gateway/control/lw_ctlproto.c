/* SPDX-License-Identifier: Apache-2.0 */
/* Control-socket framing and request validation. */
#include "lw_ctlproto.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "lw_error.h"

long lw_ctl_take(const uint8_t *buf, size_t len, const uint8_t **body, size_t *body_len)
{
    if (len < 4)
        return 0;
    uint32_t n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    if (n == 0)
        return LW_ERR_INVAL;
    if (n > LW_CTL_MAX_MSG)
        return LW_ERR_TOOBIG;
    if (len - 4 < n)
        return 0;
    *body = buf + 4;
    *body_len = n;
    return (long)n + 4;
}

void lw_ctl_header(uint8_t out[4], uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

int lw_ctl_parse_request(const uint8_t *body, size_t len, char *cmd, size_t cmdcap, cJSON **req,
                         char *why, size_t whycap)
{
    cJSON *o = cJSON_ParseWithLength((const char *)body, len);
    int rc = LW_ERR_INVAL;
    if (!o || !cJSON_IsObject(o)) {
        snprintf(why, whycap, "request is not a JSON object");
        goto done;
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "cmd");
    if (!cJSON_IsString(c) || !c->valuestring[0]) {
        snprintf(why, whycap, "request lacks a \"cmd\" string");
        goto done;
    }
    size_t n = strlen(c->valuestring);
    if (n >= cmdcap || strspn(c->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789-") != n) {
        snprintf(why, whycap, "\"cmd\" must be a short lower-case word");
        goto done;
    }
    memcpy(cmd, c->valuestring, n + 1);
    rc = LW_OK;
    if (req) {
        *req = o;
        o = NULL;
    }
done:
    cJSON_Delete(o);
    return rc;
}
