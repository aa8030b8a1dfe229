/* SPDX-License-Identifier: Apache-2.0 */
/* Semtech UDP packet-forwarder protocol v2 (Semtech PROTOCOL.TXT / sx1302_hal PROTOCOL.md, as
 * spoken by lora_pkt_fwd): datagram parsing and building for the server side, no I/O. */
#ifndef LW_SEMTECH_H
#define LW_SEMTECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_frame.h"

#define LW_SEMTECH_VERSION 2 /* byte 0 of every datagram */
#define LW_SEMTECH_HDR_LEN 4 /* version, token (2 bytes, echoed as sent), identifier */
#define LW_SEMTECH_EUI_LEN 8 /* gateway identifier after the header in upstream datagrams */
#define LW_SEMTECH_ACK_LEN 4 /* PUSH_ACK and PULL_ACK are the header alone */
/* Largest datagram accepted: the SX1301 lora_pkt_fwd sends at most ~4.6 KB (8 rxpk); this leaves
 * room for about 50 full-size rxpk from an SX1302. Anything bigger is dropped as malformed. */
#define LW_SEMTECH_MAX_DGRAM 32768
/* Largest PULL_RESP built: header + txpk JSON with a 255-byte payload in base64. */
#define LW_SEMTECH_PULL_RESP_MAX 640

enum lw_semtech_id {
    LW_SEMTECH_PUSH_DATA = 0x00, /* forwarder -> server: EUI + JSON {rxpk, stat} */
    LW_SEMTECH_PUSH_ACK = 0x01,  /* server -> forwarder */
    LW_SEMTECH_PULL_DATA = 0x02, /* forwarder -> server: EUI; opens the downlink route */
    LW_SEMTECH_PULL_RESP = 0x03, /* server -> forwarder: JSON {txpk} */
    LW_SEMTECH_PULL_ACK = 0x04,  /* server -> forwarder */
    LW_SEMTECH_TX_ACK = 0x05,    /* forwarder -> server: EUI + optional JSON {txpk_ack} */
};

/* An upstream (forwarder -> server) datagram's fixed part. */
struct lw_semtech_up {
    uint8_t id;     /* PUSH_DATA, PULL_DATA or TX_ACK */
    uint16_t token; /* bytes 1-2, big-endian; echoed byte for byte in the acknowledgement */
    uint8_t eui[LW_SEMTECH_EUI_LEN];
    const uint8_t *json; /* bytes after the EUI (PUSH_DATA, TX_ACK); points into the datagram */
    size_t json_len;
};

/* Split an upstream datagram. LW_OK; LW_ERR_TRUNCATED (shorter than header + EUI, or a PUSH_DATA
 * without JSON), LW_ERR_TOOBIG (> LW_SEMTECH_MAX_DGRAM), LW_ERR_VERSION (byte 0 is not 2),
 * LW_ERR_TYPE (identifier is not PUSH_DATA, PULL_DATA or TX_ACK: downstream types or unknown),
 * LW_ERR_INVAL (PULL_DATA with trailing bytes). */
int lw_semtech_parse_up(const uint8_t *buf, size_t len, struct lw_semtech_up *up);

/* One received LoRa packet of a PUSH_DATA rxpk array that passed every check. */
struct lw_semtech_rxpk {
    uint8_t data[LW_FRAME_MAX_LEN];
    size_t len;       /* 1..255, equal to the rxpk's "size" */
    uint32_t tmst;    /* concentrator counter at end of reception, us (0 when absent) */
    uint32_t freq_hz; /* "freq" in MHz, rounded to Hz */
    uint8_t sf;       /* from "datr" SFnBWm: 5..12 */
    uint32_t bw_hz;   /* from "datr": 125000, 250000 or 500000 */
    uint8_t cr;       /* "codr" 4/5..4/8 -> 5..8 */
    int16_t rssi_x10; /* "rssi" (channel RSSI), or "rssis" when rssi is absent; dBm * 10 */
    int16_t snr_x10;  /* "lsnr", dB * 10 */
};

/* Why rxpk entries of a PUSH_DATA were not returned (added to, never reset). */
struct lw_semtech_push_counts {
    uint64_t rxpk;      /* entries seen */
    uint64_t accepted;  /* entries returned */
    uint64_t crc_bad;   /* stat -1 */
    uint64_t crc_none;  /* stat 0 */
    uint64_t not_lora;  /* modu "FSK" */
    uint64_t invalid;   /* missing or wrong field, bad base64, size mismatch */
    uint64_t overflow;  /* valid entries beyond the caller's capacity */
    uint64_t stat_objs; /* "stat" objects (gateway status) seen */
};

/* Parse the JSON of a PUSH_DATA: an object with an optional "rxpk" array and/or "stat" object.
 * Valid LoRa entries with a good CRC go to out[0..cap-1], *n says how many; every other entry is
 * counted in c by reason. Trailing whitespace or NUL bytes after the object are tolerated.
 * LW_OK (also with no rxpk at all); LW_ERR_INVAL when the text is not one JSON object, or rxpk is
 * not an array, or stat is not an object. */
int lw_semtech_parse_push(const uint8_t *json, size_t len, struct lw_semtech_rxpk *out, size_t cap,
                          size_t *n, struct lw_semtech_push_counts *c);

/* Parse the optional JSON of a TX_ACK. An empty payload, or a txpk_ack without "error", or error
 * "NONE" means success: LW_OK with error[0] = '\0'. A downlink the forwarder refused: LW_OK with
 * its error text (TOO_LATE, TX_FREQ, ...) in error. LW_ERR_INVAL for malformed JSON. */
int lw_semtech_parse_tx_ack(const uint8_t *json, size_t len, char *error, size_t errcap);

/* PUSH_ACK or PULL_ACK (id) for a datagram with token: 4 bytes into out. */
void lw_semtech_build_ack(uint8_t id, uint16_t token, uint8_t out[LW_SEMTECH_ACK_LEN]);

/* A downlink to send at once (txpk "imme"). */
struct lw_semtech_txpk {
    uint32_t freq_hz;
    uint8_t sf;     /* 5..12 */
    uint32_t bw_hz; /* 125000, 250000 or 500000 */
    uint8_t cr;     /* 5..8 */
    uint8_t power_dbm;
    bool ipol; /* inverted IQ, as downlinks usually are */
    const uint8_t *data;
    size_t len; /* 1..255 */
};

/* Build a PULL_RESP datagram carrying tx: header with token, then
 * {"txpk":{"imme":true,"freq":F,"rfch":0,"powe":P,"modu":"LORA","datr":"SFnBWm","codr":"4/c",
 * "ipol":B,"size":N,"data":"BASE64"}} with freq printed to the Hz ("470.300000").
 * Returns the datagram length, LW_ERR_INVAL for out-of-range parameters, LW_ERR_TOOBIG when cap
 * is too small (LW_SEMTECH_PULL_RESP_MAX always suffices). */
int lw_semtech_build_pull_resp(uint16_t token, const struct lw_semtech_txpk *tx, uint8_t *out,
                               size_t cap);

/* Name of a packet identifier for logs ("PUSH_DATA", ...; "unknown" otherwise). */
const char *lw_semtech_id_name(uint8_t id);

#endif
