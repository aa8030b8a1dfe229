/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_semtech (Semtech UDP packet-forwarder protocol v2, byte for byte as PROTOCOL.TXT
 * lays it out) and of the udp-forwarder radio backend over loopback sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_radio.h"
#include "lw_semtech.h"

static const uint8_t eui[8] = {0xAA, 0x55, 0x5A, 0x00, 0x00, 0x00, 0x01, 0x01};

/* Datagram: version, token, id, then EUI when with_eui, then text. */
static size_t dgram(uint8_t *out, uint8_t version, uint16_t token, uint8_t id, bool with_eui,
                    const char *text)
{
    size_t n = 0;
    out[n++] = version;
    out[n++] = (uint8_t)(token >> 8);
    out[n++] = (uint8_t)token;
    out[n++] = id;
    if (with_eui) {
        memcpy(out + n, eui, sizeof(eui));
        n += sizeof(eui);
    }
    if (text) {
        memcpy(out + n, text, strlen(text));
        n += strlen(text);
    }
    return n;
}

/* ---- upstream header -------------------------------------------------------------------- */

static void test_pull_data_bytes(void **state)
{
    const uint8_t b[] = {0x02, 0xAB, 0xCD, 0x02, 0xAA, 0x55, 0x5A, 0x00, 0x00, 0x00, 0x01, 0x01};
    struct lw_semtech_up up;
    (void)state;
    assert_int_equal(lw_semtech_parse_up(b, sizeof(b), &up), LW_OK);
    assert_int_equal(up.id, LW_SEMTECH_PULL_DATA);
    assert_int_equal(up.token, 0xABCD);
    assert_memory_equal(up.eui, eui, 8);
    assert_int_equal(up.json_len, 0);
    /* A PULL_DATA is exactly 12 bytes. */
    uint8_t longer[13];
    memcpy(longer, b, sizeof(b));
    longer[12] = '{';
    assert_int_equal(lw_semtech_parse_up(longer, sizeof(longer), &up), LW_ERR_INVAL);
}

static void test_push_data_and_tx_ack_bytes(void **state)
{
    uint8_t b[128];
    struct lw_semtech_up up;
    (void)state;
    size_t n = dgram(b, 2, 0x0102, 0x00, true, "{\"stat\":{}}");
    assert_int_equal(n, 12 + 11);
    assert_int_equal(lw_semtech_parse_up(b, n, &up), LW_OK);
    assert_int_equal(up.id, LW_SEMTECH_PUSH_DATA);
    assert_int_equal(up.token, 0x0102);
    assert_memory_equal(up.eui, eui, 8);
    assert_ptr_equal(up.json, b + 12);
    assert_int_equal(up.json_len, 11);
    /* TX_ACK: JSON optional. */
    n = dgram(b, 2, 0xFFFF, 0x05, true, NULL);
    assert_int_equal(lw_semtech_parse_up(b, n, &up), LW_OK);
    assert_int_equal(up.id, LW_SEMTECH_TX_ACK);
    assert_int_equal(up.token, 0xFFFF);
    assert_int_equal(up.json_len, 0);
    n = dgram(b, 2, 0x0000, 0x05, true, "{\"txpk_ack\":{\"error\":\"NONE\"}}");
    assert_int_equal(lw_semtech_parse_up(b, n, &up), LW_OK);
    assert_int_equal(up.json_len, 29);
}

static void test_upstream_rejections(void **state)
{
    uint8_t b[LW_SEMTECH_MAX_DGRAM + 2];
    struct lw_semtech_up up;
    (void)state;
    memset(b, 0, sizeof(b));
    assert_int_equal(lw_semtech_parse_up(NULL, 12, &up), LW_ERR_TRUNCATED);
    for (size_t len = 0; len < 4; len++)
        assert_int_equal(lw_semtech_parse_up(b, len, &up), LW_ERR_TRUNCATED);
    /* Version 1 (basic_pkt_fwd) and anything else but 2. */
    for (unsigned v = 0; v < 256; v++) {
        size_t n = dgram(b, (uint8_t)v, 1, 0x02, true, NULL);
        assert_int_equal(lw_semtech_parse_up(b, n, &up), v == 2 ? LW_OK : LW_ERR_VERSION);
    }
    /* Every identifier but the three a forwarder sends: downstream types and unknown ones. */
    for (unsigned id = 0; id < 256; id++) {
        size_t n = dgram(b, 2, 1, (uint8_t)id, true, "{}");
        int rc = lw_semtech_parse_up(b, n, &up);
        if (id == 0x00 || id == 0x05)
            assert_int_equal(rc, LW_OK);
        else if (id == 0x02)
            assert_int_equal(rc, LW_ERR_INVAL); /* PULL_DATA with bytes after the EUI */
        else
            assert_int_equal(rc, LW_ERR_TYPE);
    }
    /* Header present but EUI cut short. */
    for (size_t len = 4; len < 12; len++) {
        dgram(b, 2, 1, 0x00, true, NULL);
        assert_int_equal(lw_semtech_parse_up(b, len, &up), LW_ERR_TRUNCATED);
        dgram(b, 2, 1, 0x02, true, NULL);
        assert_int_equal(lw_semtech_parse_up(b, len, &up), LW_ERR_TRUNCATED);
    }
    /* PUSH_DATA without any JSON. */
    size_t n = dgram(b, 2, 1, 0x00, true, NULL);
    assert_int_equal(lw_semtech_parse_up(b, n, &up), LW_ERR_TRUNCATED);
    /* Oversized. */
    dgram(b, 2, 1, 0x00, true, "{");
    assert_int_equal(lw_semtech_parse_up(b, LW_SEMTECH_MAX_DGRAM, &up), LW_OK);
    assert_int_equal(lw_semtech_parse_up(b, LW_SEMTECH_MAX_DGRAM + 1, &up), LW_ERR_TOOBIG);
}

