/* SPDX-License-Identifier: Apache-2.0 */
/* Semtech UDP packet-forwarder protocol v2, server side: field layout and JSON follow Semtech's
 * PROTOCOL.TXT (Lora-net/packet_forwarder v1.3+) and PROTOCOL.md (Lora-net/sx1302_hal). */
#include "lw_semtech.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "lw_error.h"

/* PROTOCOL.TXT 3.2, 5.2, 5.5: upstream datagrams carry the gateway EUI at bytes 4-11. */
#define UP_FIXED_LEN (LW_SEMTECH_HDR_LEN + LW_SEMTECH_EUI_LEN)
/* A 255-byte payload is 340 base64 characters (padded); room for the padding we may add. */
#define B64_MAX_CHARS 340

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *lw_semtech_id_name(uint8_t id)
{
    switch (id) {
    case LW_SEMTECH_PUSH_DATA:
        return "PUSH_DATA";
    case LW_SEMTECH_PUSH_ACK:
        return "PUSH_ACK";
    case LW_SEMTECH_PULL_DATA:
        return "PULL_DATA";
    case LW_SEMTECH_PULL_RESP:
        return "PULL_RESP";
    case LW_SEMTECH_PULL_ACK:
        return "PULL_ACK";
    case LW_SEMTECH_TX_ACK:
        return "TX_ACK";
    default:
        return "unknown";
    }
}

int lw_semtech_parse_up(const uint8_t *buf, size_t len, struct lw_semtech_up *up)
{
    memset(up, 0, sizeof(*up));
    if (!buf || len < LW_SEMTECH_HDR_LEN)
        return LW_ERR_TRUNCATED;
    if (len > LW_SEMTECH_MAX_DGRAM)
        return LW_ERR_TOOBIG;
    if (buf[0] != LW_SEMTECH_VERSION)
        return LW_ERR_VERSION;
    up->token = (uint16_t)(buf[1] << 8 | buf[2]);
    up->id = buf[3];
    if (up->id != LW_SEMTECH_PUSH_DATA && up->id != LW_SEMTECH_PULL_DATA &&
        up->id != LW_SEMTECH_TX_ACK)
        return LW_ERR_TYPE;
    if (len < UP_FIXED_LEN)
        return LW_ERR_TRUNCATED;
    memcpy(up->eui, buf + LW_SEMTECH_HDR_LEN, LW_SEMTECH_EUI_LEN);
    up->json = buf + UP_FIXED_LEN;
    up->json_len = len - UP_FIXED_LEN;
    if (up->id == LW_SEMTECH_PULL_DATA && up->json_len != 0)
        return LW_ERR_INVAL;
    if (up->id == LW_SEMTECH_PUSH_DATA && up->json_len == 0)
        return LW_ERR_TRUNCATED;
    return LW_OK;
}

/* Only whitespace or NUL padding (some forwarders send the C string's terminator) may follow. */
static bool only_padding(const uint8_t *p, const uint8_t *end)
{
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\0')
            return false;
    return true;
}

