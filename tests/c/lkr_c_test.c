/*
 * lkr_c_test: a C99 program that checks the C ABI of liblkr_crypt (docs/keys.md, docs/envelope.md, docs/legacy.md, docs/native-interfaces.md)
 * through include/lkr_crypt.h only, the way a C caller uses it.
 *
 * Built and run by tests/c_abi.rs (`cargo test --test c_abi`); by hand:
 *
 *   cc -std=c99 -Wall -Wextra -Werror -pthread -Iinclude tests/c/lkr_c_test.c \
 *      -Ltarget/debug -llkr_crypt -o /tmp/lkr_c_test
 *   LD_LIBRARY_PATH=target/debug LKR_MASTER_KEY_ENV="$(openssl rand -base64 32)" \
 *      LKR_LEGACY_KEY_ENV=... LKR_TEST_LEGACY_KEY_HEX=... LKR_TEST_LEGACY_TEXT_HEX=... \
 *      LKR_TEST_LEGACY_TEXT_PLAIN_HEX=... LKR_TEST_LEGACY_BIN_HEX=... \
 *      LKR_TEST_LEGACY_BIN_PLAIN_HEX=... LKR_TEST_LEGACY_BADPAD_HEX=... \
 *      /tmp/lkr_c_test /an/empty/directory
 *
 * argv[1] is an existing, empty directory: the keystore (argv[1]/keystore.json, created on
 * the first open) and the key files of the CMK checks go there. The legacy values are made
 * by the caller with `openssl enc -aes-128-cbc -K <key> -iv <iv> -nosalt` (IV ‖ ciphertext,
 * hex) so that they come from an independent implementation:
 *
 *   LKR_TEST_LEGACY_KEY_HEX         the 16-byte legacy key (also in LKR_LEGACY_KEY_ENV, base64)
 *   LKR_TEST_LEGACY_TEXT_HEX        a legacy value whose plaintext is UTF-8 text
 *   LKR_TEST_LEGACY_TEXT_PLAIN_HEX  ... and that plaintext
 *   LKR_TEST_LEGACY_BIN_HEX         a legacy value whose plaintext is not valid UTF-8
 *   LKR_TEST_LEGACY_BIN_PLAIN_HEX   ... and that plaintext
 *   LKR_TEST_LEGACY_BADPAD_HEX      a legacy value with invalid PKCS#7 padding (-nopad)
 *
 * Prints one line per check ("ok N - ..." or "FAIL N - ...: why") and finally
 * "P passed, F failed"; exits 0 only when every check passed.
 *
 * LKR_TEST_OPS_PER_THREAD (optional) sets the round trips per thread of the thread test
 * (default 2000; tests/sanitizers.sh uses fewer under valgrind), and LKR_TEST_SELF (optional)
 * the path the CMK checks re-execute (default /proc/self/exe, which under valgrind is the
 * valgrind tool, not this program), and LKR_TEST_RUNNER (optional) a command that runs this
 * program's architecture, words split on spaces (e.g. `qemu-aarch64-static -L
 * /usr/aarch64-linux-gnu` for a cross build): the CMK checks re-execute through it.
 * LKR_TEST_EMULATED=qemu-user says the program runs under qemu-user, which ignores
 * MADV_WIPEONFORK: the raw clone(2) nonce check then checks that instead (see there).
 *
 * `lkr_c_test --child-open KEYSTORE` is the re-executed child of the CMK configuration
 * checks: it opens KEYSTORE with the environment it was given and prints the status code
 * and lkr_last_error's message on two lines.
 */
#define _GNU_SOURCE /* syscall(SYS_clone, ...), MAP_NORESERVE */

#include "lkr_crypt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CTX "CONNECTION.PASSWORD:42"
#define CTX_LEN (sizeof(CTX) - 1)
#define OVERHEAD 69u
#define HEADER_LEN 53u

#define N_THREADS 8
/* Round trips per thread; LKR_TEST_OPS_PER_THREAD lowers it (e.g. under valgrind). */
static int OPS_PER_THREAD = 2000;
#define THREAD_MAX_PT 300

/* ------------------------------------------------------------------------------------ */
/* Reporting                                                                            */
/* ------------------------------------------------------------------------------------ */

static int g_passed;
static int g_failed;
static char g_err[4096];

static void pass(const char *what)
{
    g_passed++;
    printf("ok %d - %s\n", g_passed + g_failed, what);
    fflush(stdout);
}

static void fail(const char *what, const char *fmt, ...)
{
    va_list ap;
    char why[2048];
    g_failed++;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    printf("FAIL %d - %s: %s\n", g_passed + g_failed, what, why);
    fflush(stdout);
    fprintf(stderr, "lkr_c_test: FAILED CHECK: %s: %s\n", what, why);
    fflush(stderr);
}

/* Passes when cond holds, otherwise fails with the formatted reason. Returns cond. */
static int check(int cond, const char *what, const char *fmt, ...)
{
    if (cond) {
        pass(what);
    } else {
        va_list ap;
        char why[2048];
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        fail(what, "%s", why);
    }
    return cond;
}

/* Stops the run: a check that later checks depend on failed. */
static void fatal(const char *what)
{
    printf("%d passed, %d failed\n", g_passed, g_failed);
    fflush(stdout);
    fprintf(stderr, "lkr_c_test: aborting: %s failed, later checks depend on it\n", what);
    exit(2);
}

/* This (main) thread's last error message. */
static const char *last_err(void)
{
    g_err[0] = '\0';
    lkr_last_error(g_err, sizeof g_err);
    return g_err;
}

static const char *st(int32_t rc)
{
    const char *n = lkr_status_name(rc);
    return n ? n : "(null)";
}

/* Passes when rc == want. Returns 1 when it did. */
static int expect_rc(int32_t rc, int32_t want, const char *what)
{
    if (rc == want) {
        pass(what);
        return 1;
    }
    fail(what, "returned %d (%s), expected %d (%s); lkr_last_error: \"%s\"", (int)rc, st(rc),
         (int)want, st(want), last_err());
    return 0;
}

static int contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                              */
/* ------------------------------------------------------------------------------------ */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "lkr_c_test: out of memory\n");
        exit(2);
    }
    return p;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the hex in the environment variable `name`; exits with a usage error if it is
 * missing or malformed. */
static unsigned char *hex_env(const char *name, size_t *len)
{
    const char *hex = getenv(name);
    size_t n, i;
    unsigned char *out;
    if (!hex) {
        fprintf(stderr, "lkr_c_test: usage error: the environment variable %s is not set "
                        "(see the comment at the top of lkr_c_test.c)\n", name);
        exit(2);
    }
    n = strlen(hex);
    if (n % 2 != 0) {
        fprintf(stderr, "lkr_c_test: usage error: %s is not hex (odd length)\n", name);
        exit(2);
    }
    out = xmalloc(n / 2);
    for (i = 0; i < n / 2; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "lkr_c_test: usage error: %s is not hex\n", name);
            exit(2);
        }
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    *len = n / 2;
    return out;
}