/* ---- acknowledgements and PULL_RESP ----------------------------------------------------- */

static void test_acks_bytes(void **state)
{
    uint8_t out[4];
    (void)state;
    lw_semtech_build_ack(LW_SEMTECH_PUSH_ACK, 0xBEEF, out);
    assert_memory_equal(out, ((const uint8_t[]){0x02, 0xBE, 0xEF, 0x01}), 4);
    lw_semtech_build_ack(LW_SEMTECH_PULL_ACK, 0x0001, out);
    assert_memory_equal(out, ((const uint8_t[]){0x02, 0x00, 0x01, 0x04}), 4);
}

static void test_pull_resp_bytes(void **state)
{
    uint8_t out[LW_SEMTECH_PULL_RESP_MAX];
    const uint8_t payload[] = "hello"; /* base64 aGVsbG8= */
    struct lw_semtech_txpk tx = {.freq_hz = 470300000,
                                 .sf = 9,
                                 .bw_hz = 125000,
                                 .cr = 5,
                                 .power_dbm = 14,
                                 .ipol = true,
                                 .data = payload,
                                 .len = 5};
    (void)state;
    int n = lw_semtech_build_pull_resp(0x1234, &tx, out, sizeof(out));
    const char *json = "{\"txpk\":{\"imme\":true,\"freq\":470.300000,\"rfch\":0,\"powe\":14,"
                       "\"modu\":\"LORA\",\"datr\":\"SF9BW125\",\"codr\":\"4/5\",\"ipol\":true,"
                       "\"size\":5,\"data\":\"aGVsbG8=\"}}";
    assert_int_equal(n, 4 + (int)strlen(json));
    assert_memory_equal(out, ((const uint8_t[]){0x02, 0x12, 0x34, 0x03}), 4);
    assert_memory_equal(out + 4, json, strlen(json));

    /* Frequency exact to the Hz; the largest payload fits LW_SEMTECH_PULL_RESP_MAX. */
    uint8_t big[255];
    memset(big, 0xFF, sizeof(big));
    tx.freq_hz = 868100001;
    tx.sf = 12;
    tx.bw_hz = 500000;
    tx.cr = 8;
    tx.ipol = false;
    tx.data = big;
    tx.len = sizeof(big);
    n = lw_semtech_build_pull_resp(0, &tx, out, sizeof(out));
    assert_true(n > 4);
    cJSON *root = cJSON_ParseWithLength((const char *)out + 4, (size_t)n - 4);
    assert_non_null(root);
    cJSON *txpk = cJSON_GetObjectItemCaseSensitive(root, "txpk");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(txpk, "datr")), "SF12BW500");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(txpk, "codr")), "4/8");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(txpk, "ipol")));
    assert_int_equal(cJSON_GetObjectItem(txpk, "size")->valueint, 255);
    assert_int_equal(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(txpk, "data"))), 340);
    assert_non_null(strstr((const char *)out + 4, "\"freq\":868.100001,"));
    cJSON_Delete(root);
    /* Too small a buffer. */
    assert_int_equal(lw_semtech_build_pull_resp(0, &tx, out, 100), LW_ERR_TOOBIG);
    assert_int_equal(lw_semtech_build_pull_resp(0, &tx, out, 3), LW_ERR_TOOBIG);
}

