/* SPDX-License-Identifier: Apache-2.0 */
/* Internal AES-128-CCM (8-byte tag, 13-byte nonce) seam: with its sibling lw_kdf.h (HKDF for the
 * join procedure) the only place proto touches a crypto library, so a microcontroller build can
 * swap in mbedTLS or hardware AES by replacing the file that implements each (lw_aead_openssl.c
 * and lw_kdf_openssl.c on Linux). Not part of the public API. */
#ifndef LW_AEAD_H
#define LW_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define LW_AEAD_KEY_LEN   16
#define LW_AEAD_NONCE_LEN 13 /* CCM L = 2: messages up to 65535 bytes, far above 255 */
#define LW_AEAD_TAG_LEN   8

/* Encrypt len bytes of pt into ct (same length, may be 0) and compute the tag over aad and pt.
 * pt/ct may be NULL when len is 0. Returns LW_OK or LW_ERR_CRYPTO. */
int lw_aead_seal(const uint8_t key[LW_AEAD_KEY_LEN], const uint8_t nonce[LW_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                 uint8_t tag[LW_AEAD_TAG_LEN]);

/* Verify tag over aad and the decrypted ct, writing len bytes of plaintext to pt. Returns LW_OK,
 * LW_ERR_MIC (tag mismatch; pt is zeroed) or LW_ERR_CRYPTO (pt is zeroed). */
int lw_aead_open(const uint8_t key[LW_AEAD_KEY_LEN], const uint8_t nonce[LW_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t len, uint8_t *pt,
                 const uint8_t tag[LW_AEAD_TAG_LEN]);

#endif