static void base64_encode(const unsigned char *in, size_t len, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = ((unsigned)in[i] << 16) | ((unsigned)in[i + 1] << 8) | in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = t[(v >> 6) & 63];
        out[o++] = t[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        unsigned v = ((unsigned)in[i] << 16) | ((unsigned)in[i + 1] << 8);
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = t[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

static void fill_pattern(unsigned char *buf, size_t len, unsigned seed)
{
    size_t i;
    for (i = 0; i < len; i++)
        buf[i] = (unsigned char)((i * 131u + seed * 7u + 3u) & 0xFFu);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f;
    unlink(path);
    f = fopen(path, "w");
    if (!f)
        return -1;
    if (fputs(text, f) == EOF) {
        fclose(f);
        return -1;
    }
    if (fclose(f) != 0)
        return -1;
    return chmod(path, mode);
}

/* Encrypts and returns a malloc'd envelope (exits when the encryption fails). */
static unsigned char *encrypt_new(const LkrCrypt *h, const unsigned char *pt, size_t pt_len,
                                  const char *ctx, size_t *env_len)
{
    size_t cap = lkr_encrypted_len(pt_len);
    unsigned char *env = xmalloc(cap);
    int32_t rc = lkr_encrypt(h, pt, pt_len, (const uint8_t *)ctx, ctx ? strlen(ctx) : 0, env,
                             cap, env_len);
    if (rc != LKR_OK) {
        fail("helper encrypt", "returned %d (%s): %s", (int)rc, st(rc), last_err());
        fatal("helper encrypt");
    }
    return env;
}

/* Decrypts env under ctx and compares it with pt. Returns 1 when equal. */
static int decrypts_to(const LkrCrypt *h, const unsigned char *env, size_t env_len,
                       const char *ctx, const unsigned char *pt, size_t pt_len, char *why,
                       size_t why_cap)
{
    size_t cap = lkr_decrypted_len(env_len) + 1, n = (size_t)-1;
    unsigned char *out = xmalloc(cap);
    int32_t rc = lkr_decrypt(h, env, env_len, (const uint8_t *)ctx, ctx ? strlen(ctx) : 0, out,
                             cap, &n);
    int ok = 0;
    if (rc != LKR_OK)
        snprintf(why, why_cap, "lkr_decrypt returned %d (%s): %s", (int)rc, st(rc), last_err());
    else if (n != pt_len)
        snprintf(why, why_cap, "plaintext length %zu, expected %zu", n, pt_len);
    else if (pt_len && memcmp(out, pt, pt_len) != 0)
        snprintf(why, why_cap, "plaintext differs from the original");
    else
        ok = 1;
    free(out);
    return ok;
}

/* ------------------------------------------------------------------------------------ */
/* Child process: CMK configuration checks need their own environment                   */
/* ------------------------------------------------------------------------------------ */

static int child_open(const char *keystore)
{
    LkrCrypt *h = NULL;
    char msg[2048];
    int32_t rc = lkr_open_from_env(keystore, &h);
    msg[0] = '\0';
    if (rc != LKR_OK) {
        lkr_last_error(msg, sizeof msg);
        if (h != NULL)
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg),
                     " [and *out was not set to NULL]");
    } else if (h == NULL) {
        rc = -1;
        snprintf(msg, sizeof msg, "lkr_open_from_env returned LKR_OK with a NULL handle");
    }
    printf("%d\n%s\n", (int)rc, msg);
    fflush(stdout);
    lkr_close(h);
    return 0;
}

static int is_cmk_var(const char *entry)
{
    static const char *const names[] = {"LKR_MASTER_KEY_ENV=", "LKR_MASTER_KEY_FILE=",
                                        "LKR_AWS_CMK=", NULL};
    int i;
    for (i = 0; names[i]; i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

/* Re-executes this program as `--child-open keystore` with this environment minus every
 * CMK variable plus `vars` ("NAME=value", NULL-terminated). Stores the child's status code
 * and message. Returns 0 when the child ran and reported, -1 otherwise (msg says why). */
static int run_child(const char *keystore, const char *const *vars, int32_t *rc, char *msg,
                     size_t msg_cap)
{
    size_t n_env = 0, n_vars = 0, i, k = 0, got = 0;
    char **envp;
    int fds[2], status;
    pid_t pid;
    char buf[4096];
    char arg0[] = "lkr_c_test", arg1[] = "--child-open";
    char *argv[20];
    char *runner = getenv("LKR_TEST_RUNNER") ? strdup(getenv("LKR_TEST_RUNNER")) : NULL;
    size_t a = 0;
    char *nl, *end;
    long v;

    while (environ[n_env])
        n_env++;
    while (vars[n_vars])
        n_vars++;
    envp = xmalloc((n_env + n_vars + 1) * sizeof *envp);
    for (i = 0; i < n_env; i++)
        if (!is_cmk_var(environ[i]))
            envp[k++] = environ[i];
    for (i = 0; i < n_vars; i++)
        envp[k++] = (char *)vars[i];
    envp[k] = NULL;
    /* Through LKR_TEST_RUNNER when set: its words, then this program's path. */
    for (char *w = runner ? strtok(runner, " ") : NULL; w && a < 16; w = strtok(NULL, " "))
        argv[a++] = w;
    if (a > 0)
        argv[a++] = getenv("LKR_TEST_SELF") ? getenv("LKR_TEST_SELF") : arg0;
    else
        argv[a++] = arg0;
    argv[a++] = arg1;
    argv[a++] = (char *)keystore;
    argv[a] = NULL;

    if (pipe(fds) != 0) {
        snprintf(msg, msg_cap, "pipe: %s", strerror(errno));
        free(envp);
        free(runner);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        snprintf(msg, msg_cap, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        free(envp);
        free(runner);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(126);
        close(fds[1]);
        /* LKR_TEST_SELF: this program's path, for runners where /proc/self/exe is not it
         * (valgrind: it is the valgrind tool). */
        if (runner && argv[0] != arg0)
            execvpe(argv[0], argv, envp);
        else
            execve(getenv("LKR_TEST_SELF") ? getenv("LKR_TEST_SELF") : "/proc/self/exe", argv,
                   envp);
        _exit(127);
    }
    close(fds[1]);
    free(envp);
    free(runner);
    for (;;) {
        ssize_t r = read(fds[0], buf + got, sizeof buf - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == sizeof buf - 1)
            break;
    }
    close(fds[0]);
    buf[got] = '\0';
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(msg, msg_cap, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(msg, msg_cap, "the child process did not exit cleanly (wait status %d; "
                 "a crash inside lkr_open_from_env?); its output: %.1000s", status, buf);
        return -1;
    }
    errno = 0;
    v = strtol(buf, &end, 10);
    if (errno != 0 || end == buf || *end != '\n') {
        snprintf(msg, msg_cap, "unexpected child output: \"%.1000s\"", buf);
        return -1;
    }
    *rc = (int32_t)v;
    nl = strrchr(end + 1, '\n');
    if (nl)
        *nl = '\0';
    snprintf(msg, msg_cap, "%s", end + 1);
    return 0;
}

/* Runs a child with `vars` and checks its status (want, or any error when want < 0) and
 * that its message contains `needle` (when not NULL). */
static void check_child(const char *what, const char *keystore, const char *const *vars,
                        int32_t want, const char *needle)
{
    int32_t rc = -1;
    char msg[4096];
    if (run_child(keystore, vars, &rc, msg, sizeof msg) != 0) {
        fail(what, "%s", msg);
        return;
    }
    if (want >= 0 && rc != want) {
        fail(what, "returned %d (%s), expected %d (%s); message: \"%s\"", (int)rc, st(rc),
             (int)want, st(want), msg);
        return;
    }
    if (want < 0 && rc == LKR_OK) {
        fail(what, "returned LKR_OK, expected an error");
        return;
    }
    if (needle && !contains(msg, needle)) {
        fail(what, "message \"%s\" does not contain \"%s\"", msg, needle);
        return;
    }
    pass(what);
}

/* ------------------------------------------------------------------------------------ */
/* Threads sharing one handle                                                           */
/* ------------------------------------------------------------------------------------ */

struct thread_arg {
    const LkrCrypt *h;
    int id;
    unsigned char *salts_nonces; /* OPS_PER_THREAD x 44 bytes: salt ‖ nonce of each envelope */
    int failures;
    char why[512];
};

static void thread_fail(struct thread_arg *a, const char *fmt, ...)
{
    va_list ap;
    if (a->failures++ == 0) {
        va_start(ap, fmt);
        vsnprintf(a->why, sizeof a->why, fmt, ap);
        va_end(ap);
    }
}

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    unsigned char pt[THREAD_MAX_PT], env[THREAD_MAX_PT + OVERHEAD], out[THREAD_MAX_PT];
    char ctx[64], msg[512];
    int i;

    /* lkr_last_error is per thread: a fresh thread has no message yet. */
    if (lkr_last_error(NULL, 0) != 0)
        thread_fail(a, "thread %d: lkr_last_error is not empty in a new thread", a->id);

    for (i = 0; i < OPS_PER_THREAD; i++) {
        size_t len = (size_t)((i * 37 + a->id * 11) % THREAD_MAX_PT), n = 0, m = 0;
        int32_t rc;
        int ctx_len = snprintf(ctx, sizeof ctx, "T%d.OP:%d", a->id, i);
        fill_pattern(pt, len, (unsigned)(a->id * 100000 + i));
        rc = lkr_encrypt(a->h, pt, len, (const uint8_t *)ctx, (size_t)ctx_len, env, sizeof env,
                         &n);
        if (rc != LKR_OK || n != len + OVERHEAD) {
            thread_fail(a, "thread %d op %d: lkr_encrypt returned %d, length %zu", a->id, i,
                        (int)rc, n);
            continue;
        }
        memcpy(a->salts_nonces + (size_t)i * 44, env + 9, 44);
        rc = lkr_decrypt(a->h, env, n, (const uint8_t *)ctx, (size_t)ctx_len, out, sizeof out,
                         &m);
        if (rc != LKR_OK || m != len || (len && memcmp(out, pt, len) != 0)) {
            thread_fail(a, "thread %d op %d: round trip failed (status %d, length %zu of %zu)",
                        a->id, i, (int)rc, m, len);
            continue;
        }
        if (i % 97 == 0) {
            /* Another context must fail, with this thread's own message. */
            rc = lkr_decrypt(a->h, env, n, (const uint8_t *)ctx, (size_t)ctx_len - 1, out,
                             sizeof out, &m);
            msg[0] = '\0';
            if (rc != LKR_ERR_NOT_AUTHENTIC)
                thread_fail(a, "thread %d op %d: wrong context gave %d, not NOT_AUTHENTIC",
                            a->id, i, (int)rc);
            else if (lkr_last_error(msg, sizeof msg) == 0 || msg[0] == '\0')
                thread_fail(a, "thread %d op %d: no lkr_last_error message after a failure",
                            a->id, i);
        }
    }
    return NULL;
}

static int cmp44(const void *x, const void *y)
{
    return memcmp(x, y, 44);
}

/* ------------------------------------------------------------------------------------ */
/* The checks                                                                           */
/* ------------------------------------------------------------------------------------ */

/* Streams (docs/stream.md): encrypt in odd-sized pieces, decrypt in other pieces, and reject a
 * truncated stream. */
static void check_streams(const LkrCrypt *h)
{
    const size_t seg = 4096, total = 3 * 4096 + 77;
    unsigned char *pt = xmalloc(total), *sealed = xmalloc(total + 52 + 16 * 8), *back = xmalloc(total + 4096);
    size_t sealed_len = 0, back_len = 0, n = 0, i;
    LkrStreamEncryptor *enc = NULL;
    LkrStreamDecryptor *dec = NULL;
    int ok = 1;
    fill_pattern(pt, total, 11);
    if (!expect_rc(lkr_stream_encrypt_init(h, (const uint8_t *)"backup:1", 8, seg, sealed, 52, &n, &enc),
                   LKR_OK, "lkr_stream_encrypt_init"))
        fatal("lkr_stream_encrypt_init");
    check(n == LKR_STREAM_HEADER_LEN && memcmp(sealed, "LKS\x01\x01", 5) == 0, "stream header written",
          "header_len %zu", n);
    sealed_len = n;
    for (i = 0; i < total && ok; i += 1000) {
        size_t piece = total - i < 1000 ? total - i : 1000;
        size_t need = lkr_stream_encrypt_update_max_len(enc, piece);
        ok = lkr_stream_encrypt_update(enc, pt + i, piece, sealed + sealed_len, need, &n) == LKR_OK;
        sealed_len += n;
    }
    ok = ok && lkr_stream_encrypt_finish(enc, sealed + sealed_len, seg + 16, &n) == LKR_OK;
    sealed_len += n;
    check(ok && sealed_len == 52 + total + 4 * 16, "stream encrypted in 1000-byte pieces",
          "ok %d, length %zu: %s", ok, sealed_len, last_err());
    check(lkr_stream_encrypt_finish(enc, sealed, seg + 16, &n) == LKR_ERR_INVALID_ARGUMENT,
          "finish twice is refused", "%s", last_err());
    lkr_stream_encryptor_free(enc);
    lkr_stream_encryptor_free(NULL);

    if (!expect_rc(lkr_stream_decrypt_init(h, sealed, 52, (const uint8_t *)"backup:1", 8, &dec), LKR_OK,
                   "lkr_stream_decrypt_init"))
        fatal("lkr_stream_decrypt_init");
    ok = 1;
    for (i = 52; i < sealed_len && ok; i += 777) {
        size_t piece = sealed_len - i < 777 ? sealed_len - i : 777;
        ok = lkr_stream_decrypt_update(dec, sealed + i, piece, back + back_len,
                                       lkr_stream_decrypt_update_max_len(dec, piece), &n) == LKR_OK;
        back_len += n;
    }
    ok = ok && lkr_stream_decrypt_finish(dec, back + back_len, seg, &n) == LKR_OK;
    back_len += n;
    check(ok && back_len == total && memcmp(back, pt, total) == 0, "stream decrypts to the original",
          "ok %d, length %zu: %s", ok, back_len, last_err());
    lkr_stream_decryptor_free(dec);

    /* Cut at a segment boundary: the last full segment is not the stream's last. */
    dec = NULL;
    lkr_stream_decrypt_init(h, sealed, 52, (const uint8_t *)"backup:1", 8, &dec);
    back_len = 0;
    ok = lkr_stream_decrypt_update(dec, sealed + 52, 2 * (seg + 16), back, 2 * seg, &n) == LKR_OK;
    check(ok && n == seg, "one segment released, the newest held back", "n %zu", n);
    expect_rc(lkr_stream_decrypt_finish(dec, back, seg, &n), LKR_ERR_NOT_AUTHENTIC,
              "truncated stream rejected at finish");
    lkr_stream_decryptor_free(dec);
    expect_rc(lkr_stream_decrypt_init(h, sealed, 52, (const uint8_t *)"backup:2", 8, &dec), LKR_OK,
              "decrypt_init does not yet know the context is wrong");
    n = 0;
    check(lkr_stream_decrypt_update(dec, sealed + 52, sealed_len - 52, back,
                                    lkr_stream_decrypt_update_max_len(dec, sealed_len - 52), &n) ==
              LKR_ERR_NOT_AUTHENTIC,
          "wrong stream context rejected", "%s", last_err());
    lkr_stream_decryptor_free(dec);
    expect_rc(lkr_stream_decrypt_init(h, (const uint8_t *)"LKX", 3, NULL, 0, &dec), LKR_ERR_NOT_AUTHENTIC,
              "not a stream header");
    check(dec == NULL, "no decryptor on failure", "dec %p", (void *)dec);
    expect_rc(lkr_stream_encrypt_init(h, NULL, 0, 100, sealed, 52, &n, &enc), LKR_ERR_INVALID_ARGUMENT,
              "segment size below 4096 refused");
    expect_rc(lkr_stream_encrypt_update(NULL, pt, 1, sealed, 10, &n), LKR_ERR_INVALID_ARGUMENT,
              "NULL stream encryptor refused");
    free(pt);
    free(sealed);
    free(back);
}

/* Rotation and retiring through the C ABI: the new handle encrypts under KEK 2, decrypts
 * what KEK 1 encrypted; the old handle is unchanged. (Rekey is checked in child runs.) */
static void check_rotation(const LkrCrypt *h)
{
    LkrCrypt *r = NULL, *t = NULL;
    unsigned char env1[64 + 69], env2[64 + 69], back[64];
    size_t n1 = 0, n2 = 0, n = 0;
    check(lkr_active_kek_id(h) == 1, "active KEK is 1", "got %u", lkr_active_kek_id(h));
    check(lkr_active_kek_id(NULL) == 0, "lkr_active_kek_id(NULL) is 0", "");
    lkr_encrypt(h, (const uint8_t *)"rot", 3, NULL, 0, env1, sizeof env1, &n1);
    if (!expect_rc(lkr_rotate_kek(h, &r), LKR_OK, "lkr_rotate_kek"))
        return;
    check(lkr_active_kek_id(r) == 2 && lkr_active_kek_id(h) == 1, "rotation: new handle on KEK 2, old on 1",
          "new %u old %u", lkr_active_kek_id(r), lkr_active_kek_id(h));
    lkr_encrypt(r, (const uint8_t *)"new", 3, NULL, 0, env2, sizeof env2, &n2);
    check(n2 == 72 && env2[8] == 2, "envelope names KEK 2", "byte %d", env2[8]);
    check(lkr_decrypt(r, env1, n1, NULL, 0, back, sizeof back, &n) == LKR_OK && n == 3 &&
              memcmp(back, "rot", 3) == 0,
          "rotated handle decrypts a KEK 1 value", "%s", last_err());
    expect_rc(lkr_decrypt(h, env2, n2, NULL, 0, back, sizeof back, &n), LKR_ERR_UNKNOWN_KEK,
              "old handle does not know KEK 2");
    expect_rc(lkr_retire_kek(r, 2, &t), LKR_ERR_INVALID_ARGUMENT, "the active KEK cannot be retired");
    if (expect_rc(lkr_retire_kek(r, 1, &t), LKR_OK, "lkr_retire_kek(1)")) {
        expect_rc(lkr_decrypt(t, env1, n1, NULL, 0, back, sizeof back, &n), LKR_ERR_UNKNOWN_KEK,
                  "a retired KEK's values no longer decrypt");
        lkr_close(t);
    }
    lkr_close(r);
    r = NULL;
    expect_rc(lkr_rotate_kek(NULL, &r), LKR_ERR_INVALID_ARGUMENT, "lkr_rotate_kek(NULL) refused");
    check(r == NULL, "out is NULL after a failure", "");
    expect_rc(lkr_rekey_from_env(h, &t), LKR_ERR_MASTER_KEY, "rekey without a destination CMK is refused");
}

/* Reads a whole small file into a malloc'd, NUL-terminated buffer (NULL when it fails). */
static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    if (!f)
        return NULL;
    buf = xmalloc(65536);
    n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* docs/native-interfaces.md rotate_kek and rekey of a keystore file, and re-encryption to the active KEK, with
 * the CMKs given by the environment (LKR_MASTER_KEY_ENV, then the _SOURCE/_DESTINATION
 * variables, set and unset here on the main thread). */
static void check_file_rotation_and_rekey(const char *dir)
{
    static const char dest_cmk[] = "ZGVzdGluYXRpb24gQ01LIGZvciB0aGUgQyB0ZXN0ISE=";
    char ks[4096], why[512];
    const char *cmk = getenv("LKR_MASTER_KEY_ENV");
    char *saved_cmk, *before, *after;
    LkrCrypt *h = NULL, *r = NULL, *k = NULL, *o = NULL;
    unsigned char pt[40], *v1, *moved, *again, *mig;
    size_t n1 = 0, nm = 0, na = 0, ng = 0;
    uint32_t id = 99;
    int32_t changed = -1, outcome = -1;

    if (!cmk) {
        fail("file rotation", "LKR_MASTER_KEY_ENV is not set");
        return;
    }
    saved_cmk = strdup(cmk);
    snprintf(ks, sizeof ks, "%s/rotated-keystore.json", dir);
    unlink(ks);
    if (!expect_rc(lkr_open_from_env(ks, &h), LKR_OK, "open a second keystore file"))
        goto out;
    fill_pattern(pt, sizeof pt, 5);
    v1 = encrypt_new(h, pt, sizeof pt, CTX, &n1);
    expect_rc(lkr_rotate_kek_file_from_env(NULL, &r), LKR_ERR_INVALID_ARGUMENT,
              "lkr_rotate_kek_file_from_env(NULL) refused");
    if (!expect_rc(lkr_rotate_kek_file_from_env(ks, &r), LKR_OK, "lkr_rotate_kek_file_from_env"))
        goto out;
    check(lkr_active_kek_id(r) == 2, "the rotated file's handle is on KEK 2", "%u",
          lkr_active_kek_id(r));
    if (expect_rc(lkr_open_from_env(ks, &o), LKR_OK, "reopen the rotated keystore file")) {
        check(lkr_active_kek_id(o) == 2, "the rotation was persisted in the file", "%u",
              lkr_active_kek_id(o));
        check(decrypts_to(o, v1, n1, CTX, pt, sizeof pt, why, sizeof why),
              "a value written before the rotation decrypts after reopening", "%s", why);
        lkr_close(o);
        o = NULL;
    }
    /* Re-encryption to the active KEK. */
    check(lkr_kek_id_of(r, v1, n1, (const uint8_t *)CTX, CTX_LEN, &id) == LKR_OK && id == 1,
          "lkr_kek_id_of names KEK 1 for the old value", "id %u: %s", id, last_err());
    moved = xmalloc(n1);
    if (expect_rc(lkr_reencrypt(r, v1, n1, (const uint8_t *)CTX, CTX_LEN, moved, n1, &nm, &changed),
                  LKR_OK, "lkr_reencrypt")) {
        check(changed == 1 && nm == n1, "lkr_reencrypt re-encrypted it (same length)", "changed %d, %zu",
              (int)changed, nm);
        check(lkr_kek_id_of(r, moved, nm, (const uint8_t *)CTX, CTX_LEN, &id) == LKR_OK && id == 2,
              "the re-encrypted value is under KEK 2", "id %u", id);
        check(decrypts_to(r, moved, nm, CTX, pt, sizeof pt, why, sizeof why),
              "the re-encrypted value decrypts to the original", "%s", why);
        again = xmalloc(nm);
        check(lkr_reencrypt(r, moved, nm, (const uint8_t *)CTX, CTX_LEN, again, nm, &na, &changed) ==
                      LKR_OK &&
                  changed == 0 && na == nm && memcmp(again, moved, nm) == 0,
              "lkr_reencrypt of a value under the active KEK copies it unchanged", "changed %d",
              (int)changed);
        expect_rc(lkr_reencrypt(r, v1, n1, (const uint8_t *)CTX, CTX_LEN, again, n1 - 1, &na, NULL),
                  LKR_ERR_BUFFER_TOO_SMALL, "lkr_reencrypt into a short buffer");
        moved[nm - 1] ^= 1;
        expect_rc(lkr_reencrypt(r, moved, nm, (const uint8_t *)CTX, CTX_LEN, again, nm, &na, NULL),
                  LKR_ERR_NOT_AUTHENTIC, "lkr_reencrypt of a tampered value");
        expect_rc(lkr_kek_id_of(r, moved, nm, (const uint8_t *)CTX, CTX_LEN, &id), LKR_ERR_NOT_AUTHENTIC,
                  "lkr_kek_id_of of a tampered value");
        free(again);
    }
    expect_rc(lkr_kek_id_of(r, v1, n1, (const uint8_t *)CTX, CTX_LEN, NULL), LKR_ERR_INVALID_ARGUMENT,
              "lkr_kek_id_of with a NULL kek_id");
    mig = xmalloc(lkr_migrated_max_len(n1));
    check(lkr_migrate_ex(r, NULL, 0, LKR_MIGRATE_REENCRYPT, v1, n1, (const uint8_t *)CTX, CTX_LEN, mig,
                         lkr_migrated_max_len(n1), &ng, &outcome) == LKR_OK &&
              outcome == LKR_MIGRATED_ROTATED,
          "lkr_migrate_ex with LKR_MIGRATE_REENCRYPT moves an old KEK's value "
          "(*outcome = LKR_MIGRATED_ROTATED)",
          "outcome %d: %s", (int)outcome, last_err());
    expect_rc(lkr_migrate_ex(r, NULL, 0, 8, v1, n1, (const uint8_t *)CTX, CTX_LEN, mig,
                             lkr_migrated_max_len(n1), &ng, NULL),
              LKR_ERR_INVALID_ARGUMENT, "lkr_migrate_ex with an unknown flag");
    free(mig);
    free(moved);

    /* Rekey the file: LKR_MASTER_KEY_ENV_SOURCE -> LKR_MASTER_KEY_ENV_DESTINATION. */
    expect_rc(lkr_rekey_file_from_env(ks, &k), LKR_ERR_MASTER_KEY,
              "lkr_rekey_file_from_env without _SOURCE/_DESTINATION is refused");
    setenv("LKR_MASTER_KEY_ENV_SOURCE", dest_cmk, 1);
    setenv("LKR_MASTER_KEY_ENV_DESTINATION", saved_cmk, 1);
    before = read_small_file(ks);
    {
        int32_t rc = lkr_rekey_file_from_env(ks, &k);
        after = read_small_file(ks);
        check(rc == LKR_ERR_MASTER_KEY && contains(last_err(), "Master Key does not match the keystore") &&
                  contains(last_err(), "source") && k == NULL,
              "rekey with the wrong source CMK is refused, saying so", "status %d (%s): %s", (int)rc,
              st(rc), last_err());
        check(before && after && strcmp(before, after) == 0, "a refused rekey leaves the file unchanged", "");
        free(before);
        free(after);
    }
    setenv("LKR_MASTER_KEY_ENV_SOURCE", saved_cmk, 1);
    setenv("LKR_MASTER_KEY_ENV_DESTINATION", dest_cmk, 1);
    if (expect_rc(lkr_rekey_file_from_env(ks, &k), LKR_OK, "lkr_rekey_file_from_env (local -> local)")) {
        check(decrypts_to(k, v1, n1, CTX, pt, sizeof pt, why, sizeof why),
              "the rekeyed handle decrypts a value written before the rekey", "%s", why);
        expect_rc(lkr_open_from_env(ks, &o), LKR_ERR_MASTER_KEY, "the old CMK no longer opens the file");
        setenv("LKR_MASTER_KEY_ENV", dest_cmk, 1);
        if (expect_rc(lkr_open_from_env(ks, &o), LKR_OK, "the destination CMK opens the rekeyed file")) {
            check(lkr_active_kek_id(o) == 2, "the rekey kept both KEKs (active 2)", "%u",
                  lkr_active_kek_id(o));
            check(decrypts_to(o, v1, n1, CTX, pt, sizeof pt, why, sizeof why),
                  "values written before the rekey decrypt with the destination CMK", "%s", why);
            lkr_close(o);
        }
        setenv("LKR_MASTER_KEY_ENV", saved_cmk, 1);
    }
    unsetenv("LKR_MASTER_KEY_ENV_SOURCE");
    unsetenv("LKR_MASTER_KEY_ENV_DESTINATION");
    free(v1);
out:
    lkr_close(k);
    lkr_close(r);
    lkr_close(h);
    free(saved_cmk);
}

/* The recovery key (docs/keystore.md): add it to a keystore file, rotate under it, refuse a
 * rotation without it, recover the file with the private key to a new CMK, and read back a value
 * written before. The RSA-3072 key pair is made by openssl (LKR_TEST_RECOVERY_PUBLIC_PEM,
 * LKR_TEST_RECOVERY_PRIVATE_PEM, mode 0400). */
static void check_recovery(const char *dir)
{
    static const char dest_cmk[] = "cmVjb3ZlcnkgZGVzdGluYXRpb24gQ01LIGZvciBDISE=";
    const char *pub = getenv("LKR_TEST_RECOVERY_PUBLIC_PEM");
    const char *priv = getenv("LKR_TEST_RECOVERY_PRIVATE_PEM");
    char ks[4096], why[512], sha[64];
    unsigned char pt[24], *v1 = NULL, *doc = NULL;
    size_t n1 = 0, len = 0, count = 0, doc_len = 0;
    uint32_t ids[8];
    LkrCrypt *h = NULL, *a = NULL, *r = NULL, *x = NULL, *k = NULL;
    char *before, *after;
    FILE *f;

    if (!pub || !priv) {
        fail("recovery", "LKR_TEST_RECOVERY_PUBLIC_PEM / LKR_TEST_RECOVERY_PRIVATE_PEM are not set");
        return;
    }
    snprintf(ks, sizeof ks, "%s/recovery-keystore.json", dir);
    unlink(ks);
    unsetenv("LKR_RECOVERY_PUBLIC_KEY_FILE");
    if (!expect_rc(lkr_open_from_env(ks, &h), LKR_OK, "open a keystore file for the recovery checks"))
        goto out;
    fill_pattern(pt, sizeof pt, 9);
    v1 = encrypt_new(h, pt, sizeof pt, CTX, &n1);
    check(lkr_recovery_key_sha256(h, (uint8_t *)sha, sizeof sha, &len) == LKR_OK && len == 0,
          "lkr_recovery_key_sha256: no recovery key yet (length 0)", "%zu: %s", len, last_err());
    check(lkr_recovery_kek_ids(h, 0, ids, 8, &count) == LKR_OK && count == 1 && ids[0] == 1,
          "lkr_recovery_kek_ids: KEK 1 is not covered", "%zu", count);
    expect_rc(lkr_add_recovery_key_from_env(h, &a), LKR_ERR_MASTER_KEY,
              "lkr_add_recovery_key_from_env without LKR_RECOVERY_PUBLIC_KEY_FILE is refused");
    setenv("LKR_RECOVERY_PUBLIC_KEY_FILE", pub, 1);
    if (getenv("LKR_TEST_NO_RSA")) {
        /* A build without aws-lc-rs (RustCrypto only) has no RSA: the key is refused, clearly. */
        int32_t rc = lkr_add_recovery_key_from_env(h, &a);
        check(rc == LKR_ERR_MASTER_KEY && contains(last_err(), "no RSA") && a == NULL,
              "a build without RSA refuses LKR_RECOVERY_PUBLIC_KEY_FILE", "status %d: %s", (int)rc,
              last_err());
        unsetenv("LKR_RECOVERY_PUBLIC_KEY_FILE");
        goto out;
    }
    if (!expect_rc(lkr_add_recovery_key_from_env(h, &a), LKR_OK, "lkr_add_recovery_key_from_env"))
        goto out;
    check(lkr_recovery_key_sha256(a, (uint8_t *)sha, sizeof sha, &len) == LKR_OK && len == 44,
          "lkr_recovery_key_sha256 gives the 44-character key_sha256", "%zu", len);
    expect_rc(lkr_recovery_key_sha256(a, (uint8_t *)sha, 10, &len), LKR_ERR_BUFFER_TOO_SMALL,
              "lkr_recovery_key_sha256 into a short buffer");
    check(lkr_recovery_kek_ids(a, 1, ids, 8, &count) == LKR_OK && count == 1 && ids[0] == 1,
          "lkr_recovery_kek_ids: KEK 1 is covered", "%zu", count);
    /* Persist it, then rotate the file under the recovery key. */
    doc_len = 65536;
    doc = xmalloc(doc_len);
    if (!expect_rc(lkr_export_keystore(a, doc, doc_len, &doc_len), LKR_OK, "export the keystore"))
        goto out;
    f = fopen(ks, "wb");
    if (!f || fwrite(doc, 1, doc_len, f) != doc_len || fclose(f) != 0) {
        fail("recovery", "cannot write %s", ks);
        goto out;
    }
    if (!expect_rc(lkr_rotate_kek_file_from_env(ks, &r), LKR_OK, "rotate a file with a recovery key"))
        goto out;
    check(lkr_recovery_kek_ids(r, 1, ids, 8, &count) == LKR_OK && count == 2 && ids[1] == 2,
          "the rotation wrapped KEK 2 under the recovery key too", "%zu", count);
    expect_rc(lkr_recovery_kek_ids(r, 1, ids, 1, &count), LKR_ERR_BUFFER_TOO_SMALL,
              "lkr_recovery_kek_ids into a short array");
    check(count == 2, "... and says how many are needed", "%zu", count);
    unsetenv("LKR_RECOVERY_PUBLIC_KEY_FILE");
    {
        int32_t rc = lkr_rotate_kek(r, &x);
        check(rc == LKR_ERR_KEYSTORE && contains(last_err(), "LKR_RECOVERY_PUBLIC_KEY_FILE is not set") &&
                  x == NULL,
              "rotation without LKR_RECOVERY_PUBLIC_KEY_FILE is refused", "status %d: %s", (int)rc,
              last_err());
    }
    /* The CMK is lost: recover the file with the private key to a new CMK. */
    expect_rc(lkr_recover_file_from_env(ks, priv, &k), LKR_ERR_MASTER_KEY,
              "lkr_recover_file_from_env without a _DESTINATION CMK is refused");
    setenv("LKR_MASTER_KEY_ENV_DESTINATION", dest_cmk, 1);
    expect_rc(lkr_recover_from_env(doc, doc_len, NULL, &k), LKR_ERR_INVALID_ARGUMENT,
              "lkr_recover_from_env with a NULL private key path");
    before = read_small_file(ks);
    if (expect_rc(lkr_export_keystore(h, doc, 65536, &doc_len), LKR_OK, "export a keystore without section")) {
        int32_t rc = lkr_recover_from_env(doc, doc_len, priv, &k);
        check(rc == LKR_ERR_KEYSTORE && contains(last_err(), "no recovery section") && k == NULL,
              "recover of a keystore without a recovery section is refused", "status %d: %s", (int)rc,
              last_err());
    }
    if (expect_rc(lkr_recover_file_from_env(ks, priv, &k), LKR_OK, "lkr_recover_file_from_env")) {
        after = read_small_file(ks);
        check(before && after && strcmp(before, after) != 0, "recover replaced the keystore file", "");
        free(after);
        check(lkr_active_kek_id(k) == 2, "the recovered keystore keeps the active KEK", "%u",
              lkr_active_kek_id(k));
        check(decrypts_to(k, v1, n1, CTX, pt, sizeof pt, why, sizeof why),
              "a value written before recover decrypts after it", "%s", why);
        lkr_close(x);
        x = NULL;
        expect_rc(lkr_open_from_env(ks, &x), LKR_ERR_MASTER_KEY, "the lost CMK no longer opens the file");
    }
    free(before);
    unsetenv("LKR_MASTER_KEY_ENV_DESTINATION");
out:
    free(v1);
    free(doc);
    lkr_close(k);
    lkr_close(x);
    lkr_close(r);
    lkr_close(a);
    lkr_close(h);
}

static void check_version_and_lengths(void)
{
    const char *v = lkr_version();
    unsigned maj, min, pat;
    char what[128];
    size_t sizes[] = {0, 1, 16, 4096};
    size_t i;
    int ok = 1;

    check(v != NULL && sscanf(v, "%u.%u.%u", &maj, &min, &pat) == 3, "lkr_version",
          "lkr_version() returned \"%s\", expected MAJOR.MINOR.PATCH", v ? v : "(NULL)");
    printf("# liblkr_crypt version %s\n", v ? v : "(NULL)");

    /* LKR_TEST_FIPS=1: the FIPS build, whose module must run in FIPS mode; else never 1. */
    {
        int want = getenv("LKR_TEST_FIPS") && strcmp(getenv("LKR_TEST_FIPS"), "1") == 0;
        check(lkr_fips_mode() == want, "lkr_fips_mode", "lkr_fips_mode() returned %d, expected %d",
              (int)lkr_fips_mode(), want);
        printf("# FIPS mode %d\n", (int)lkr_fips_mode());
    }

    check(strcmp(st(LKR_OK), "OK") == 0 && strcmp(st(LKR_ERR_NOT_AUTHENTIC), "NOT_AUTHENTIC") == 0 &&
              strcmp(st(LKR_ERR_BUFFER_TOO_SMALL), "BUFFER_TOO_SMALL") == 0 &&
              lkr_status_name(12345) != NULL && lkr_status_name(-1) != NULL,
          "lkr_status_name", "unexpected names: OK=%s NOT_AUTHENTIC=%s", st(LKR_OK),
          st(LKR_ERR_NOT_AUTHENTIC));

    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (lkr_encrypted_len(sizes[i]) != sizes[i] + OVERHEAD ||
            lkr_decrypted_len(sizes[i] + OVERHEAD) != sizes[i])
            ok = 0;
    }
    snprintf(what, sizeof what, "lkr_encrypted_len(n) = n + 69, lkr_decrypted_len inverse");
    check(ok, what, "lkr_encrypted_len(0/1/16/4096) = %zu/%zu/%zu/%zu", lkr_encrypted_len(0),
          lkr_encrypted_len(1), lkr_encrypted_len(16), lkr_encrypted_len(4096));
    check(lkr_encrypted_len(SIZE_MAX) == 0 && lkr_decrypted_len(68) == 0 &&
              lkr_decrypted_len(0) == 0,
          "lkr_encrypted_len too large = 0, lkr_decrypted_len too short = 0",
          "lkr_encrypted_len(SIZE_MAX)=%zu lkr_decrypted_len(68)=%zu", lkr_encrypted_len(SIZE_MAX),
          lkr_decrypted_len(68));
    /* A 48-byte legacy value holds at most 31 plaintext bytes. */
    check(lkr_migrated_max_len(48) >= lkr_encrypted_len(31) &&
              lkr_migrated_max_len(32) >= lkr_encrypted_len(15),
          "lkr_migrated_max_len is large enough", "lkr_migrated_max_len(48) = %zu < %zu",
          lkr_migrated_max_len(48), lkr_encrypted_len(31));
}

static void check_round_trips(const LkrCrypt *h)
{
    size_t sizes[] = {0, 1, 16, 4096};
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i], n = 0, m = (size_t)-1, n2 = 0;
        unsigned char *pt = xmalloc(len), *env = xmalloc(len + OVERHEAD),
                      *env2 = xmalloc(len + OVERHEAD), *out = xmalloc(len);
        char what[128];
        int32_t rc;
        fill_pattern(pt, len, (unsigned)len);
        snprintf(what, sizeof what, "encrypt + decrypt round trip, %zu bytes, with a context", len);
        rc = lkr_encrypt(h, pt, len, (const uint8_t *)CTX, CTX_LEN, env, len + OVERHEAD, &n);
        if (rc != LKR_OK) {
            fail(what, "lkr_encrypt returned %d (%s): %s", (int)rc, st(rc), last_err());
        } else if (n != len + OVERHEAD) {
            fail(what, "envelope length %zu, expected %zu", n, len + OVERHEAD);
        } else if (memcmp(env, "LKR\x01\x01\x00\x00\x00\x01", 9) != 0) {
            fail(what, "envelope header is not LKR 01 01 be32(1) (docs/envelope.md)");
        } else {
            rc = lkr_decrypt(h, env, n, (const uint8_t *)CTX, CTX_LEN, out, len, &m);
            check(rc == LKR_OK && m == len && (len == 0 || memcmp(out, pt, len) == 0), what,
                  "lkr_decrypt returned %d (%s), length %zu: %s", (int)rc, st(rc), m,
                  rc == LKR_OK ? "plaintext differs" : last_err());
        }
        snprintf(what, sizeof what, "two encryptions of %zu bytes differ (fresh salt and nonce)",
                 len);
        rc = lkr_encrypt(h, pt, len, (const uint8_t *)CTX, CTX_LEN, env2, len + OVERHEAD, &n2);
        check(rc == LKR_OK && n2 == n && memcmp(env + 9, env2 + 9, 44) != 0 &&
                  memcmp(env, env2, n) != 0,
              what, "status %d, salt/nonce or whole envelope repeated", (int)rc);
        free(pt);
        free(env);
        free(env2);
        free(out);
    }
}