static void test_pull_resp_rejections(void **state)
{
    uint8_t out[LW_SEMTECH_PULL_RESP_MAX], p[256] = {0};
    const struct lw_semtech_txpk ok = {
        .freq_hz = 470300000, .sf = 9, .bw_hz = 125000, .cr = 5, .data = p, .len = 1};
    struct lw_semtech_txpk t;
    (void)state;
    assert_true(lw_semtech_build_pull_resp(0, &ok, out, sizeof(out)) > 0);
    assert_int_equal(lw_semtech_build_pull_resp(0, NULL, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.len = 0;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.len = 256;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.data = NULL;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.sf = 13;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.sf = 4;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.bw_hz = 62500;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.cr = 4;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.cr = 9;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
    t = ok, t.freq_hz = 0;
    assert_int_equal(lw_semtech_build_pull_resp(0, &t, out, sizeof(out)), LW_ERR_INVAL);
}

/* ---- PUSH_DATA JSON ---------------------------------------------------------------------- */

struct push {
    struct lw_semtech_rxpk r[8];
    size_t n;
    struct lw_semtech_push_counts c;
};

static int push(struct push *p, const char *json)
{
    memset(p, 0, sizeof(*p));
    return lw_semtech_parse_push((const uint8_t *)json, strlen(json), p->r, 8, &p->n, &p->c);
}

/* One rxpk as lora_pkt_fwd prints it, with FIELD replaced ("" keeps the default). */
static const char *rxpk_with(const char *extra_first)
{
    static char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"rxpk\":[{%s\"tmst\":3512348611,\"time\":\"2013-03-31T16:21:17.528002Z\","
             "\"chan\":2,\"rfch\":0,\"freq\":470.300000,\"stat\":1,\"modu\":\"LORA\","
             "\"datr\":\"SF9BW125\",\"codr\":\"4/5\",\"rssi\":-87,\"lsnr\":7.5,\"size\":5,"
             "\"data\":\"aGVsbG8=\"}]}",
             extra_first);
    return buf;
}

static void test_push_the_documented_example(void **state)
{
    /* PROTOCOL.TXT section 4's example, verbatim: its first data string has '-' (not base64),
     * the second is FSK, the third (unpadded) is a valid 32-byte LoRa packet. */
    const char *doc =
        "{\"rxpk\":[\n\t{\n\t\t\"time\":\"2013-03-31T16:21:17.528002Z\",\n\t\t\"tmst\":3512348611,"
        "\n\t\t\"chan\":2,\n\t\t\"rfch\":0,\n\t\t\"freq\":866.349812,\n\t\t\"stat\":1,\n\t\t"
        "\"modu\":\"LORA\",\n\t\t\"datr\":\"SF7BW125\",\n\t\t\"codr\":\"4/6\",\n\t\t\"rssi\":-35,"
        "\n\t\t\"lsnr\":5.1,\n\t\t\"size\":32,\n\t\t"
        "\"data\":\"-DS4CGaDCdG+48eJNM3Vai-zDpsR71Pn9CPA9uCON84\"\n\t},{\n\t\t"
        "\"time\":\"2013-03-31T16:21:17.530974Z\",\n\t\t\"tmst\":3512348514,\n\t\t\"chan\":9,"
        "\n\t\t\"rfch\":1,\n\t\t\"freq\":869.1,\n\t\t\"stat\":1,\n\t\t\"modu\":\"FSK\",\n\t\t"
        "\"datr\":50000,\n\t\t\"rssi\":-75,\n\t\t\"size\":16,\n\t\t"
        "\"data\":\"VEVTVF9QQUNLRVRfMTIzNA==\"\n\t},{\n\t\t"
        "\"time\":\"2013-03-31T16:21:17.532038Z\",\n\t\t\"tmst\":3316387610,\n\t\t\"chan\":0,"
        "\n\t\t\"rfch\":0,\n\t\t\"freq\":863.00981,\n\t\t\"stat\":1,\n\t\t\"modu\":\"LORA\","
        "\n\t\t\"datr\":\"SF10BW125\",\n\t\t\"codr\":\"4/7\",\n\t\t\"rssi\":-38,\n\t\t"
        "\"lsnr\":5.5,\n\t\t\"size\":32,\n\t\t"
        "\"data\":\"ysgRl452xNLep9S1NTIg2lomKDxUgn3DJ7DE+b00Ass\"\n\t}\n]}";
    struct push p;
    (void)state;
    assert_int_equal(push(&p, doc), LW_OK);
    assert_int_equal(p.c.rxpk, 3);
    assert_int_equal(p.c.invalid, 1);
    assert_int_equal(p.c.not_lora, 1);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.c.accepted, 1);
    const struct lw_semtech_rxpk *r = &p.r[0];
    assert_int_equal(r->tmst, 3316387610u);
    assert_int_equal(r->freq_hz, 863009810);
    assert_int_equal(r->sf, 10);
    assert_int_equal(r->bw_hz, 125000);
    assert_int_equal(r->cr, 7);
    assert_int_equal(r->rssi_x10, -380);
    assert_int_equal(r->snr_x10, 55);
    assert_int_equal(r->len, 32);
    assert_int_equal(r->data[0], 0xCA);
    assert_int_equal(r->data[1], 0xC8);
    assert_int_equal(r->data[31], 0xCB); /* python3 base64: ...bd3402cb */
}

