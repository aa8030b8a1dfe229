/* SPDX-License-Identifier: Apache-2.0 */
/* Texts for the project-wide error enum. */
#include "lw_error.h"

const char *lw_strerror(int err)
{
    switch (err) {
    case LW_OK:
        return "success";
    case LW_ERR_INVAL:
        return "invalid argument or malformed input";
    case LW_ERR_TRUNCATED:
        return "input truncated";
    case LW_ERR_TOOBIG:
        return "input or output too large";
    case LW_ERR_VERSION:
        return "unsupported protocol version";
    case LW_ERR_NETWORK:
        return "frame from another network";
    case LW_ERR_MIC:
        return "authentication failed (bad MIC)";
    case LW_ERR_REPLAY:
        return "replayed or stale frame counter";
    case LW_ERR_UNKNOWN_NODE:
        return "unknown node";
    case LW_ERR_NOMEM:
        return "out of memory";
    case LW_ERR_IO:
        return "I/O error";
    case LW_ERR_CRYPTO:
        return "crypto library failure";
    case LW_ERR_CONFIG:
        return "configuration rejected";
    case LW_ERR_DB:
        return "database error";
    case LW_ERR_AGAIN:
        return "resource temporarily unavailable";
    case LW_ERR_NOTFOUND:
        return "not found";
    case LW_ERR_RANGE:
        return "value out of range";
    case LW_ERR_TYPE:
        return "unknown type";
    case LW_ERR_DUP:
        return "duplicate field";
    case LW_ERR_STATE:
        return "invalid state";
    }
    return "unknown error";
}
