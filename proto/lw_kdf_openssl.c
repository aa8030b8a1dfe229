/* SPDX-License-Identifier: Apache-2.0 */
/* HKDF-SHA256 for proto on top of OpenSSL libcrypto (EVP_PKEY_HKDF); replace this file, with
 * lw_aead_openssl.c, to port proto to another crypto library. Joins are rare, so no caching. */
#include "lw_kdf.h"
#include "lw_error.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

int lw_kdf_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    EVP_PKEY_CTX *ctx;
    size_t got = out_len;
    int ok;

    if (out == NULL || out_len == 0 || out_len > LW_KDF_MAX_OUT)
        return LW_ERR_INVAL;
    memset(out, 0, out_len);
    if (ikm == NULL || ikm_len == 0 || (salt == NULL && salt_len > 0) ||
        (info == NULL && info_len > 0) || ikm_len > INT_MAX || salt_len > INT_MAX ||
        info_len > 1024) /* OpenSSL's cap on HKDF info */
        return LW_ERR_INVAL;

    ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    if (ctx == NULL)
        return LW_ERR_CRYPTO;
    ok = EVP_PKEY_derive_init(ctx) == 1 &&
         EVP_PKEY_CTX_hkdf_mode(ctx, EVP_PKEY_HKDEF_MODE_EXTRACT_AND_EXPAND) == 1 &&
         EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
         EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm, (int)ikm_len) == 1 &&
         /* No salt set: OpenSSL then uses HashLen zero bytes, as RFC 5869 prescribes. */
         (salt_len == 0 || EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, (int)salt_len) == 1) &&
         (info_len == 0 || EVP_PKEY_CTX_add1_hkdf_info(ctx, info, (int)info_len) == 1) &&
         EVP_PKEY_derive(ctx, out, &got) == 1 && got == out_len;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        memset(out, 0, out_len);
        return LW_ERR_CRYPTO;
    }
    return LW_OK;
}