static void test_push_fields(void **state)
{
    struct push p;
    (void)state;
    assert_int_equal(push(&p, rxpk_with("")), LW_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.r[0].tmst, 3512348611u);
    assert_int_equal(p.r[0].freq_hz, 470300000);
    assert_int_equal(p.r[0].sf, 9);
    assert_int_equal(p.r[0].bw_hz, 125000);
    assert_int_equal(p.r[0].cr, 5);
    assert_int_equal(p.r[0].rssi_x10, -870);
    assert_int_equal(p.r[0].snr_x10, 75);
    assert_int_equal(p.r[0].len, 5);
    assert_memory_equal(p.r[0].data, "hello", 5);
    /* SX1302 style: rssis and foff/mid added; rssi (channel) is the one used. */
    assert_int_equal(push(&p, "{\"rxpk\":[{\"jver\":1,\"tmst\":1,\"freq\":470.5,\"chan\":1,"
                              "\"rfch\":0,\"mid\":8,\"stat\":1,\"modu\":\"LORA\","
                              "\"datr\":\"SF12BW500\",\"codr\":\"4/8\",\"rssis\":-101,"
                              "\"lsnr\":-12.3,\"foff\":-120,\"rssi\":-99,\"size\":1,"
                              "\"data\":\"AA==\"}],\"stat\":{\"rxnb\":1}}"),
                     LW_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.c.stat_objs, 1);
    assert_int_equal(p.r[0].rssi_x10, -990);
    assert_int_equal(p.r[0].snr_x10, -123);
    assert_int_equal(p.r[0].sf, 12);
    assert_int_equal(p.r[0].bw_hz, 500000);
    assert_int_equal(p.r[0].data[0], 0);
    /* Only rssis: taken. No tmst/time: fine. Unpadded base64: fine. */
    assert_int_equal(push(&p, "{\"rxpk\":[{\"freq\":470.5,\"stat\":1,\"modu\":\"LORA\","
                              "\"datr\":\"SF7BW250\",\"codr\":\"4/6\",\"rssis\":-60,\"lsnr\":9,"
                              "\"size\":5,\"data\":\"aGVsbG8\"}]}"),
                     LW_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.r[0].rssi_x10, -600);
    assert_int_equal(p.r[0].tmst, 0);
    assert_memory_equal(p.r[0].data, "hello", 5);
}

static void test_push_crc_and_modulation_counted(void **state)
{
    struct push p;
    (void)state;
    assert_int_equal(push(&p, rxpk_with("\"stat\":-1,")), LW_OK); /* first "stat" wins in cJSON */
    assert_int_equal(p.n, 0);
    assert_int_equal(p.c.crc_bad, 1);
    assert_int_equal(push(&p, rxpk_with("\"stat\":0,")), LW_OK);
    assert_int_equal(p.c.crc_none, 1);
    assert_int_equal(p.n, 0);
    assert_int_equal(push(&p, rxpk_with("\"stat\":2,")), LW_OK);
    assert_int_equal(p.c.invalid, 1);
    assert_int_equal(push(&p, rxpk_with("\"modu\":\"FSK\",")), LW_OK);
    assert_int_equal(p.c.not_lora, 1);
    assert_int_equal(p.n, 0);
    assert_int_equal(push(&p, rxpk_with("\"modu\":\"LR-FHSS\",")), LW_OK);
    assert_int_equal(p.c.invalid, 1);
}

