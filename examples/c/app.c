/*
 * A C program using an installed lkr-crypt (docs/platforms.md#the-c-library):
 *
 *   make install PREFIX=$HOME/.local
 *   export PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig
 *   cc app.c $(pkg-config --cflags --libs lkr_crypt) -Wl,-rpath,$(pkg-config --variable=libdir lkr_crypt) -o app
 *   ./app
 *
 * A CMK of 32 random bytes, a new keystore in memory, one record encrypted and decrypted
 * under its context, and the same record refused once one byte of it is changed.
 */
#include <lkr_crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, int32_t rc)
{
    char msg[512];
    lkr_last_error(msg, sizeof msg);
    fprintf(stderr, "app: %s failed: %s (%s)\n", what, lkr_status_name(rc), msg);
    return 1;
}

int main(void)
{
    static const char secret[] = "hunter2";
    static const char ctx[] = "CONNECTION.PASSWORD:42";
    uint8_t cmk[32], env[256], back[256];
    size_t env_len = 0, back_len = 0;
    struct LkrMasterKey *key = NULL;
    struct LkrCrypt *crypt = NULL;
    int32_t rc;
    FILE *urandom = fopen("/dev/urandom", "rb");

    if (!urandom || fread(cmk, 1, sizeof cmk, urandom) != sizeof cmk) {
        fprintf(stderr, "app: cannot read 32 bytes from /dev/urandom\n");
        return 1;
    }
    fclose(urandom);
    if ((rc = lkr_master_key_local(cmk, sizeof cmk, &key)) != LKR_OK)
        return fail("lkr_master_key_local", rc);
    memset(cmk, 0, sizeof cmk);
    rc = lkr_open_bytes(key, NULL, 0, &crypt); /* a new keystore, in memory */
    lkr_master_key_free(key);
    if (rc != LKR_OK)
        return fail("lkr_open_bytes", rc);

    rc = lkr_encrypt(crypt, (const uint8_t *)secret, strlen(secret), (const uint8_t *)ctx,
                     strlen(ctx), env, sizeof env, &env_len);
    if (rc != LKR_OK)
        return fail("lkr_encrypt", rc);
    rc = lkr_decrypt(crypt, env, env_len, (const uint8_t *)ctx, strlen(ctx), back, sizeof back,
                     &back_len);
    if (rc != LKR_OK)
        return fail("lkr_decrypt", rc);
    if (back_len != strlen(secret) || memcmp(back, secret, back_len) != 0) {
        fprintf(stderr, "app: the decrypted record differs from the plaintext\n");
        return 1;
    }
    env[env_len - 1] ^= 1;
    rc = lkr_decrypt(crypt, env, env_len, (const uint8_t *)ctx, strlen(ctx), back, sizeof back,
                     &back_len);
    if (rc != LKR_ERR_NOT_AUTHENTIC) {
        fprintf(stderr, "app: a changed record gave %s, not NOT_AUTHENTIC\n", lkr_status_name(rc));
        return 1;
    }
    lkr_close(crypt);
    printf("lkr-crypt %s: a %zu-byte envelope round trip, a changed byte refused\n",
           lkr_version(), env_len);
    return 0;
}