/* One JSON object spanning the buffer, or NULL. */
static cJSON *parse_object(const uint8_t *json, size_t len)
{
    if (!json || len == 0)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)json, len, &end, 0);
    if (!root)
        return NULL;
    if (!cJSON_IsObject(root) || !end || (const uint8_t *)end < json ||
        (const uint8_t *)end > json + len || !only_padding((const uint8_t *)end, json + len)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* A finite number member, or false. */
static bool get_number(const cJSON *o, const char *name, double *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return false;
    *v = it->valuedouble;
    return true;
}

/* An integral number member in [min, max], or false. */
static bool get_int(const cJSON *o, const char *name, double min, double max, int64_t *v)
{
    double d;
    if (!get_number(o, name, &d) || d != floor(d) || d < min || d > max)
        return false;
    *v = (int64_t)d;
    return true;
}

/* Unsigned decimal of 1..max_digits digits at *s; advances *s. */
static bool take_uint(const char **s, int max_digits, unsigned *out)
{
    unsigned v = 0;
    int n = 0;
    while (**s >= '0' && **s <= '9' && n < max_digits) {
        v = v * 10 + (unsigned)(**s - '0');
        (*s)++;
        n++;
    }
    if (n == 0 || (**s >= '0' && **s <= '9'))
        return false;
    *out = v;
    return true;
}

/* LoRa "datr": "SF" spreading factor "BW" bandwidth in kHz, e.g. "SF9BW125" (PROTOCOL.TXT 4). */
static bool parse_datr(const char *s, uint8_t *sf, uint32_t *bw_hz)
{
    unsigned f, bw;
    if (strncmp(s, "SF", 2) != 0)
        return false;
    s += 2;
    if (!take_uint(&s, 2, &f) || strncmp(s, "BW", 2) != 0)
        return false;
    s += 2;
    if (!take_uint(&s, 3, &bw) || *s != '\0')
        return false;
    if (f < 5 || f > 12 || (bw != 125 && bw != 250 && bw != 500))
        return false;
    *sf = (uint8_t)f;
    *bw_hz = bw * 1000u;
    return true;
}

/* LoRa "codr": "4/5".."4/8". ("OFF", a false sync of the SX1302, is refused.) */
static bool parse_codr(const char *s, uint8_t *cr)
{
    if (strlen(s) != 3 || s[0] != '4' || s[1] != '/' || s[2] < '5' || s[2] > '8')
        return false;
    *cr = (uint8_t)(s[2] - '0');
    return true;
}

/* Base64 (standard alphabet; padded as PROTOCOL.TXT says for rxpk, unpadded also accepted) into
 * out through OpenSSL. Returns the byte count or -1. */
static int b64_decode(const char *s, uint8_t *out, size_t outcap)
{
    size_t n = strlen(s);
    size_t pad = 0;
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
        pad++;
    size_t body = n - pad;
    if (n == 0 || n > B64_MAX_CHARS || strspn(s, b64_alphabet) != body)
        return -1;
    char padded[B64_MAX_CHARS + 4];
    memcpy(padded, s, body);
    size_t total = body;
    while (total % 4 != 0)
        padded[total++] = '=';
    if (body % 4 == 1 || (pad && total != n))
        return -1; /* impossible length, or padding that does not complete a group */
    size_t missing = total - body;
    uint8_t tmp[(B64_MAX_CHARS + 4) / 4 * 3];
    int got = EVP_DecodeBlock(tmp, (const unsigned char *)padded, (int)total);
    if (got < 0 || (size_t)got < missing)
        return -1;
    /* EVP_DecodeBlock counts the zero bytes that padding stands for: take them off. */
    size_t len = (size_t)got - missing;
    if (len > outcap)
        return -1;
    memcpy(out, tmp, len);
    return (int)len;
}

enum rxpk_verdict { RX_OK, RX_CRC_BAD, RX_CRC_NONE, RX_NOT_LORA, RX_INVALID };

/* Check one rxpk object (PROTOCOL.TXT section 4) and fill r. */
static enum rxpk_verdict parse_rxpk(const cJSON *o, struct lw_semtech_rxpk *r)
{
    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(o))
        return RX_INVALID;
    int64_t stat, size, tmst = 0;
    if (!get_int(o, "stat", -1, 1, &stat))
        return RX_INVALID;
    if (stat == -1)
        return RX_CRC_BAD;
    if (stat == 0)
        return RX_CRC_NONE;
    const char *modu = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "modu"));
    if (!modu)
        return RX_INVALID;
    if (strcmp(modu, "FSK") == 0)
        return RX_NOT_LORA;
    if (strcmp(modu, "LORA") != 0)
        return RX_INVALID;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time");
    if (t && !cJSON_IsString(t))
        return RX_INVALID;
    if (cJSON_GetObjectItemCaseSensitive(o, "tmst") && !get_int(o, "tmst", 0, 4294967295.0, &tmst))
        return RX_INVALID;
    r->tmst = (uint32_t)tmst;
    double freq, rssi, lsnr;
    if (!get_number(o, "freq", &freq) || freq <= 0 || freq > 3000)
        return RX_INVALID;
    r->freq_hz = (uint32_t)llround(freq * 1e6);
    const char *datr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "datr"));
    const char *codr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "codr"));
    if (!datr || !parse_datr(datr, &r->sf, &r->bw_hz) || !codr || !parse_codr(codr, &r->cr))
        return RX_INVALID;
    /* "rssi" is the channel RSSI (the only one an SX1301 reports); an SX1302 adds the signal
     * RSSI "rssis". Prefer rssi so readings compare across concentrator generations. */
    if (!get_number(o, "rssi", &rssi) && !get_number(o, "rssis", &rssi))
        return RX_INVALID;
    if (rssi < -200 || rssi > 50 || !get_number(o, "lsnr", &lsnr) || lsnr < -50 || lsnr > 50)
        return RX_INVALID;
    r->rssi_x10 = (int16_t)lround(rssi * 10);
    r->snr_x10 = (int16_t)lround(lsnr * 10);
    if (!get_int(o, "size", 1, LW_FRAME_MAX_LEN, &size))
        return RX_INVALID;
    const char *data = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "data"));
    int got = data ? b64_decode(data, r->data, sizeof(r->data)) : -1;
    if (got < 0 || got != size)
        return RX_INVALID;
    r->len = (size_t)got;
    return RX_OK;
}