static void test_push_invalid_fields(void **state)
{
    static const char *const bad[] = {
        "\"stat\":1.5,",
        "\"stat\":\"1\",",
        "\"modu\":1,",
        "\"tmst\":-1,",
        "\"tmst\":4294967296,",
        "\"tmst\":1.5,",
        "\"time\":1,",
        "\"freq\":0,",
        "\"freq\":-470.3,",
        "\"freq\":\"470.3\",",
        "\"freq\":3000.1,",
        "\"datr\":\"SF13BW125\",",
        "\"datr\":\"SF4BW125\",",
        "\"datr\":\"SF9BW126\",",
        "\"datr\":\"SF9BW125x\",",
        "\"datr\":\"sf9bw125\",",
        "\"datr\":\"SFBW125\",",
        "\"datr\":\"SF9BW\",",
        "\"datr\":\"SF100BW125\",",
        "\"datr\":\"SF9BW1250\",",
        "\"datr\":50000,",
        "\"codr\":\"OFF\",",
        "\"codr\":\"4/9\",",
        "\"codr\":\"4/4\",",
        "\"codr\":\"4/5 \",",
        "\"rssi\":\"-87\",",
        "\"rssi\":-201,",
        "\"rssi\":51,",
        "\"lsnr\":-51,",
        "\"lsnr\":null,",
        "\"size\":4,",
        "\"size\":6,",
        "\"size\":0,",
        "\"size\":256,",
        "\"size\":5.5,",
        "\"data\":\"aGVsbG8=x\",",
        "\"data\":\"aGVs bG8=\",",
        "\"data\":\"aGVsbG8==\",",
        "\"data\":\"aGVsb=8=\",",
        "\"data\":\"aGVsbG8-\",",
        "\"data\":\"a\",",
        "\"data\":\"\",",
        "\"data\":5,",
    };
    struct push p;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(push(&p, rxpk_with(bad[i])), LW_OK);
        if (p.n != 0 || p.c.invalid != 1)
            fail_msg("accepted rxpk with %s", bad[i]);
    }
    /* Required fields missing. */
    static const char *const required[] = {"stat", "modu", "freq", "datr",
                                           "codr", "lsnr", "size", "data"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        char json[1024], key[16];
        snprintf(json, sizeof(json), "%s", rxpk_with(""));
        snprintf(key, sizeof(key), "\"%s\"", required[i]);
        char *k = strstr(json, key);
        assert_non_null(k);
        k[1] = 'X'; /* rename the key */
        assert_int_equal(push(&p, json), LW_OK);
        if (p.n != 0 || p.c.invalid != 1)
            fail_msg("accepted rxpk without %s", required[i]);
    }
    /* Neither rssi nor rssis. */
    char json[1024];
    snprintf(json, sizeof(json), "%s", rxpk_with(""));
    strstr(json, "\"rssi\"")[1] = 'X';
    assert_int_equal(push(&p, json), LW_OK);
    assert_int_equal(p.c.invalid, 1);
    /* Entries that are not objects. */
    assert_int_equal(push(&p, "{\"rxpk\":[1,\"x\",null,[],{}]}"), LW_OK);
    assert_int_equal(p.c.rxpk, 5);
    assert_int_equal(p.c.invalid, 5);
}

static void test_push_capacity(void **state)
{
    char json[8192];
    size_t n = (size_t)snprintf(json, sizeof(json), "{\"rxpk\":[");
    const char *one = strchr(rxpk_with(""), '[') + 1;
    size_t onelen = strlen(one) - 2; /* without "]}" */
    for (int i = 0; i < 10; i++) {
        if (i)
            json[n++] = ',';
        memcpy(json + n, one, onelen);
        n += onelen;
    }
    snprintf(json + n, sizeof(json) - n, "]}");
    struct push p;
    (void)state;
    assert_int_equal(push(&p, json), LW_OK);
    assert_int_equal(p.c.rxpk, 10);
    assert_int_equal(p.n, 8);
    assert_int_equal(p.c.accepted, 8);
    assert_int_equal(p.c.overflow, 2);
}

static void test_push_document_shape(void **state)
{
    struct push p;
    (void)state;
    /* Status only; empty rxpk; trailing whitespace and a C terminator. */
    assert_int_equal(push(&p, "{\"stat\":{\"time\":\"2014-01-12 08:59:28 GMT\",\"rxnb\":2}}"),
                     LW_OK);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.c.stat_objs, 1);
    assert_int_equal(push(&p, "{\"rxpk\":[]} \r\n"), LW_OK);
    assert_int_equal(p.c.rxpk, 0);
    const uint8_t nul[] = "{\"rxpk\":[]}"; /* sizeof includes the NUL */
    assert_int_equal(lw_semtech_parse_push(nul, sizeof(nul), p.r, 8, &p.n, &p.c), LW_OK);
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "null",
        "1",
        "\"x\"",
        "{} x",
        "{}{}",
        "{\"rxpk\":{}}",
        "{\"rxpk\":1}",
        "{\"stat\":[]}",
        "{\"stat\":1}",
        "{\"rxpk\":[}",
        "{'rxpk':[]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (push(&p, bad[i]) != LW_ERR_INVAL)
            fail_msg("accepted PUSH_DATA JSON '%s'", bad[i]);
    assert_int_equal(lw_semtech_parse_push(NULL, 0, p.r, 8, &p.n, &p.c), LW_ERR_INVAL);
}

static void test_tx_ack(void **state)
{
    char err[32];
    (void)state;
#define TXACK(s) lw_semtech_parse_tx_ack((const uint8_t *)(s), strlen(s), err, sizeof(err))
    assert_int_equal(TXACK(""), LW_OK);
    assert_string_equal(err, "");
    assert_int_equal(TXACK("{\"txpk_ack\":{\"error\":\"NONE\"}}"), LW_OK);
    assert_string_equal(err, "");
    assert_int_equal(TXACK("{\"txpk_ack\":{}}"), LW_OK);
    assert_string_equal(err, "");
    assert_int_equal(TXACK("{\"txpk_ack\":{\"warn\":\"TX_POWER\",\"value\":14}}"), LW_OK);
    assert_string_equal(err, "");
    assert_int_equal(TXACK("{\"txpk_ack\":{\"error\":\"COLLISION_PACKET\"}}"), LW_OK);
    assert_string_equal(err, "COLLISION_PACKET");
    assert_int_equal(TXACK("{\"txpk_ack\":{\"error\":\"TOO_LATE\"}}"), LW_OK);
    assert_string_equal(err, "TOO_LATE");
    assert_int_equal(TXACK("{\"txpk_ack\":{\"error\":1}}"), LW_ERR_INVAL);
    assert_int_equal(TXACK("{\"txpk_ack\":1}"), LW_ERR_INVAL);
    assert_int_equal(TXACK("{\"other\":{}}"), LW_ERR_INVAL);
    assert_int_equal(TXACK("{"), LW_ERR_INVAL);
    assert_int_equal(TXACK("x"), LW_ERR_INVAL);
#undef TXACK
}