static void check_tampering(const LkrCrypt *h)
{
    unsigned char pt[16], out[64];
    size_t n = 0, m = 0, i;
    unsigned char *env, *ext;
    int32_t rc;
    int bad_header = 0, bad_body = 0;
    char first[256] = "";
    char msg[2048];

    fill_pattern(pt, sizeof pt, 99);
    env = encrypt_new(h, pt, sizeof pt, CTX, &n);

    /* Wrong context. */
    rc = lkr_decrypt(h, env, n, (const uint8_t *)"CONNECTION.PASSWORD:43", 22, out, sizeof out,
                     &m);
    if (expect_rc(rc, LKR_ERR_NOT_AUTHENTIC, "decrypt with another context -> NOT_AUTHENTIC")) {
        size_t len = lkr_last_error(msg, sizeof msg);
        check(len > 0 && strlen(msg) == len && contains(msg, "authenticated"),
              "wrong context: lkr_last_error says the value could not be authenticated",
              "lkr_last_error returned %zu, message \"%s\"", len, msg);
    }
    rc = lkr_decrypt(h, env, n, NULL, 0, out, sizeof out, &m);
    expect_rc(rc, LKR_ERR_NOT_AUTHENTIC, "decrypt with the empty context -> NOT_AUTHENTIC");

    /* Flip one bit of every byte in turn. */
    for (i = 0; i < n; i++) {
        env[i] ^= 0x01;
        rc = lkr_decrypt(h, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
        env[i] ^= 0x01;
        if (i >= 9 || i < 3) {
            /* magic, salt, nonce, ciphertext, tag: "could not be authenticated" */
            if (rc != LKR_ERR_NOT_AUTHENTIC && bad_body++ == 0)
                snprintf(first, sizeof first, "byte %zu flipped gave %d (%s)", i, (int)rc, st(rc));
        } else {
            /* version, algorithm, kek_id: may instead name the version or the unknown KEK */
            if (rc != LKR_ERR_NOT_AUTHENTIC && rc != LKR_ERR_UNSUPPORTED_FORMAT &&
                rc != LKR_ERR_UNKNOWN_KEK && bad_header++ == 0)
                snprintf(first, sizeof first, "byte %zu flipped gave %d (%s)", i, (int)rc, st(rc));
        }
    }
    check(bad_body == 0 && bad_header == 0,
          "a flipped byte anywhere -> NOT_AUTHENTIC (header: or UNSUPPORTED_FORMAT/UNKNOWN_KEK)",
          "%d body and %d header positions wrong; first: %s", bad_body, bad_header, first);
    check(decrypts_to(h, env, n, CTX, pt, sizeof pt, first, sizeof first),
          "the untouched envelope still decrypts", "%s", first);

    /* Truncation and extension. */
    rc = lkr_decrypt(h, env, n - 1, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
    expect_rc(rc, LKR_ERR_NOT_AUTHENTIC, "envelope truncated by 1 byte -> NOT_AUTHENTIC");
    rc = lkr_decrypt(h, env, OVERHEAD - 1, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
    expect_rc(rc, LKR_ERR_NOT_AUTHENTIC, "envelope truncated to 68 bytes -> NOT_AUTHENTIC");
    rc = lkr_decrypt(h, env, HEADER_LEN, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
    expect_rc(rc, LKR_ERR_NOT_AUTHENTIC, "envelope truncated to its header -> NOT_AUTHENTIC");
    rc = lkr_decrypt(h, env, 3, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
    expect_rc(rc, LKR_ERR_NOT_AUTHENTIC, "envelope truncated to 3 bytes -> NOT_AUTHENTIC");
    rc = lkr_decrypt(h, NULL, 0, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
    expect_rc(rc, LKR_ERR_NOT_AUTHENTIC, "empty envelope (NULL, 0) -> NOT_AUTHENTIC");
    ext = xmalloc(n + 1);
    memcpy(ext, env, n);
    ext[n] = 0;
    rc = lkr_decrypt(h, ext, n + 1, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
    expect_rc(rc, LKR_ERR_NOT_AUTHENTIC, "envelope extended by 1 byte -> NOT_AUTHENTIC");
    free(ext);
    free(env);
}

static void check_buffers(const LkrCrypt *h)
{
    unsigned char pt[16], env[16 + OVERHEAD], out[16];
    size_t n = 0, m = 0;
    int32_t rc;

    fill_pattern(pt, sizeof pt, 5);
    n = 12345;
    rc = lkr_encrypt(h, pt, sizeof pt, (const uint8_t *)CTX, CTX_LEN, env, sizeof env - 1, &n);
    if (expect_rc(rc, LKR_ERR_BUFFER_TOO_SMALL, "encrypt into a buffer 1 byte short -> BUFFER_TOO_SMALL"))
        check(n == sizeof env, "encrypt BUFFER_TOO_SMALL sets *out_len to the size needed",
              "*out_len = %zu, expected %zu", n, sizeof env);
    n = 12345;
    rc = lkr_encrypt(h, pt, sizeof pt, (const uint8_t *)CTX, CTX_LEN, NULL, 0, &n);
    check(rc == LKR_ERR_BUFFER_TOO_SMALL && n == sizeof env,
          "encrypt with out NULL, out_cap 0 -> BUFFER_TOO_SMALL and the size needed",
          "status %d (%s), *out_len %zu", (int)rc, st(rc), n);
    check(lkr_last_error(NULL, 0) > 0, "BUFFER_TOO_SMALL sets a lkr_last_error message",
          "lkr_last_error(NULL, 0) = 0");

    rc = lkr_encrypt(h, pt, sizeof pt, (const uint8_t *)CTX, CTX_LEN, env, sizeof env, &n);
    if (rc != LKR_OK) {
        fail("encrypt for the decrypt buffer checks", "%d (%s): %s", (int)rc, st(rc), last_err());
        return;
    }
    m = 12345;
    rc = lkr_decrypt(h, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out - 1, &m);
    if (expect_rc(rc, LKR_ERR_BUFFER_TOO_SMALL, "decrypt into a buffer 1 byte short -> BUFFER_TOO_SMALL"))
        check(m == sizeof out, "decrypt BUFFER_TOO_SMALL sets *out_len to the size needed",
              "*out_len = %zu, expected %zu", m, sizeof out);
    m = 12345;
    rc = lkr_decrypt(h, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
    check(rc == LKR_OK && m == sizeof out && memcmp(out, pt, sizeof pt) == 0,
          "decrypt into a buffer of exactly the plaintext's size", "status %d (%s), length %zu",
          (int)rc, st(rc), m);
}

static void check_invalid_arguments(const LkrCrypt *h)
{
    unsigned char pt[16], env[16 + OVERHEAD], out[256];
    size_t n = 0, m = 0;
    int32_t rc, outcome = 7;
    LkrCrypt *h2;
    static int dummy;

    fill_pattern(pt, sizeof pt, 6);
    rc = lkr_encrypt(h, pt, sizeof pt, (const uint8_t *)CTX, CTX_LEN, env, sizeof env, &n);
    if (rc != LKR_OK) {
        fail("encrypt for the argument checks", "%d (%s): %s", (int)rc, st(rc), last_err());
        return;
    }

    expect_rc(lkr_encrypt(NULL, pt, sizeof pt, NULL, 0, out, sizeof out, &m),
              LKR_ERR_INVALID_ARGUMENT, "lkr_encrypt with a NULL handle -> INVALID_ARGUMENT");
    check(lkr_last_error(NULL, 0) > 0, "NULL handle: lkr_last_error has a message",
          "lkr_last_error(NULL, 0) = 0");
    expect_rc(lkr_decrypt(NULL, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m),
              LKR_ERR_INVALID_ARGUMENT, "lkr_decrypt with a NULL handle -> INVALID_ARGUMENT");
    expect_rc(lkr_migrate(NULL, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m),
              LKR_ERR_INVALID_ARGUMENT, "lkr_migrate with a NULL handle -> INVALID_ARGUMENT");
    expect_rc(lkr_export_keystore(NULL, out, sizeof out, &m), LKR_ERR_INVALID_ARGUMENT,
              "lkr_export_keystore with a NULL handle -> INVALID_ARGUMENT");

    expect_rc(lkr_encrypt(h, pt, sizeof pt, NULL, 0, out, sizeof out, NULL),
              LKR_ERR_INVALID_ARGUMENT, "lkr_encrypt with out_len NULL -> INVALID_ARGUMENT");
    expect_rc(lkr_decrypt(h, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, NULL),
              LKR_ERR_INVALID_ARGUMENT, "lkr_decrypt with out_len NULL -> INVALID_ARGUMENT");
    expect_rc(lkr_migrate(h, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, NULL),
              LKR_ERR_INVALID_ARGUMENT, "lkr_migrate with out_len NULL -> INVALID_ARGUMENT");
    expect_rc(lkr_export_keystore(h, NULL, 0, NULL), LKR_ERR_INVALID_ARGUMENT,
              "lkr_export_keystore with out_len NULL -> INVALID_ARGUMENT");

    expect_rc(lkr_encrypt(h, NULL, 5, NULL, 0, out, sizeof out, &m), LKR_ERR_INVALID_ARGUMENT,
              "lkr_encrypt with pt NULL and pt_len 5 -> INVALID_ARGUMENT");
    expect_rc(lkr_encrypt(h, pt, sizeof pt, NULL, 3, out, sizeof out, &m),
              LKR_ERR_INVALID_ARGUMENT, "lkr_encrypt with ctx NULL and ctx_len 3 -> INVALID_ARGUMENT");
    expect_rc(lkr_encrypt(h, pt, sizeof pt, NULL, 0, NULL, 100, &m), LKR_ERR_INVALID_ARGUMENT,
              "lkr_encrypt with out NULL and out_cap 100 -> INVALID_ARGUMENT");
    expect_rc(lkr_decrypt(h, NULL, 100, NULL, 0, out, sizeof out, &m), LKR_ERR_INVALID_ARGUMENT,
              "lkr_decrypt with env NULL and env_len 100 -> INVALID_ARGUMENT");
    expect_rc(lkr_decrypt(h, env, n, NULL, CTX_LEN, out, sizeof out, &m),
              LKR_ERR_INVALID_ARGUMENT, "lkr_decrypt with ctx NULL and ctx_len 22 -> INVALID_ARGUMENT");
    expect_rc(lkr_decrypt(h, env, n, (const uint8_t *)CTX, CTX_LEN, NULL, 100, &m),
              LKR_ERR_INVALID_ARGUMENT, "lkr_decrypt with out NULL and out_cap 100 -> INVALID_ARGUMENT");
    expect_rc(lkr_migrate(h, NULL, 48, NULL, 0, out, sizeof out, &m), LKR_ERR_INVALID_ARGUMENT,
              "lkr_migrate with legacy NULL and len 48 -> INVALID_ARGUMENT");
    expect_rc(lkr_migrate_ex(h, NULL, 0, 0x80, env, n, (const uint8_t *)CTX, CTX_LEN, out,
                             sizeof out, &m, &outcome),
              LKR_ERR_INVALID_ARGUMENT, "lkr_migrate_ex with unknown flags -> INVALID_ARGUMENT");
    expect_rc(lkr_migrate_ex(h, NULL, 16, 0, env, n, (const uint8_t *)CTX, CTX_LEN, out,
                             sizeof out, &m, &outcome),
              LKR_ERR_INVALID_ARGUMENT,
              "lkr_migrate_ex with legacy_key NULL and length 16 -> INVALID_ARGUMENT");
    rc = lkr_migrate_ex(h, pt, 15, 0, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m,
                        &outcome);
    check((rc == LKR_ERR_LEGACY || rc == LKR_ERR_INVALID_ARGUMENT) && contains(last_err(), "16"),
          "lkr_migrate_ex with a 15-byte legacy key -> error naming 16 bytes",
          "status %d (%s), message \"%s\"", (int)rc, st(rc), last_err());

    h2 = (LkrCrypt *)(void *)&dummy;
    rc = lkr_open_from_env(NULL, &h2);
    check(rc == LKR_ERR_INVALID_ARGUMENT && h2 == NULL,
          "lkr_open_from_env with keystore_path NULL -> INVALID_ARGUMENT, *out = NULL",
          "status %d (%s), *out %s", (int)rc, st(rc), h2 ? "not NULL" : "NULL");
    expect_rc(lkr_open_from_env("/tmp/never-created.json", NULL), LKR_ERR_INVALID_ARGUMENT,
              "lkr_open_from_env with out NULL -> INVALID_ARGUMENT");
    expect_rc(lkr_open_from_env_bytes(NULL, 5, &h2), LKR_ERR_INVALID_ARGUMENT,
              "lkr_open_from_env_bytes with keystore NULL and length 5 -> INVALID_ARGUMENT");
    expect_rc(lkr_open_from_env_bytes(NULL, 0, NULL), LKR_ERR_INVALID_ARGUMENT,
              "lkr_open_from_env_bytes with out NULL -> INVALID_ARGUMENT");

    /* NULL with length 0 is the empty input. */
    m = 12345;
    rc = lkr_encrypt(h, NULL, 0, NULL, 0, env, sizeof env, &m);
    if (expect_rc(rc, LKR_OK, "lkr_encrypt of (NULL, 0) = empty plaintext, empty context")) {
        size_t k = 12345;
        check(m == OVERHEAD, "empty plaintext gives a 69-byte envelope", "length %zu", m);
        rc = lkr_decrypt(h, env, m, NULL, 0, NULL, 0, &k);
        check(rc == LKR_OK && k == 0, "decrypt of an empty plaintext into (NULL, 0)",
              "status %d (%s): %s, length %zu", (int)rc, st(rc), last_err(), k);
        rc = lkr_decrypt(h, env, m, (const uint8_t *)"", 0, out, sizeof out, &k);
        check(rc == LKR_OK && k == 0, "empty context as (\"\", 0) equals (NULL, 0)",
              "status %d (%s): %s", (int)rc, st(rc), last_err());
    }
}

static void check_overlap(const LkrCrypt *h)
{
    unsigned char buf[400];
    size_t n = 0, m = 0;
    int32_t rc;
    unsigned char *env;

    fill_pattern(buf, sizeof buf, 8);
    /* pt = buf[0..100), out = buf[10..179) */
    rc = lkr_encrypt(h, buf, 100, NULL, 0, buf + 10, 100 + OVERHEAD, &n);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_encrypt with out overlapping pt -> INVALID_ARGUMENT");
    rc = lkr_encrypt(h, buf, 100, NULL, 0, buf, sizeof buf, &n);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_encrypt in place (out == pt) -> INVALID_ARGUMENT");
    rc = lkr_encrypt(h, buf, 50, buf + 250, 20, buf + 60, 200, &n);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_encrypt with out overlapping ctx -> INVALID_ARGUMENT");
    /* Adjacent but disjoint is fine: pt = buf[0..100), out = buf[100..269). */
    rc = lkr_encrypt(h, buf, 100, NULL, 0, buf + 100, 100 + OVERHEAD, &n);
    expect_rc(rc, LKR_OK, "lkr_encrypt with out right after pt (adjacent, disjoint) works");

    env = encrypt_new(h, buf, 100, CTX, &n);
    memcpy(buf, env, n);
    rc = lkr_decrypt(h, buf, n, (const uint8_t *)CTX, CTX_LEN, buf + 20, 100, &m);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_decrypt with out overlapping env -> INVALID_ARGUMENT");
    rc = lkr_decrypt(h, buf, n, (const uint8_t *)CTX, CTX_LEN, buf, 100, &m);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_decrypt in place (out == env) -> INVALID_ARGUMENT");
    rc = lkr_migrate(h, buf, n, (const uint8_t *)CTX, CTX_LEN, buf + 1, n, &m);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_migrate with out overlapping the value -> INVALID_ARGUMENT");
    free(env);
}

static void check_last_error(const LkrCrypt *h)
{
    char buf[16];
    char full[2048];
    size_t len, r;
    unsigned char pt[4] = {1, 2, 3, 4}, env[4 + OVERHEAD], out[4];
    size_t n = 0, m = 0;
    int32_t rc;

    /* Make a known failure. */
    rc = lkr_decrypt(h, pt, sizeof pt, NULL, 0, out, sizeof out, &m);
    if (rc == LKR_OK) {
        fail("lkr_last_error setup", "decrypt of 4 bytes succeeded");
        return;
    }
    len = lkr_last_error(NULL, 0);
    check(len > 15, "lkr_last_error(NULL, 0) returns the full length",
          "returned %zu (the test needs a message longer than 15 bytes)", len);
    memset(full, 'X', sizeof full);
    r = lkr_last_error(full, sizeof full);
    check(r == len && strlen(full) == len, "lkr_last_error with a large buffer copies it all, NUL-terminated",
          "returned %zu, strlen %zu, expected %zu", r, strlen(full), len);
    memset(buf, 'X', sizeof buf);
    r = lkr_last_error(buf, 5);
    check(r == len && buf[4] == '\0' && strlen(buf) == 4 && memcmp(buf, full, 4) == 0 &&
              buf[5] == 'X',
          "lkr_last_error truncates to cap (4 bytes + NUL) and returns the full length",
          "returned %zu (full %zu), strlen %zu, byte after cap %s", r, len, strlen(buf),
          buf[5] == 'X' ? "untouched" : "OVERWRITTEN");
    memset(buf, 'X', sizeof buf);
    r = lkr_last_error(buf, 1);
    check(r == len && buf[0] == '\0' && buf[1] == 'X', "lkr_last_error with cap 1 writes only the NUL",
          "returned %zu, buf[0] = %d, buf[1] %s", r, buf[0], buf[1] == 'X' ? "untouched" : "OVERWRITTEN");
    memset(buf, 'X', sizeof buf);
    r = lkr_last_error(buf, 0);
    check(r == len && buf[0] == 'X', "lkr_last_error with cap 0 writes nothing and returns the length",
          "returned %zu, buf[0] %s", r, buf[0] == 'X' ? "untouched" : "OVERWRITTEN");
    /* A later success keeps the message of the most recent failure. */
    rc = lkr_encrypt(h, pt, sizeof pt, NULL, 0, env, sizeof env, &n);
    r = lkr_last_error(buf, sizeof buf);
    check(rc == LKR_OK && r == len && strncmp(buf, full, sizeof buf - 1) == 0,
          "a successful call keeps the most recent failure's message",
          "status %d, length now %zu (was %zu)", (int)rc, r, len);
}

static void check_migrate(const LkrCrypt *h, const unsigned char *key, size_t key_len)
{
    size_t text_len, text_pt_len, bin_len, bin_pt_len, badpad_len, n = 0, n2 = 0, m = 0;
    unsigned char *text = hex_env("LKR_TEST_LEGACY_TEXT_HEX", &text_len);
    unsigned char *text_pt = hex_env("LKR_TEST_LEGACY_TEXT_PLAIN_HEX", &text_pt_len);
    unsigned char *bin = hex_env("LKR_TEST_LEGACY_BIN_HEX", &bin_len);
    unsigned char *bin_pt = hex_env("LKR_TEST_LEGACY_BIN_PLAIN_HEX", &bin_pt_len);
    unsigned char *badpad = hex_env("LKR_TEST_LEGACY_BADPAD_HEX", &badpad_len);
    size_t cap = lkr_migrated_max_len(text_len > bin_len ? text_len : bin_len) + 256;
    unsigned char *out = xmalloc(cap), *out2 = xmalloc(cap), garbage[20];
    char why[512], bad_len_msg[2048], bad_pad_msg[2048];
    int32_t rc, outcome;

    check(key_len == 16 && text_len >= 32 && text_len % 16 == 0 && bin_len >= 32 &&
              badpad_len == 32,
          "legacy test inputs are IV ‖ AES-128-CBC ciphertext",
          "key %zu, text %zu, bin %zu, badpad %zu bytes", key_len, text_len, bin_len, badpad_len);

    /* lkr_migrate with the legacy key of LKR_LEGACY_KEY_ENV. */
    rc = lkr_migrate(h, text, text_len, (const uint8_t *)CTX, CTX_LEN, out, cap, &n);
    if (expect_rc(rc, LKR_OK, "lkr_migrate of an openssl-made legacy value (LKR_LEGACY_KEY_ENV)")) {
        check(n == text_pt_len + OVERHEAD && n <= lkr_migrated_max_len(text_len) &&
                  memcmp(out, "LKR\x01\x01", 5) == 0,
              "lkr_migrate writes an envelope v1 of plaintext + 69 bytes",
              "length %zu, expected %zu", n, text_pt_len + OVERHEAD);
        check(decrypts_to(h, out, n, CTX, text_pt, text_pt_len, why, sizeof why),
              "the migrated value decrypts to the original plaintext", "%s", why);
        check(!decrypts_to(h, out, n, "other", text_pt, text_pt_len, why, sizeof why),
              "the migrated value is bound to the context", "it decrypted under another context");

        /* An authentic v1 envelope is returned unchanged. */
        rc = lkr_migrate(h, out, n, (const uint8_t *)CTX, CTX_LEN, out2, cap, &n2);
        check(rc == LKR_OK && n2 == n && memcmp(out, out2, n) == 0,
              "lkr_migrate of an envelope v1 returns it unchanged", "status %d (%s): %s", (int)rc,
              st(rc), rc == LKR_OK ? "the bytes changed" : last_err());
        outcome = 42;
        rc = lkr_migrate_ex(h, NULL, 0, 0, out, n, (const uint8_t *)CTX, CTX_LEN, out2, cap, &n2,
                            &outcome);
        check(rc == LKR_OK && outcome == LKR_MIGRATED_ALREADY_V1 && n2 == n &&
                  memcmp(out, out2, n) == 0,
              "lkr_migrate_ex of an envelope v1: unchanged, *outcome = LKR_MIGRATED_ALREADY_V1",
              "status %d (%s), outcome %d", (int)rc, st(rc), (int)outcome);
        n2 = 0;
        rc = lkr_migrate(h, out, n, (const uint8_t *)CTX, CTX_LEN, out2, n - 1, &n2);
        check(rc == LKR_ERR_BUFFER_TOO_SMALL && n2 == n,
              "lkr_migrate of an envelope v1 into a short buffer -> BUFFER_TOO_SMALL, size needed",
              "status %d (%s), *out_len %zu (want %zu)", (int)rc, st(rc), n2, n);
        /* Not authentic under "other", so it is tried as a legacy value, which fails — except
         * that AES-CBC "decrypts" about 1 random value in 256 with valid padding (docs/native-interfaces.md; text
         * columns add the UTF-8 check). Either way it is never passed through unchanged. */
        rc = lkr_migrate(h, out, n, (const uint8_t *)"other", 5, out2, cap, &n2);
        check(rc != LKR_OK || n2 != n || memcmp(out, out2, n) != 0,
              "lkr_migrate of an envelope v1 under another context is not passed through",
              "returned it unchanged (%zu bytes)", n2);
        /* LKR_MIGRATE_STRICT_V1: such a value (of a KEK this keystore holds) is never tried as
         * legacy — always NOT_AUTHENTIC, whatever CBC would make of it. */
        rc = lkr_migrate_ex(h, NULL, 0, LKR_MIGRATE_STRICT_V1, out, n, (const uint8_t *)"other", 5,
                            out2, cap, &n2, &outcome);
        check(rc == LKR_ERR_NOT_AUTHENTIC,
              "lkr_migrate_ex(LKR_MIGRATE_STRICT_V1) of an envelope v1 under another context -> "
              "NOT_AUTHENTIC",
              "status %d (%s)", (int)rc, st(rc));
        rc = lkr_migrate_ex(h, NULL, 0, LKR_MIGRATE_STRICT_V1, out, n, (const uint8_t *)CTX,
                            CTX_LEN, out2, cap, &n2, &outcome);
        check(rc == LKR_OK && outcome == LKR_MIGRATED_ALREADY_V1 && n2 == n &&
                  memcmp(out, out2, n) == 0,
              "lkr_migrate_ex(LKR_MIGRATE_STRICT_V1) of an envelope v1 under its context: unchanged",
              "status %d (%s), outcome %d", (int)rc, st(rc), (int)outcome);
    }
    outcome = 42;
    rc = lkr_migrate_ex(h, NULL, 0, 0, text, text_len, (const uint8_t *)CTX, CTX_LEN, out, cap, &n,
                        &outcome);
    check(rc == LKR_OK && outcome == LKR_MIGRATED_FROM_LEGACY,
          "lkr_migrate_ex of a legacy value: *outcome = LKR_MIGRATED_FROM_LEGACY",
          "status %d (%s), outcome %d: %s", (int)rc, st(rc), (int)outcome, last_err());
    rc = lkr_migrate_ex(h, NULL, 0, 0, text, text_len, (const uint8_t *)CTX, CTX_LEN, out, cap, &n,
                        NULL);
    expect_rc(rc, LKR_OK, "lkr_migrate_ex with outcome NULL works");
    n = 0;
    rc = lkr_migrate(h, text, text_len, (const uint8_t *)CTX, CTX_LEN, out, text_pt_len + OVERHEAD - 1, &n);
    check(rc == LKR_ERR_BUFFER_TOO_SMALL && n == text_pt_len + OVERHEAD,
          "lkr_migrate of a legacy value into a short buffer -> BUFFER_TOO_SMALL, size needed",
          "status %d (%s), *out_len %zu (want %zu)", (int)rc, st(rc), n, text_pt_len + OVERHEAD);

    /* Explicit key and UTF-8 requirement. */
    outcome = 42;
    rc = lkr_migrate_ex(h, key, key_len, LKR_MIGRATE_REQUIRE_UTF8, text, text_len,
                        (const uint8_t *)CTX, CTX_LEN, out, cap, &n, &outcome);
    if (check(rc == LKR_OK && outcome == LKR_MIGRATED_FROM_LEGACY,
              "lkr_migrate_ex, explicit 16-byte key, LKR_MIGRATE_REQUIRE_UTF8, UTF-8 plaintext",
              "status %d (%s), outcome %d: %s", (int)rc, st(rc), (int)outcome, last_err()))
        check(decrypts_to(h, out, n, CTX, text_pt, text_pt_len, why, sizeof why),
              "... decrypts to the original plaintext", "%s", why);
    rc = lkr_migrate_ex(h, key, key_len, LKR_MIGRATE_REQUIRE_UTF8, bin, bin_len,
                        (const uint8_t *)CTX, CTX_LEN, out, cap, &n, &outcome);
    if (expect_rc(rc, LKR_ERR_LEGACY, "LKR_MIGRATE_REQUIRE_UTF8 with a non-UTF-8 plaintext -> LEGACY"))
        check(contains(last_err(), "Legacy value could not be decrypted"),
              "... message contains \"Legacy value could not be decrypted\"", "message \"%s\"",
              last_err());
    rc = lkr_migrate_ex(h, key, key_len, 0, bin, bin_len, (const uint8_t *)CTX, CTX_LEN, out, cap,
                        &n, &outcome);
    if (check(rc == LKR_OK && outcome == LKR_MIGRATED_FROM_LEGACY,
              "without LKR_MIGRATE_REQUIRE_UTF8 a binary plaintext migrates",
              "status %d (%s): %s", (int)rc, st(rc), last_err()))
        check(decrypts_to(h, out, n, CTX, bin_pt, bin_pt_len, why, sizeof why),
              "... decrypts to the original binary plaintext", "%s", why);

    /* Values that do not decrypt. */
    memset(garbage, 0xAB, sizeof garbage);
    rc = lkr_migrate(h, garbage, sizeof garbage, (const uint8_t *)CTX, CTX_LEN, out, cap, &m);
    if (expect_rc(rc, LKR_ERR_LEGACY, "lkr_migrate of a garbage value (20 bytes) -> LEGACY")) {
        snprintf(bad_len_msg, sizeof bad_len_msg, "%s", last_err());
        check(contains(bad_len_msg, "Legacy value could not be decrypted"),
              "garbage: message contains \"Legacy value could not be decrypted\"",
              "message \"%s\"", bad_len_msg);
    } else {
        bad_len_msg[0] = '\0';
    }
    rc = lkr_migrate(h, garbage, 16, (const uint8_t *)CTX, CTX_LEN, out, cap, &m);
    expect_rc(rc, LKR_ERR_LEGACY, "lkr_migrate of an IV alone (16 bytes) -> LEGACY");
    rc = lkr_migrate(h, NULL, 0, (const uint8_t *)CTX, CTX_LEN, out, cap, &m);
    expect_rc(rc, LKR_ERR_LEGACY, "lkr_migrate of an empty value -> LEGACY");
    rc = lkr_migrate(h, badpad, badpad_len, (const uint8_t *)CTX, CTX_LEN, out, cap, &m);
    if (expect_rc(rc, LKR_ERR_LEGACY, "lkr_migrate of a value with bad PKCS#7 padding -> LEGACY")) {
        snprintf(bad_pad_msg, sizeof bad_pad_msg, "%s", last_err());
        check(strcmp(bad_pad_msg, bad_len_msg) == 0,
              "bad padding and bad length give the same message (nothing more specific)",
              "\"%s\" vs \"%s\"", bad_pad_msg, bad_len_msg);
    }

    free(text);
    free(text_pt);
    free(bin);
    free(bin_pt);
    free(badpad);
    free(out);
    free(out2);
}

/* A handle without a legacy key: lkr_migrate fails, lkr_migrate_ex with a key works. Runs
 * while no other thread exists (it changes the environment). */
static void check_migrate_without_env_key(const unsigned char *ks, size_t ks_len,
                                          const unsigned char *key, size_t key_len)
{
    char *saved = NULL;
    const char *v = getenv("LKR_LEGACY_KEY_ENV");
    size_t text_len, text_pt_len, n = 0;
    unsigned char *text = hex_env("LKR_TEST_LEGACY_TEXT_HEX", &text_len);
    unsigned char *text_pt = hex_env("LKR_TEST_LEGACY_TEXT_PLAIN_HEX", &text_pt_len);
    size_t cap = lkr_migrated_max_len(text_len);
    unsigned char *out = xmalloc(cap);
    LkrCrypt *h = NULL;
    int32_t rc, outcome = 42;
    char why[512];

    if (v) {
        saved = xmalloc(strlen(v) + 1);
        strcpy(saved, v);
    }
    unsetenv("LKR_LEGACY_KEY_ENV");
    rc = lkr_open_from_env_bytes(ks, ks_len, &h);
    if (saved)
        setenv("LKR_LEGACY_KEY_ENV", saved, 1);
    free(saved);
    if (!expect_rc(rc, LKR_OK, "lkr_open_from_env_bytes without a legacy key configured"))
        goto done;
    rc = lkr_migrate(h, text, text_len, (const uint8_t *)CTX, CTX_LEN, out, cap, &n);
    if (expect_rc(rc, LKR_ERR_LEGACY, "lkr_migrate without any legacy key -> LEGACY"))
        check(contains(last_err(), "LKR_LEGACY_KEY_ENV"),
              "... the message names LKR_LEGACY_KEY_ENV", "message \"%s\"", last_err());
    rc = lkr_migrate_ex(h, key, key_len, LKR_MIGRATE_REQUIRE_UTF8, text, text_len,
                        (const uint8_t *)CTX, CTX_LEN, out, cap, &n, &outcome);
    check(rc == LKR_OK && outcome == LKR_MIGRATED_FROM_LEGACY &&
              decrypts_to(h, out, n, CTX, text_pt, text_pt_len, why, sizeof why),
          "lkr_migrate_ex with the caller's key works on a handle without a legacy key",
          "status %d (%s), outcome %d: %s", (int)rc, st(rc), (int)outcome,
          rc == LKR_OK ? why : last_err());
done:
    lkr_close(h);
    free(text);
    free(text_pt);
    free(out);
}

static void check_threads(const LkrCrypt *h)
{
    pthread_t tid[N_THREADS];
    struct thread_arg args[N_THREADS];
    unsigned char *all = xmalloc((size_t)N_THREADS * OPS_PER_THREAD * 44);
    int i, started = 0, failures = 0, dups = 0;
    size_t j, total = (size_t)N_THREADS * OPS_PER_THREAD;
    const char *why = "";
    char what[128];

    memset(all, 0, total * 44);
    for (i = 0; i < N_THREADS; i++) {
        args[i].h = h;
        args[i].id = i;
        args[i].salts_nonces = all + (size_t)i * OPS_PER_THREAD * 44;
        args[i].failures = 0;
        args[i].why[0] = '\0';
        if (pthread_create(&tid[i], NULL, thread_main, &args[i]) != 0) {
            fail("pthread_create", "could not start thread %d", i);
            break;
        }
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (i = 0; i < started; i++) {
        if (args[i].failures && !failures)
            why = args[i].why;
        failures += args[i].failures;
    }
    snprintf(what, sizeof what, "%d threads x %d round trips sharing one handle", N_THREADS,
             OPS_PER_THREAD);
    check(started == N_THREADS && failures == 0, what, "%d failures; first: %s", failures, why);

    qsort(all, total, 44, cmp44);
    for (j = 1; j < total; j++)
        if (memcmp(all + (j - 1) * 44, all + j * 44, 44) == 0)
            dups++;
    snprintf(what, sizeof what, "all %zu salt ‖ nonce pairs drawn by the threads are distinct", total);
    check(dups == 0, what, "%d repeated", dups);
    free(all);
}

static void check_cmk_children(const char *dir, const char *keystore)
{
    char path_new[4096], path_0400[4096], path_0644[4096], path_missing[4096];
    char bad31[64], other[64], cmk_env[200], cmk_ws[200], file_0400[4200], file_0644[4200];
    char file_missing[4200];
    unsigned char raw[32];
    const char *cmk = getenv("LKR_MASTER_KEY_ENV");
    int i;

    if (!cmk) {
        fail("CMK checks", "LKR_MASTER_KEY_ENV is not set");
        return;
    }
    snprintf(path_new, sizeof path_new, "%s/never-created.json", dir);
    snprintf(path_0400, sizeof path_0400, "%s/cmk-0400.b64", dir);
    snprintf(path_0644, sizeof path_0644, "%s/cmk-0644.b64", dir);
    snprintf(path_missing, sizeof path_missing, "%s/no-such-cmk-file.b64", dir);
    for (i = 0; i < 32; i++)
        raw[i] = (unsigned char)(0xA5 ^ (i * 29));
    base64_encode(raw, 31, bad31);
    base64_encode(raw, 32, other);

    {
        char var[128];
        const char *vars[] = {var, NULL};
        snprintf(var, sizeof var, "LKR_MASTER_KEY_ENV=%s", bad31);
        check_child("re-exec with a 31-byte CMK in LKR_MASTER_KEY_ENV -> MASTER_KEY, "
                    "\"Size of the Master Key is invalid it must be 32 bytes however is 31\"",
                    path_new, vars, LKR_ERR_MASTER_KEY,
                    "Size of the Master Key is invalid it must be 32 bytes however is 31");
        check(!file_exists(path_new), "a failed open creates no keystore",
              "%s was created", path_new);
    }
    {
        const char *vars[] = {NULL};
        check_child("re-exec with no CMK variable -> MASTER_KEY naming LKR_MASTER_KEY_ENV",
                    path_new, vars, LKR_ERR_MASTER_KEY, "LKR_MASTER_KEY_ENV");
    }
    {
        const char *vars[] = {"LKR_MASTER_KEY_ENV=not base64 !!", NULL};
        check_child("re-exec with a CMK that is not base64 -> MASTER_KEY, "
                    "\"Master Key is not valid base64\"",
                    path_new, vars, LKR_ERR_MASTER_KEY, "Master Key is not valid base64");
    }
    {
        char var[128];
        const char *vars[] = {var, NULL};
        snprintf(var, sizeof var, "LKR_MASTER_KEY_ENV=%s", other);
        check_child("re-exec with another CMK -> \"Master Key does not match the keystore\"",
                    keystore, vars, -1, "Master Key does not match the keystore");
    }
    {
        const char *vars[] = {cmk_ws, NULL};
        snprintf(cmk_ws, sizeof cmk_ws, "LKR_MASTER_KEY_ENV=  %s\n", cmk);
        check_child("re-exec with the CMK surrounded by whitespace opens the keystore", keystore,
                    vars, LKR_OK, NULL);
    }
    {
        char text[200];
        const char *vars[] = {"LKR_MASTER_KEY_ENV=", file_0400, NULL};
        snprintf(text, sizeof text, "%s\n", cmk);
        snprintf(file_0400, sizeof file_0400, "LKR_MASTER_KEY_FILE=%s", path_0400);
        if (write_file(path_0400, text, 0400) != 0) {
            fail("write the 0400 CMK file", "%s: %s", path_0400, strerror(errno));
        } else {
            check_child("re-exec with LKR_MASTER_KEY_FILE (mode 0400) and LKR_MASTER_KEY_ENV "
                        "empty (= unset) opens the keystore",
                        keystore, vars, LKR_OK, NULL);
        }
        snprintf(file_0644, sizeof file_0644, "LKR_MASTER_KEY_FILE=%s", path_0644);
        if (write_file(path_0644, text, 0644) != 0) {
            fail("write the 0644 CMK file", "%s: %s", path_0644, strerror(errno));
        } else {
            const char *vars2[] = {file_0644, NULL};
            check_child("re-exec with a 0644 LKR_MASTER_KEY_FILE -> \"Permission for backing "
                        "key file must be 0400, but is 0644\"",
                        keystore, vars2, LKR_ERR_MASTER_KEY,
                        "Permission for backing key file must be 0400, but is 0644");
        }
        snprintf(file_missing, sizeof file_missing, "LKR_MASTER_KEY_FILE=%s", path_missing);
        {
            const char *vars3[] = {file_missing, NULL};
            check_child("re-exec with a missing LKR_MASTER_KEY_FILE -> \"Missing backing keystore\"",
                        keystore, vars3, LKR_ERR_MASTER_KEY, "Missing backing keystore");
        }
        snprintf(cmk_env, sizeof cmk_env, "LKR_MASTER_KEY_ENV=%s", cmk);
        {
            const char *vars4[] = {cmk_env, file_0400, NULL};
            check_child("re-exec with LKR_MASTER_KEY_ENV and LKR_MASTER_KEY_FILE both set -> "
                        "MASTER_KEY naming LKR_MASTER_KEY_FILE",
                        keystore, vars4, LKR_ERR_MASTER_KEY, "LKR_MASTER_KEY_FILE");
        }
    }
}

/*
 * Salts and nonces in a copy of the process made by a raw clone(2) — no fork handler runs —
 * differ from the parent's (the generator state is copied with the memory); and the explicit
 * reseed for copies the kernel does not see (snapshot restore) works.
 */
/* 1 when a page marked MADV_WIPEONFORK reads as zeros in a raw clone(2) child (every Linux
 * kernel since 4.14 does that; qemu-user accepts the advice and ignores it), else 0. */
static int environment_wipes_on_fork(void)
{
    long pid;
    int status = 0;
    volatile unsigned char *page =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        fatal("mmap");
    if (madvise((void *)page, 4096, MADV_WIPEONFORK) != 0) {
        munmap((void *)page, 4096);
        return 0;
    }
    page[0] = 1;
    pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
    if (pid == 0)
        _exit(page[0] == 0 ? 0 : 1);
    if (pid < 0)
        fatal("clone");
    waitpid((pid_t)pid, &status, 0);
    munmap((void *)page, 4096);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void check_clone_draws_fresh_nonces(const LkrCrypt *h)
{
    unsigned char pt[16], parent[OVERHEAD + 16], child[OVERHEAD + 16];
    size_t n = 0;
    int fds[2], status = 0, same = 0, i;
    long pid;

    fill_pattern(pt, sizeof pt, 5);
    /* LKR_TEST_EMULATED=qemu-user (tests/aarch64.sh): the emulator does not wipe such pages, so
     * a raw clone(2) child keeps the parent's generator (fork() and _Fork() children reseed
     * through the library's fork handler, checked above). What is checked then is that the
     * environment is the emulator it says: it does not wipe. Natively the real check runs. */
    if (getenv("LKR_TEST_EMULATED") && strcmp(getenv("LKR_TEST_EMULATED"), "qemu-user") == 0) {
        check(!environment_wipes_on_fork(),
              "LKR_TEST_EMULATED=qemu-user ignores MADV_WIPEONFORK: the raw clone(2) nonce check "
              "runs on native kernels only",
              "this environment wipes such pages: unset LKR_TEST_EMULATED");
        goto reseed;
    }
    for (i = 0; i < 4; i++) {
        if (pipe(fds) != 0)
            fatal("pipe");
        pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
        if (pid == 0) {
            size_t m = 0;
            int32_t r = lkr_encrypt(h, pt, sizeof pt, (const uint8_t *)CTX, CTX_LEN, child,
                                    sizeof child, &m);
            if (r == LKR_OK && m == sizeof child && write(fds[1], child, m) == (ssize_t)m)
                _exit(0);
            _exit(1);
        }
        if (!check(pid > 0, "raw clone(2) of the process", "%s", strerror(errno))) {
            close(fds[0]);
            close(fds[1]);
            return;
        }
        lkr_encrypt(h, pt, sizeof pt, (const uint8_t *)CTX, CTX_LEN, parent, sizeof parent, &n);
        if (read(fds[0], child, sizeof child) != (ssize_t)sizeof child)
            memset(child, 0, sizeof child);
        waitpid((pid_t)pid, &status, 0);
        close(fds[0]);
        close(fds[1]);
        if (!check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the cloned child encrypted",
                   "status %d", status))
            return;
        /* bytes 9..53: salt and nonce */
        same += memcmp(parent + 9, child + 9, 44) == 0;
    }
    check(same == 0, "a raw clone(2) child draws other salts and nonces than its parent",
          "%d of 4 children repeated the parent's salt and nonce", same);
reseed:
    expect_rc(lkr_rng_reseed(), LKR_OK, "lkr_rng_reseed");
    {
        char why[256];
        unsigned char again[OVERHEAD + 16];
        size_t k = 0;
        lkr_encrypt(h, pt, sizeof pt, (const uint8_t *)CTX, CTX_LEN, again, sizeof again, &k);
        check(decrypts_to(h, again, k, CTX, pt, sizeof pt, why, sizeof why),
              "encryption works after lkr_rng_reseed", "%s", why);
    }
}

/* docs/native-interfaces.md: a huge context is an error, never an abort (a 64 GiB mapping that is never read). */
static void check_huge_context(const LkrCrypt *h, const unsigned char *key, size_t key_len)
{
    const size_t huge = (size_t)64 << 30;
    unsigned char pt[8] = "password", out[OVERHEAD + 64], env[OVERHEAD + 8];
    size_t n = 0, m = 0, ctx_len = huge;
    const uint8_t *ctx;
    int32_t rc;
    void *map = mmap(NULL, huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    unsigned char *small = NULL;

    if (map == MAP_FAILED) {
        /* Valgrind cannot map 64 GiB: one byte over the limit shows the same check. */
        small = xmalloc(LKR_MAX_CONTEXT + 1);
        memset(small, 'c', LKR_MAX_CONTEXT + 1);
        ctx = small;
        ctx_len = LKR_MAX_CONTEXT + 1;
    } else {
        ctx = map;
    }
    lkr_encrypt(h, pt, sizeof pt, (const uint8_t *)CTX, CTX_LEN, env, sizeof env, &m);
    rc = lkr_encrypt(h, pt, sizeof pt, ctx, ctx_len, out, sizeof out, &n);
    check(rc == LKR_ERR_INVALID_ARGUMENT && contains(last_err(), "context is too large"),
          "lkr_encrypt with a 64 GiB context -> INVALID_ARGUMENT (no allocation, no abort)",
          "status %d (%s): %s", (int)rc, st(rc), last_err());
    rc = lkr_decrypt(h, env, m, ctx, ctx_len, out, sizeof out, &n);
    check(rc == LKR_ERR_INVALID_ARGUMENT && contains(last_err(), "context is too large"),
          "lkr_decrypt with a 64 GiB context -> INVALID_ARGUMENT", "status %d (%s): %s",
          (int)rc, st(rc), last_err());
    rc = lkr_migrate(h, env, m, ctx, ctx_len, out, sizeof out, &n);
    check(rc == LKR_ERR_INVALID_ARGUMENT && contains(last_err(), "context is too large"),
          "lkr_migrate with a 64 GiB context -> INVALID_ARGUMENT", "status %d (%s): %s",
          (int)rc, st(rc), last_err());
    rc = lkr_migrate_ex(h, key, key_len, 0, env, m, ctx, ctx_len, out, sizeof out, &n, NULL);
    check(rc == LKR_ERR_INVALID_ARGUMENT, "lkr_migrate_ex with a 64 GiB context -> INVALID_ARGUMENT",
          "status %d (%s): %s", (int)rc, st(rc), last_err());
    if (map != MAP_FAILED)
        munmap(map, huge);
    free(small);
}

/* docs/legacy.md: an envelope of a KEK the keystore does not hold is never tried as a legacy value. */
static void check_unknown_kek_is_not_legacy(const LkrCrypt *h)
{
    LkrCrypt *other = NULL, *o2 = NULL, *o3 = NULL;
    unsigned char pt[27], *env, out[OVERHEAD + 64];
    size_t n = 0, m = 0;
    int32_t rc;

    fill_pattern(pt, sizeof pt, 9);
    if (lkr_open_from_env_bytes(NULL, 0, &other) != LKR_OK || lkr_rotate_kek(other, &o2) != LKR_OK ||
        lkr_rotate_kek(o2, &o3) != LKR_OK) {
        fail("a keystore with KEK 3", "%s", last_err());
        lkr_close(other);
        lkr_close(o2);
        return;
    }
    env = encrypt_new(o3, pt, sizeof pt, CTX, &n); /* 96 bytes: a CBC-sized value */
    rc = lkr_migrate(h, env, n, (const uint8_t *)CTX, CTX_LEN, out, sizeof out, &m);
    check(rc == LKR_ERR_UNKNOWN_KEK && contains(last_err(), "KEK 3") &&
              contains(last_err(), "not tried as a legacy value"),
          "lkr_migrate of an envelope of an unknown KEK -> UNKNOWN_KEK, never legacy",
          "status %d (%s): %s", (int)rc, st(rc), last_err());
    free(env);
    lkr_close(o3);
    lkr_close(o2);
    lkr_close(other);
}

/* ------------------------------------------------------------------------------------ */
/* Keys as data (docs/native-interfaces.md)                                             */
/* ------------------------------------------------------------------------------------ */

/* Decodes standard base64 (no whitespace) into out; returns the length, or -1. */
static int base64_decode(const char *in, unsigned char *out, size_t cap)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v = 0;
    int bits = 0;
    size_t o = 0;
    for (; *in && *in != '='; in++) {
        const char *p = strchr(t, *in);
        if (!p)
            return -1;
        v = (v << 6) | (unsigned)(p - t);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)((v >> bits) & 0xFFu);
        }
    }
    return (int)o;
}

static void check_keys_as_data(const char *dir)
{
    char path[4200], why[512];
    const char *b64 = getenv("LKR_MASTER_KEY_ENV");
    unsigned char cmk[64], other[32], pt[40], *env, *ks = NULL, *legacy, *out;
    size_t n = 0, ks_len = 0, ks_len2 = 0, legacy_len, m = 0, cap;
    LkrMasterKey *mk = NULL, *mk2 = NULL, *bad = (LkrMasterKey *)1;
    LkrCrypt *h = NULL, *h2 = NULL, *hb = NULL, *none = (LkrCrypt *)1;
    int32_t rc;
    int len;

    len = b64 ? base64_decode(b64, cmk, sizeof cmk) : -1;
    if (!check(len == 32, "keys as data: the CMK of LKR_MASTER_KEY_ENV is 32 bytes of base64",
               "decoded length %d", len))
        return;
    snprintf(path, sizeof path, "%s/keys-as-data.json", dir);

    /* A local key given as data: open (creates the file), encrypt. */
    rc = lkr_master_key_local(cmk, 32, &mk);
    if (!expect_rc(rc, LKR_OK, "lkr_master_key_local with 32 bytes") ||
        !check(mk != NULL, "lkr_master_key_local returns a key", "*out is NULL"))
        fatal("lkr_master_key_local");
    check(!file_exists(path), "keys as data: no keystore before lkr_open", "%s exists", path);
    rc = lkr_open(mk, path, &h);
    if (!expect_rc(rc, LKR_OK, "lkr_open with a local key given as data creates the keystore") ||
        !check(h != NULL && file_exists(path), "lkr_open returns a handle and writes the file",
               "handle %p", (void *)h))
        fatal("lkr_open");
    fill_pattern(pt, sizeof pt, 91);
    env = encrypt_new(h, pt, sizeof pt, CTX, &n);

    /* The same keystore, opened from the environment holding the same CMK. */
    rc = lkr_open_from_env(path, &h2);
    if (expect_rc(rc, LKR_OK, "lkr_open_from_env opens the keystore lkr_open created"))
        check(decrypts_to(h2, env, n, CTX, pt, sizeof pt, why, sizeof why),
              "the handle from the environment decrypts what the key-as-data handle encrypted",
              "%s", why);
    lkr_close(h2);
    h2 = NULL;

    /* Like lkr_open_from_env: the legacy key of the environment applies. */
    legacy = hex_env("LKR_TEST_LEGACY_TEXT_HEX", &legacy_len);
    cap = lkr_migrated_max_len(legacy_len);
    out = xmalloc(cap);
    rc = lkr_migrate(h, legacy, legacy_len, (const uint8_t *)CTX, CTX_LEN, out, cap, &m);
    expect_rc(rc, LKR_OK, "a handle from lkr_open migrates with LKR_LEGACY_KEY_ENV");
    free(out);
    free(legacy);

    /* From bytes: (NULL, 0) creates one in memory; its export reopens. */
    rc = lkr_open_bytes(mk, NULL, 0, &hb);
    if (expect_rc(rc, LKR_OK, "lkr_open_bytes(key, NULL, 0) creates a keystore in memory")) {
        unsigned char *env_b;
        size_t nb = 0;
        env_b = encrypt_new(hb, pt, sizeof pt, CTX, &nb);
        rc = lkr_export_keystore(hb, NULL, 0, &ks_len);
        if (rc == LKR_ERR_BUFFER_TOO_SMALL && ks_len > 0) {
            ks = xmalloc(ks_len);
            rc = lkr_export_keystore(hb, ks, ks_len, &ks_len2);
        }
        lkr_close(hb);
        hb = NULL;
        if (expect_rc(rc, LKR_OK, "lkr_export_keystore of the in-memory keystore")) {
            rc = lkr_open_bytes(mk, ks, ks_len2, &hb);
            if (expect_rc(rc, LKR_OK, "lkr_open_bytes with the exported document"))
                check(decrypts_to(hb, env_b, nb, CTX, pt, sizeof pt, why, sizeof why),
                      "lkr_open_bytes decrypts what the in-memory keystore encrypted", "%s",
                      why);
            lkr_close(hb);
            hb = NULL;
        }
        free(env_b);
    }

    /* The key may be freed while handles opened with it live. */
    lkr_master_key_free(mk);
    mk = NULL;
    check(decrypts_to(h, env, n, CTX, pt, sizeof pt, why, sizeof why),
          "a handle keeps working after lkr_master_key_free of its key", "%s", why);
    lkr_close(h);
    h = NULL;

    /* Wrong size: docs/keys.md's message, nothing in *out. */
    rc = lkr_master_key_local(cmk, 31, &bad);
    if (expect_rc(rc, LKR_ERR_MASTER_KEY, "lkr_master_key_local with 31 bytes -> MASTER_KEY"))
        check(bad == NULL &&
                  contains(last_err(),
                           "Size of the Master Key is invalid it must be 32 bytes however is 31"),
              "the size message names 31 and *out is NULL", "out %p, \"%s\"", (void *)bad,
              last_err());

    /* NULL arguments. */
    bad = (LkrMasterKey *)1;
    rc = lkr_master_key_local(NULL, 32, &bad);
    check(rc == LKR_ERR_INVALID_ARGUMENT && bad == NULL,
          "lkr_master_key_local(NULL key) -> INVALID_ARGUMENT", "status %d (%s)", (int)rc, st(rc));
    rc = lkr_master_key_local(cmk, 32, NULL);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_master_key_local(out NULL) -> INVALID_ARGUMENT");
    rc = lkr_master_key_aws_kms(NULL, "us-east-1", NULL, &bad);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_master_key_aws_kms(NULL key_id) -> INVALID_ARGUMENT");
    rc = lkr_master_key_from_env("_OTHER", &bad);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT,
              "lkr_master_key_from_env with an unknown suffix -> INVALID_ARGUMENT");
    rc = lkr_open(NULL, path, &none);
    check(rc == LKR_ERR_INVALID_ARGUMENT && none == NULL, "lkr_open(NULL key) -> INVALID_ARGUMENT",
          "status %d (%s)", (int)rc, st(rc));
    rc = lkr_open_bytes(NULL, NULL, 0, &none);
    expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_open_bytes(NULL key) -> INVALID_ARGUMENT");
    lkr_master_key_free(NULL);
    pass("lkr_master_key_free(NULL) is a no-op");

    /* The environment's CMK as a key. */
    rc = lkr_master_key_from_env(NULL, &mk);
    if (expect_rc(rc, LKR_OK, "lkr_master_key_from_env(NULL) reads LKR_MASTER_KEY_ENV")) {
        rc = lkr_open(mk, NULL, &none);
        expect_rc(rc, LKR_ERR_INVALID_ARGUMENT, "lkr_open(key, NULL path) -> INVALID_ARGUMENT");
        rc = lkr_open_bytes(mk, NULL, 5, &none);
        expect_rc(rc, LKR_ERR_INVALID_ARGUMENT,
                  "lkr_open_bytes(key, NULL, 5) -> INVALID_ARGUMENT");
        rc = lkr_open(mk, path, &h);
        if (expect_rc(rc, LKR_OK, "lkr_open with the key of lkr_master_key_from_env"))
            check(decrypts_to(h, env, n, CTX, pt, sizeof pt, why, sizeof why),
                  "it decrypts what the key-as-data handle encrypted", "%s", why);
        lkr_close(h);
        h = NULL;
    }
    lkr_master_key_free(mk);
    mk = NULL;

    /* Another CMK: docs/keys.md's mismatch message, from the file and from bytes. */
    memcpy(other, cmk, 32);
    other[0] ^= 1;
    rc = lkr_master_key_local(other, sizeof other, &mk2);
    if (expect_rc(rc, LKR_OK, "lkr_master_key_local with another CMK")) {
        rc = lkr_open(mk2, path, &none);
        if (expect_rc(rc, LKR_ERR_MASTER_KEY, "lkr_open with another CMK -> MASTER_KEY"))
            check(none == NULL && contains(last_err(), "Master Key does not match the keystore"),
                  "the mismatch message says \"Master Key does not match the keystore\"",
                  "out %p, \"%s\"", (void *)none, last_err());
        if (ks) {
            rc = lkr_open_bytes(mk2, ks, ks_len2, &none);
            if (expect_rc(rc, LKR_ERR_MASTER_KEY, "lkr_open_bytes with another CMK -> MASTER_KEY"))
                check(contains(last_err(), "Master Key does not match the keystore"),
                      "lkr_open_bytes's mismatch message", "\"%s\"", last_err());
        }
    }
    lkr_master_key_free(mk2);

    /* A KMS key is only described here: KMS is reached at open. */
    mk2 = NULL;
    rc = lkr_master_key_aws_kms("alias/lkr-c-test", "eu-west-1", NULL, &mk2);
    check(rc == LKR_OK && mk2 != NULL,
          "lkr_master_key_aws_kms makes a key without calling KMS", "status %d (%s): %s", (int)rc,
          st(rc), last_err());
    lkr_master_key_free(mk2);
    free(ks);
    free(env);
}

int main(int argc, char **argv)
{
    char keystore[4096], bad_dir_ks[4200];
    const char *dir;
    LkrCrypt *h = NULL, *h_reopen = NULL, *h_bytes = NULL, *h_new = NULL;
    unsigned char *key, *ks = NULL, pt[32], *env, *env_b, *env_n;
    size_t key_len, ks_len = 0, ks_len2 = 0, n = 0, nb = 0, nn = 0;
    struct stat sb;
    int32_t rc;
    char why[512];

    if (argc == 3 && strcmp(argv[1], "--child-open") == 0)
        return child_open(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: %s WORK_DIR   (see the comment at the top of lkr_c_test.c)\n",
                argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (getenv("LKR_TEST_OPS_PER_THREAD") && atoi(getenv("LKR_TEST_OPS_PER_THREAD")) > 0)
        OPS_PER_THREAD = atoi(getenv("LKR_TEST_OPS_PER_THREAD"));
    dir = argv[1];
    snprintf(keystore, sizeof keystore, "%s/keystore.json", dir);
    key = hex_env("LKR_TEST_LEGACY_KEY_HEX", &key_len);

    /* Before anything has failed on this thread. */
    {
        char b[8] = "XXXXXXX";
        size_t r = lkr_last_error(b, sizeof b);
        check(r == 0 && b[0] == '\0', "lkr_last_error before any failure returns 0 and \"\"",
              "returned %zu, \"%s\"", r, b);
    }

    check_version_and_lengths();

    /* Open: creates the keystore. */
    check(!file_exists(keystore), "no keystore before the first open", "%s exists", keystore);
    rc = lkr_open_from_env(keystore, &h);
    if (!expect_rc(rc, LKR_OK, "lkr_open_from_env (CMK in LKR_MASTER_KEY_ENV) creates the keystore") ||
        !check(h != NULL, "lkr_open_from_env returns a handle", "*out is NULL"))
        fatal("lkr_open_from_env");
    check(stat(keystore, &sb) == 0 && S_ISREG(sb.st_mode), "the keystore file exists after the open",
          "%s: %s", keystore, strerror(errno));
    check(stat(keystore, &sb) == 0 && (sb.st_mode & 07777) == 0600,
          "the keystore file has mode 0600 (docs/keystore.md)", "mode %04o",
          (unsigned)(sb.st_mode & 07777));
    snprintf(bad_dir_ks, sizeof bad_dir_ks, "%s/no/such/dir/keystore.json", dir);
    h_new = NULL;
    rc = lkr_open_from_env(bad_dir_ks, &h_new);
    check(rc != LKR_OK && h_new == NULL && lkr_last_error(NULL, 0) > 0,
          "lkr_open_from_env in a missing directory fails cleanly with a message",
          "status %d (%s)", (int)rc, st(rc));

    check_round_trips(h);
    check_tampering(h);
    check_buffers(h);
    check_invalid_arguments(h);
    check_overlap(h);
    check_last_error(h);
    check_migrate(h, key, key_len);
    check_huge_context(h, key, key_len);
    check_unknown_kek_is_not_legacy(h);
    check_clone_draws_fresh_nonces(h);
    check_streams(h);
    check_rotation(h);

    /* Reopen the same keystore file. */
    fill_pattern(pt, sizeof pt, 77);
    env = encrypt_new(h, pt, sizeof pt, CTX, &n);
    rc = lkr_open_from_env(keystore, &h_reopen);
    if (expect_rc(rc, LKR_OK, "lkr_open_from_env reopens the existing keystore"))
        check(decrypts_to(h_reopen, env, n, CTX, pt, sizeof pt, why, sizeof why),
              "the reopened handle decrypts what the first handle encrypted", "%s", why);
    lkr_close(h_reopen);

    /* Export the keystore and open it from bytes. */
    ks_len = 0;
    rc = lkr_export_keystore(h, NULL, 0, &ks_len);
    if (check(rc == LKR_ERR_BUFFER_TOO_SMALL && ks_len > 0,
              "lkr_export_keystore(NULL, 0) -> BUFFER_TOO_SMALL with the size",
              "status %d (%s), length %zu", (int)rc, st(rc), ks_len)) {
        ks = xmalloc(ks_len + 1);
        rc = lkr_export_keystore(h, ks, ks_len - 1, &ks_len2);
        check(rc == LKR_ERR_BUFFER_TOO_SMALL && ks_len2 == ks_len,
              "lkr_export_keystore 1 byte short -> BUFFER_TOO_SMALL with the size",
              "status %d (%s), length %zu", (int)rc, st(rc), ks_len2);
        rc = lkr_export_keystore(h, ks, ks_len, &ks_len2);
        ks[ks_len < ks_len2 ? ks_len : ks_len2] = '\0';
        check(rc == LKR_OK && ks_len2 == ks_len && ks[0] == '{' &&
                  strlen((char *)ks) == ks_len && contains((char *)ks, "lkr-keystore"),
              "lkr_export_keystore returns the JSON keystore ({...\"lkr-keystore\"...}, no NUL)",
              "status %d (%s), length %zu/%zu, starts with '%c'", (int)rc, st(rc), ks_len2,
              ks_len, ks[0]);
    }
    if (ks) {
        rc = lkr_open_from_env_bytes(ks, ks_len, &h_bytes);
        if (expect_rc(rc, LKR_OK, "lkr_open_from_env_bytes with the exported keystore")) {
            check(decrypts_to(h_bytes, env, n, CTX, pt, sizeof pt, why, sizeof why),
                  "the handle from bytes decrypts what the first handle encrypted", "%s", why);
            env_b = encrypt_new(h_bytes, pt, sizeof pt, CTX, &nb);
            check(decrypts_to(h, env_b, nb, CTX, pt, sizeof pt, why, sizeof why),
                  "the first handle decrypts what the handle from bytes encrypted", "%s", why);
            free(env_b);
        }
        lkr_close(h_bytes);
        check_migrate_without_env_key(ks, ks_len, key, key_len);
    }
    rc = lkr_open_from_env_bytes((const uint8_t *)"{\"format\": \"nope\"}", 18, &h_new);
    check(rc == LKR_ERR_KEYSTORE && h_new == NULL,
          "lkr_open_from_env_bytes with a malformed keystore -> KEYSTORE", "status %d (%s): %s",
          (int)rc, st(rc), last_err());
    lkr_close(h_new);
    h_new = NULL;
    rc = lkr_open_from_env_bytes(NULL, 0, &h_new);
    if (expect_rc(rc, LKR_OK, "lkr_open_from_env_bytes(NULL, 0) creates a new keystore in memory")) {
        env_n = encrypt_new(h_new, pt, sizeof pt, CTX, &nn);
        rc = lkr_decrypt(h, env_n, nn, (const uint8_t *)CTX, CTX_LEN, pt, sizeof pt, &nb);
        expect_rc(rc, LKR_ERR_NOT_AUTHENTIC,
                  "a value of another keystore (same KEK id 1) -> NOT_AUTHENTIC");
        free(env_n);
    }
    lkr_close(h_new);
    free(env);
    free(ks);

    check_threads(h);
    check_keys_as_data(dir);
    check_file_rotation_and_rekey(dir);
    check_recovery(dir);

    lkr_close(NULL);
    pass("lkr_close(NULL) is a no-op");
    lkr_close(h);
    pass("lkr_close of the handle");

    check_cmk_children(dir, keystore);

    free(key);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    fflush(stdout);
    if (g_failed) {
        fprintf(stderr, "lkr_c_test: %d check(s) FAILED\n", g_failed);
        return 1;
    }
    return 0;
}
