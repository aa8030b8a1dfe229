/* LD_PRELOAD stand-in for a full file system: writes to files under one directory fail with
 * ENOSPC while a control file exists, as they would on a full disk, without needing a mount (no
 * root, no user namespace). Reads, and truncations that shrink a file, still work.
 *
 * Environment:
 *   LW_ENOSPC_DIR  the directory whose files are "on the full disk" (absolute path)
 *   LW_ENOSPC_CTL  the control file: the disk is full while it exists (default
 * LW_ENOSPC_DIR/../full)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 4096

static bool under[MAX_FD]; /* the fd is a file under LW_ENOSPC_DIR */
static char dir[PATH_MAX], ctl[PATH_MAX];
static size_t dir_len;
static int ready;

static void setup(void)
{
    if (ready)
        return;
    ready = 1;
    const char *d = getenv("LW_ENOSPC_DIR"), *c = getenv("LW_ENOSPC_CTL");
    if (!d || d[0] != '/')
        return;
    snprintf(dir, sizeof(dir), "%s", d);
    dir_len = strlen(dir);
    while (dir_len > 1 && dir[dir_len - 1] == '/')
        dir[--dir_len] = '\0';
    if (c)
        snprintf(ctl, sizeof(ctl), "%s", c);
    else
        snprintf(ctl, sizeof(ctl), "%s/../full", dir);
}

/* Is path (absolute, or relative to the working directory) under the directory? */
static bool is_under(int dirfd, const char *path)
{
    setup();
    if (!dir_len || !path)
        return false;
    char abs[PATH_MAX * 2];
    if (path[0] == '/') {
        snprintf(abs, sizeof(abs), "%s", path);
    } else {
        char base[PATH_MAX] = "";
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof(base)))
                return false;
        } else {
            char link[64];
            snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, base, sizeof(base) - 1);
            if (n <= 0)
                return false;
            base[n] = '\0';
        }
        snprintf(abs, sizeof(abs), "%s/%s", base, path);
    }
    return strncmp(abs, dir, dir_len) == 0 && (abs[dir_len] == '/' || abs[dir_len] == '\0');
}

static void track(int fd, bool on)
{
    if (fd >= 0 && fd < MAX_FD)
        under[fd] = on;
}

/* The write must fail: the fd is under the directory and the disk is "full". */
static bool full(int fd)
{
    setup();
    if (fd < 0 || fd >= MAX_FD || !under[fd])
        return false;
    return access(ctl, F_OK) == 0;
}

#define REAL(name, ret, ...)                                                                       \
    static ret (*real_##name)(__VA_ARGS__);                                                        \
    if (!real_##name)                                                                              \
        real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name);

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    REAL(open, int, const char *, int, ...)
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    int fd = real_open(path, flags, m);
    track(fd, fd >= 0 && is_under(AT_FDCWD, path));
    return fd;
}

int open64(const char *path, int flags, ...)
{
    REAL(open64, int, const char *, int, ...)
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    int fd = real_open64(path, flags, m);
    track(fd, fd >= 0 && is_under(AT_FDCWD, path));
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat, int, int, const char *, int, ...)
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    int fd = real_openat(dirfd, path, flags, m);
    track(fd, fd >= 0 && is_under(dirfd, path));
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    REAL(openat64, int, int, const char *, int, ...)
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    int fd = real_openat64(dirfd, path, flags, m);
    track(fd, fd >= 0 && is_under(dirfd, path));
    return fd;
}

int creat(const char *path, mode_t mode)
{
    return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int close(int fd)
{
    REAL(close, int, int)
    track(fd, false);
    return real_close(fd);
}

#define FAIL_IF_FULL(fd)                                                                           \
    do {                                                                                           \
        if (full(fd)) {                                                                            \
            errno = ENOSPC;                                                                        \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write, ssize_t, int, const void *, size_t)
    FAIL_IF_FULL(fd);
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite, ssize_t, int, const void *, size_t, off_t)
    FAIL_IF_FULL(fd);
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    REAL(pwrite64, ssize_t, int, const void *, size_t, off64_t)
    FAIL_IF_FULL(fd);
    return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL(writev, ssize_t, int, const struct iovec *, int)
    FAIL_IF_FULL(fd);
    return real_writev(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(pwritev, ssize_t, int, const struct iovec *, int, off_t)
    FAIL_IF_FULL(fd);
    return real_pwritev(fd, iov, cnt, off);
}

/* Growing a file takes space; shrinking it gives some back. */
static bool grows(int fd, off64_t len)
{
    struct stat st;
    return fstat(fd, &st) != 0 || len > st.st_size;
}

int ftruncate(int fd, off_t len)
{
    REAL(ftruncate, int, int, off_t)
    if (grows(fd, len))
        FAIL_IF_FULL(fd);
    return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
    REAL(ftruncate64, int, int, off64_t)
    if (grows(fd, len))
        FAIL_IF_FULL(fd);
    return real_ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    REAL(fallocate, int, int, int, off_t, off_t)
    FAIL_IF_FULL(fd);
    return real_fallocate(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    REAL(fallocate64, int, int, int, off64_t, off64_t)
    FAIL_IF_FULL(fd);
    return real_fallocate64(fd, mode, off, len);
}

/* posix_fallocate returns the error instead of setting errno. */
int posix_fallocate(int fd, off_t off, off_t len)
{
    REAL(posix_fallocate, int, int, off_t, off_t)
    if (full(fd))
        return ENOSPC;
    return real_posix_fallocate(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    REAL(posix_fallocate64, int, int, off64_t, off64_t)
    if (full(fd))
        return ENOSPC;
    return real_posix_fallocate64(fd, off, len);
}