static void test_id_names(void **state)
{
    (void)state;
    assert_string_equal(lw_semtech_id_name(0), "PUSH_DATA");
    assert_string_equal(lw_semtech_id_name(1), "PUSH_ACK");
    assert_string_equal(lw_semtech_id_name(2), "PULL_DATA");
    assert_string_equal(lw_semtech_id_name(3), "PULL_RESP");
    assert_string_equal(lw_semtech_id_name(4), "PULL_ACK");
    assert_string_equal(lw_semtech_id_name(5), "TX_ACK");
    assert_string_equal(lw_semtech_id_name(6), "unknown");
}

/* ---- the backend over loopback ---------------------------------------------------------- */

static void fail_on_config_error(void *arg, const char *msg)
{
    (void)arg;
    fail_msg("config: %s", msg);
}

static int udp_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void send_to(int fd, uint16_t port, const uint8_t *b, size_t n)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    assert_int_equal(sendto(fd, b, n, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)n);
}

/* One datagram within a second, or -1. */
static ssize_t recv_wait(int fd, uint8_t *b, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 1000) != 1)
        return -1;
    return recv(fd, b, cap, 0);
}

static void test_backend_over_loopback(void **state)
{
    (void)state;
    lw_log_set_level(LW_LOG_ERR); /* the rejections below would be logged at warning */
    /* A port that was free a moment ago. */
    uint16_t port;
    close(udp_socket(&port));
    char text[256];
    int tl = snprintf(text, sizeof(text),
                      "[radio]\nbackend = udp-forwarder\nforwarder_listen = 127.0.0.1:%u\n"
                      "tx_power_dbm = 17\n",
                      port);
    struct lw_config *cfg =
        lw_config_parse("fwd.conf", text, (size_t)tl, fail_on_config_error, NULL);
    assert_non_null(cfg);
    const struct lw_radio_ops *ops = lw_radio_find("udp-forwarder");
    assert_ptr_equal(ops, &lw_radio_udpfwd_ops);
    void *ctx = NULL;
    assert_int_equal(ops->open(cfg, &ctx), LW_OK);
    struct lw_radio_rx rx;
    struct lw_radio_stats st;
    uint8_t b[LW_SEMTECH_MAX_DGRAM + 100];
    const uint8_t frame[] = {1, 2, 3};

    /* Like lora_pkt_fwd: one socket pushes, another pulls. */
    uint16_t up_port, down_port;
    int up = udp_socket(&up_port), down = udp_socket(&down_port);
    assert_int_equal(ops->transmit(ctx, frame, sizeof(frame)), LW_ERR_STATE);
    assert_int_equal(ops->read(ctx, &rx), LW_ERR_AGAIN);

    size_t n = dgram(b, 2, 0x7A11, LW_SEMTECH_PULL_DATA, true, NULL);
    send_to(down, port, b, n);
    usleep(20000);
    assert_int_equal(ops->read(ctx, &rx), LW_ERR_AGAIN);
    assert_int_equal(recv_wait(down, b, sizeof(b)), 4);
    assert_memory_equal(b, ((const uint8_t[]){0x02, 0x7A, 0x11, 0x04}), 4);

    /* Two valid rxpk and one with a bad CRC in one PUSH_DATA. */
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"rxpk\":[{\"tmst\":1,\"freq\":470.3,\"stat\":1,\"modu\":\"LORA\","
             "\"datr\":\"SF9BW125\",\"codr\":\"4/5\",\"rssi\":-87,\"lsnr\":7.5,\"size\":5,"
             "\"data\":\"aGVsbG8=\"},{\"tmst\":2,\"freq\":470.5,\"stat\":-1,\"modu\":\"LORA\","
             "\"datr\":\"SF9BW125\",\"codr\":\"4/5\",\"rssi\":-120,\"lsnr\":-20,\"size\":1,"
             "\"data\":\"AA==\"},{\"tmst\":3,\"freq\":470.7,\"stat\":1,\"modu\":\"LORA\","
             "\"datr\":\"SF10BW125\",\"codr\":\"4/6\",\"rssi\":-100,\"lsnr\":-3.2,\"size\":1,"
             "\"data\":\"AQ==\"}]}");
    n = dgram(b, 2, 0xC0DE, LW_SEMTECH_PUSH_DATA, true, json);
    send_to(up, port, b, n);
    usleep(20000);
    assert_int_equal(ops->read(ctx, &rx), LW_OK);
    assert_int_equal(rx.len, 5);
    assert_memory_equal(rx.buf, "hello", 5);
    assert_int_equal(rx.rssi_x10, -870);
    assert_int_equal(rx.snr_x10, 75);
    assert_int_equal(rx.freq_hz, 470300000);
    assert_int_equal(rx.sf, 9);
    assert_int_equal(rx.bw_hz, 125000);
    assert_true(rx.t_ms > 1600000000000LL && rx.mono_ms > 0);
    /* The socket is drained, but the fd the loop watches stays readable while rxpk wait. */
    struct pollfd pfd = {.fd = ops->fd(ctx), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 1);
    assert_int_equal(ops->read(ctx, &rx), LW_OK);
    assert_int_equal(rx.len, 1);
    assert_int_equal(rx.buf[0], 1);
    assert_int_equal(rx.snr_x10, -32);
    assert_int_equal(rx.sf, 10);
    assert_int_equal(poll(&pfd, 1, 0), 0);
    assert_int_equal(ops->read(ctx, &rx), LW_ERR_AGAIN);
    assert_int_equal(recv_wait(up, b, sizeof(b)), 4);
    assert_memory_equal(b, ((const uint8_t[]){0x02, 0xC0, 0xDE, 0x01}), 4);
    ops->stats(ctx, &st);
    assert_int_equal(st.rx_frames, 2);
    assert_int_equal(st.rx_malformed, 1); /* the CRC failure */

    /* Downlink to the puller's socket. */
    const uint8_t down_frame[] = "hello";
    assert_int_equal(ops->transmit(ctx, down_frame, 5), LW_OK);
    ssize_t got = recv_wait(down, b, sizeof(b));
    assert_true(got > 4);
    assert_int_equal(b[0], 2);
    assert_int_equal(b[3], LW_SEMTECH_PULL_RESP);
    b[got] = '\0';
    assert_non_null(strstr((char *)b + 4, "\"freq\":470.300000,\"rfch\":0,\"powe\":17,"
                                          "\"modu\":\"LORA\",\"datr\":\"SF9BW125\","
                                          "\"codr\":\"4/5\",\"ipol\":true,\"size\":5,"
                                          "\"data\":\"aGVsbG8=\""));
    uint16_t token = (uint16_t)(b[1] << 8 | b[2]);
    n = dgram(b, 2, token, LW_SEMTECH_TX_ACK, true, "{\"txpk_ack\":{\"error\":\"NONE\"}}");
    send_to(down, port, b, n);
    assert_int_equal(ops->transmit(ctx, down_frame, 0), LW_ERR_INVAL);
    assert_int_equal(ops->transmit(ctx, b, 256), LW_ERR_TOOBIG);

    /* Garbage: none acknowledged, each counted once. */
    const char *garbage[] = {"\x02\x00",
                             "\x01\x00\x01\x02"
                             "AAAAAAAA",
                             "\x02\x00\x01\x07", "\x02\x00\x01\x01",
                             "\x02\x00\x01\x00"
                             "AA\x01\x00\x00\x00\x00\x00{"};
    const size_t glen[] = {2, 12, 4, 4, 13};
    for (size_t i = 0; i < 5; i++)
        send_to(up, port, (const uint8_t *)garbage[i], glen[i]);
    memset(b, 0, sizeof(b));
    send_to(up, port, b, LW_SEMTECH_MAX_DGRAM + 1); /* oversized */
    n = dgram(b, 2, 9, LW_SEMTECH_TX_ACK, true, "{\"txpk_ack\":");
    send_to(down, port, b, n);
    usleep(50000);
    assert_int_equal(ops->read(ctx, &rx), LW_ERR_AGAIN);
    ops->stats(ctx, &st);
    assert_int_equal(st.rx_malformed, 1 + 5 + 1 + 1);
    assert_int_equal(st.tx_frames, 1);
    assert_int_equal(st.rx_frames, 2);
    assert_int_equal(recv_wait(up, b, sizeof(b)), -1);

    /* A flood of PULL_DATA is handled in slices: read() gives the loop back in between. */
    for (int i = 0; i < 100; i++) {
        n = dgram(b, 2, (uint16_t)i, LW_SEMTECH_PULL_DATA, true, NULL);
        send_to(down, port, b, n);
    }
    usleep(50000);
    assert_int_equal(ops->read(ctx, &rx), LW_ERR_AGAIN);
    assert_int_equal(poll(&pfd, 1, 0), 1); /* more left for the next wakeup */
    assert_int_equal(ops->read(ctx, &rx), LW_ERR_AGAIN);
    assert_int_equal(poll(&pfd, 1, 0), 0);
    int acks = 0;
    while (recv_wait(down, b, sizeof(b)) == 4)
        acks++;
    assert_int_equal(acks, 100);

    ops->close(ctx);
    close(up);
    close(down);
    lw_config_free(cfg);
}

