/* SPDX-License-Identifier: Apache-2.0 */
/* Internal HKDF-SHA256 (RFC 5869) seam, sibling of lw_aead.h: the join procedure derives every key
 * through it, and a microcontroller build swaps the one file that implements it
 * (lw_kdf_openssl.c on Linux) for mbedTLS or its SDK's SHA-256. Not part of the public API. */
#ifndef LW_KDF_H
#define LW_KDF_H

#include <stddef.h>
#include <stdint.h>

#define LW_KDF_MAX_OUT 64 /* more than any lorawatch key; HKDF itself allows 255 * 32 bytes */

/* HKDF-SHA256 extract-then-expand: out_len bytes of OKM from ikm, salt and info. salt and info
 * may be NULL when their length is 0 (an empty salt means 32 zero bytes, RFC 5869 2.2).
 * Returns LW_OK, LW_ERR_INVAL (NULL pointer, ikm_len 0, out_len 0 or > LW_KDF_MAX_OUT) or
 * LW_ERR_CRYPTO; out is zeroed on any failure. */
int lw_kdf_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

#endif