int lw_semtech_parse_push(const uint8_t *json, size_t len, struct lw_semtech_rxpk *out, size_t cap,
                          size_t *n, struct lw_semtech_push_counts *c)
{
    *n = 0;
    cJSON *root = parse_object(json, len);
    if (!root)
        return LW_ERR_INVAL;
    const cJSON *rxpk = cJSON_GetObjectItemCaseSensitive(root, "rxpk");
    const cJSON *stat = cJSON_GetObjectItemCaseSensitive(root, "stat");
    if ((rxpk && !cJSON_IsArray(rxpk)) || (stat && !cJSON_IsObject(stat))) {
        cJSON_Delete(root);
        return LW_ERR_INVAL;
    }
    if (stat)
        c->stat_objs++;
    const cJSON *it;
    cJSON_ArrayForEach(it, rxpk)
    {
        struct lw_semtech_rxpk tmp;
        c->rxpk++;
        switch (parse_rxpk(it, &tmp)) {
        case RX_OK:
            if (*n < cap) {
                out[(*n)++] = tmp;
                c->accepted++;
            } else {
                c->overflow++;
            }
            break;
        case RX_CRC_BAD:
            c->crc_bad++;
            break;
        case RX_CRC_NONE:
            c->crc_none++;
            break;
        case RX_NOT_LORA:
            c->not_lora++;
            break;
        case RX_INVALID:
            c->invalid++;
            break;
        }
    }
    cJSON_Delete(root);
    return LW_OK;
}

int lw_semtech_parse_tx_ack(const uint8_t *json, size_t len, char *error, size_t errcap)
{
    if (errcap)
        error[0] = '\0';
    /* PROTOCOL.md 5.5: no JSON (empty string) means no error occurred. */
    if (len == 0 || only_padding(json, json + len))
        return LW_OK;
    cJSON *root = parse_object(json, len);
    if (!root)
        return LW_ERR_INVAL;
    const cJSON *ack = cJSON_GetObjectItemCaseSensitive(root, "txpk_ack");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(ack, "error");
    int rc = LW_OK;
    if (!cJSON_IsObject(ack) || (err && !cJSON_IsString(err)))
        rc = LW_ERR_INVAL;
    else if (err && strcmp(err->valuestring, "NONE") != 0 && errcap)
        snprintf(error, errcap, "%s", err->valuestring);
    cJSON_Delete(root);
    return rc;
}

void lw_semtech_build_ack(uint8_t id, uint16_t token, uint8_t out[LW_SEMTECH_ACK_LEN])
{
    out[0] = LW_SEMTECH_VERSION;
    out[1] = (uint8_t)(token >> 8);
    out[2] = (uint8_t)token;
    out[3] = id;
}

int lw_semtech_build_pull_resp(uint16_t token, const struct lw_semtech_txpk *tx, uint8_t *out,
                               size_t cap)
{
    if (!tx || !tx->data || tx->len == 0 || tx->len > LW_FRAME_MAX_LEN || tx->sf < 5 ||
        tx->sf > 12 || (tx->bw_hz != 125000 && tx->bw_hz != 250000 && tx->bw_hz != 500000) ||
        tx->cr < 5 || tx->cr > 8 || tx->freq_hz == 0)
        return LW_ERR_INVAL;
    char b64[B64_MAX_CHARS + 1];
    EVP_EncodeBlock((unsigned char *)b64, tx->data, (int)tx->len);
    if (cap < LW_SEMTECH_HDR_LEN)
        return LW_ERR_TOOBIG;
    lw_semtech_build_ack(LW_SEMTECH_PULL_RESP, token, out);
    /* Frequency printed from integer Hz, so it is exact (PROTOCOL.TXT 6: MHz, Hz precision). */
    size_t room = cap - LW_SEMTECH_HDR_LEN;
    int n = snprintf((char *)out + LW_SEMTECH_HDR_LEN, room,
                     "{\"txpk\":{\"imme\":true,\"freq\":%u.%06u,\"rfch\":0,\"powe\":%u,"
                     "\"modu\":\"LORA\",\"datr\":\"SF%uBW%u\",\"codr\":\"4/%u\",\"ipol\":%s,"
                     "\"size\":%zu,\"data\":\"%s\"}}",
                     tx->freq_hz / 1000000u, tx->freq_hz % 1000000u, (unsigned)tx->power_dbm,
                     (unsigned)tx->sf, tx->bw_hz / 1000u, (unsigned)tx->cr,
                     tx->ipol ? "true" : "false", tx->len, b64);
    /* The JSON is sent without its C terminator, as lora_pkt_fwd does. */
    if (n < 0 || (size_t)n >= room)
        return LW_ERR_TOOBIG;
    return LW_SEMTECH_HDR_LEN + n;
}