static void count_rx(void *arg, const struct lw_radio_rx *rx)
{
    size_t *n = arg;
    assert_int_equal(rx->len, 1);
    assert_int_equal(rx->buf[0], (uint8_t)*n);
    (*n)++;
}

/* Through the loop glue, which stops after a slice of frames per wakeup: 70 frames in ten
 * PUSH_DATA of 7 all arrive, in order, though the socket is empty before the ring is. */
static void test_backend_in_the_loop(void **state)
{
    (void)state;
    uint16_t port;
    close(udp_socket(&port));
    char text[256];
    int tl = snprintf(text, sizeof(text),
                      "[radio]\nbackend = udp-forwarder\nforwarder_listen = 127.0.0.1:%u\n", port);
    struct lw_config *cfg =
        lw_config_parse("loop.conf", text, (size_t)tl, fail_on_config_error, NULL);
    assert_non_null(cfg);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct lw_radio *r = NULL;
    size_t got = 0;
    assert_int_equal(lw_radio_new(&loop, cfg, count_rx, &got, &r), LW_OK);
    uint16_t up_port;
    int up = udp_socket(&up_port);
    uint8_t frame = 0;
    for (int d = 0; d < 10; d++) {
        char json[4096];
        size_t n = (size_t)snprintf(json, sizeof(json), "{\"rxpk\":[");
        for (int i = 0; i < 7; i++, frame++) {
            uint8_t b64[8];
            EVP_EncodeBlock(b64, &frame, 1);
            n += (size_t)snprintf(json + n, sizeof(json) - n,
                                  "%s{\"freq\":470.3,\"stat\":1,\"modu\":\"LORA\","
                                  "\"datr\":\"SF9BW125\",\"codr\":\"4/5\",\"rssi\":-90,"
                                  "\"lsnr\":5,\"size\":1,\"data\":\"%s\"}",
                                  i ? "," : "", b64);
        }
        snprintf(json + n, sizeof(json) - n, "]}");
        uint8_t b[4200];
        n = dgram(b, 2, (uint16_t)d, LW_SEMTECH_PUSH_DATA, true, json);
        send_to(up, port, b, n);
    }
    usleep(50000);
    for (int i = 0; i < 50 && got < 70; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(got, 70);
    struct lw_radio_stats st;
    lw_radio_stats(r, &st);
    assert_int_equal(st.rx_frames, 70);
    lw_radio_free(r);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(up);
    lw_config_free(cfg);
}

static void collect_error(void *arg, const char *msg)
{
    char *all = arg;
    strncat(all, msg, 1023 - strlen(all));
    strncat(all, "\n", 1023 - strlen(all));
}

static void test_config_keys(void **state)
{
    struct lw_config *cfg;
    char errors[1024] = "";
    (void)state;
    cfg = lw_config_parse("d.conf", "", 0, fail_on_config_error, NULL);
    assert_non_null(cfg);
    assert_string_equal(cfg->forwarder_listen, "127.0.0.1:1700");
    assert_int_equal(cfg->tx_power_dbm, 14);
    lw_config_free(cfg);
    static const char bad[] = "[radio]\nforwarder_listen = 1700\ntx_power_dbm = 28\n";
    cfg = lw_config_parse("b.conf", bad, sizeof(bad) - 1, collect_error, errors);
    assert_null(cfg);
    assert_non_null(strstr(errors, "b.conf:2: [radio] forwarder_listen = 1700: must be HOST:PORT"));
    assert_non_null(strstr(errors, "b.conf:3: [radio] tx_power_dbm = 28"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_data_bytes),
        cmocka_unit_test(test_push_data_and_tx_ack_bytes),
        cmocka_unit_test(test_upstream_rejections),
        cmocka_unit_test(test_acks_bytes),
        cmocka_unit_test(test_pull_resp_bytes),
        cmocka_unit_test(test_pull_resp_rejections),
        cmocka_unit_test(test_push_the_documented_example),
        cmocka_unit_test(test_push_fields),
        cmocka_unit_test(test_push_crc_and_modulation_counted),
        cmocka_unit_test(test_push_invalid_fields),
        cmocka_unit_test(test_push_capacity),
        cmocka_unit_test(test_push_document_shape),
        cmocka_unit_test(test_tx_ack),
        cmocka_unit_test(test_id_names),
        cmocka_unit_test(test_backend_over_loopback),
        cmocka_unit_test(test_backend_in_the_loop),
        cmocka_unit_test(test_config_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
