/* SPDX-License-Identifier: Apache-2.0 */
/* AES-128-CCM for proto on top of OpenSSL libcrypto EVP; replace this file to port to mbedTLS or
 * hardware AES.
 *
 * Performance: looking the cipher up and allocating an EVP_CIPHER_CTX on every frame costs more
 * than the AES itself, so the cipher is fetched once per process and each thread keeps two
 * contexts (one encrypting, one decrypting) with nonce and tag length already set. A frame then
 * only re-keys the cached context (EVP_CipherInit_ex with a NULL cipher: no allocation). A
 * pthread key destructor frees a thread's contexts when it exits. If any EVP step fails the
 * context is dropped and rebuilt on the next call, so a half-configured context is never reused.
 */
#include "lw_aead.h"
#include "lw_error.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

struct lw_aead_tls {
    EVP_CIPHER_CTX *ctx[2]; /* [0] decrypt, [1] encrypt */
    bool registered;        /* the exit destructor knows about this thread */
};

static _Thread_local struct lw_aead_tls lw_tls;
static pthread_once_t lw_once = PTHREAD_ONCE_INIT;
static pthread_key_t lw_exit_key;
static bool lw_exit_key_ok;
static const EVP_CIPHER *lw_cipher;

static void lw_aead_thread_exit(void *arg)
{
    struct lw_aead_tls *t = arg;

    for (int i = 0; i < 2; i++) {
        EVP_CIPHER_CTX_free(t->ctx[i]);
        t->ctx[i] = NULL;
    }
    t->registered = false;
}

static void lw_aead_global_init(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    /* An explicit fetch: EVP_aes_128_ccm() would make every init do an implicit fetch. */
    lw_cipher = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
#else
    lw_cipher = EVP_aes_128_ccm();
#endif
    lw_exit_key_ok = pthread_key_create(&lw_exit_key, lw_aead_thread_exit) == 0;
}

static void lw_aead_drop(int enc)
{
    EVP_CIPHER_CTX_free(lw_tls.ctx[enc]);
    lw_tls.ctx[enc] = NULL;
}

/* This thread's context for direction enc, created with IV and tag length fixed: CCM bakes both
 * into its state when the key is set, so they must precede every key. */
static EVP_CIPHER_CTX *lw_aead_ctx(int enc)
{
    EVP_CIPHER_CTX *ctx;

    if (lw_tls.ctx[enc] != NULL)
        return lw_tls.ctx[enc];
    if (pthread_once(&lw_once, lw_aead_global_init) != 0 || lw_cipher == NULL)
        return NULL;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return NULL;
    if (EVP_CipherInit_ex(ctx, lw_cipher, NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, LW_AEAD_NONCE_LEN, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, LW_AEAD_TAG_LEN, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    if (!lw_tls.registered && lw_exit_key_ok) {
        /* Main thread never runs key destructors; its TLS stays reachable, so no leak report. */
        lw_tls.registered = pthread_setspecific(lw_exit_key, &lw_tls) == 0;
    }
    lw_tls.ctx[enc] = ctx;
    return ctx;
}

/* Key, nonce, total length and AAD: the part common to both directions. */
static bool lw_aead_start(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t *nonce,
                          const uint8_t *aad, size_t aad_len, size_t len)
{
    int outl;

    if (len > 0xFFFF || aad_len > 0xFFFF)
        return false;
    if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, -1) != 1)
        return false;
    /* CCM encodes the message length in its first block, so it must be known up front. */
    if (EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)len) != 1)
        return false;
    if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
        return false;
    return true;
}

int lw_aead_seal(const uint8_t key[LW_AEAD_KEY_LEN], const uint8_t nonce[LW_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                 uint8_t tag[LW_AEAD_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = lw_aead_ctx(1);
    uint8_t dummy = 0; /* OpenSSL treats a NULL in/out as "AAD" or "final", even for 0 bytes */
    int outl;

    if (ctx == NULL)
        return LW_ERR_CRYPTO;
    if (!lw_aead_start(ctx, key, nonce, aad, aad_len, len) ||
        EVP_CipherUpdate(ctx, len ? ct : &dummy, &outl, len ? pt : &dummy, (int)len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_GET_TAG, LW_AEAD_TAG_LEN, tag) != 1) {
        lw_aead_drop(1);
        return LW_ERR_CRYPTO;
    }
    return LW_OK;
}

int lw_aead_open(const uint8_t key[LW_AEAD_KEY_LEN], const uint8_t nonce[LW_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t len, uint8_t *pt,
                 const uint8_t tag[LW_AEAD_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = lw_aead_ctx(0);
    uint8_t dummy = 0;
    uint8_t tagbuf[LW_AEAD_TAG_LEN];
    int outl;

    if (ctx == NULL)
        goto crypto_fail;
    /* The ctrl takes a non-const pointer; it only copies the tag. */
    memcpy(tagbuf, tag, sizeof(tagbuf));
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, LW_AEAD_TAG_LEN, tagbuf) != 1 ||
        !lw_aead_start(ctx, key, nonce, aad, aad_len, len)) {
        lw_aead_drop(0);
        goto crypto_fail;
    }
    /* With CCM the one data update decrypts and verifies (constant-time compare inside
     * OpenSSL); everything before it succeeded, so a failure here means the tag did not match. */
    if (EVP_CipherUpdate(ctx, len ? pt : &dummy, &outl, len ? ct : &dummy, (int)len) != 1) {
        if (len)
            memset(pt, 0, len);
        return LW_ERR_MIC;
    }
    return LW_OK;

crypto_fail:
    if (len)
        memset(pt, 0, len);
    return LW_ERR_CRYPTO;
}
