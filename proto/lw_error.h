/* SPDX-License-Identifier: Apache-2.0 */
/* The one error type of lorawatch: 0 is success, every failure a negative lw_err. */
#ifndef LW_ERROR_H
#define LW_ERROR_H

enum lw_err {
    LW_OK = 0,
    LW_ERR_INVAL = -1,        /* invalid argument or malformed input */
    LW_ERR_TRUNCATED = -2,    /* input shorter than its own header says */
    LW_ERR_TOOBIG = -3,       /* input or output exceeds its maximum size */
    LW_ERR_VERSION = -4,      /* unsupported protocol version */
    LW_ERR_NETWORK = -5,      /* frame belongs to another network id */
    LW_ERR_MIC = -6,          /* authentication (MIC) check failed */
    LW_ERR_REPLAY = -7,       /* frame counter already seen or too old */
    LW_ERR_UNKNOWN_NODE = -8, /* source address not in the registry */
    LW_ERR_NOMEM = -9,        /* out of memory */
    LW_ERR_IO = -10,          /* system call failed; errno has detail */
    LW_ERR_CRYPTO = -11,      /* crypto library failure */
    LW_ERR_CONFIG = -12,      /* configuration rejected */
    LW_ERR_DB = -13,          /* SQLite failure */
    LW_ERR_AGAIN = -14,       /* try again later (nothing ready, resource busy) */
    LW_ERR_NOTFOUND = -15,    /* no such object */
    LW_ERR_RANGE = -16,       /* value outside its allowed range */
    LW_ERR_TYPE = -17,        /* unknown frame or TLV type */
    LW_ERR_DUP = -18,         /* field present twice */
    LW_ERR_STATE = -19,       /* operation not valid in the current state */
};

/* Human-readable text for an lw_err value (never NULL; unknown codes get a generic text). */
const char *lw_strerror(int err);

#endif
