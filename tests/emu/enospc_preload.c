/* SPDX-License-Identifier: Apache-2.0 */
/* LD_PRELOAD stand-in for a small file system that fills up: files under one directory live on
 * a "disk" of LW_ENOSPC_QUOTA bytes (the sizes of the directory's files count against it, and
 * statvfs reports it), and writes that would go beyond it fail with ENOSPC, as on a full disk,
 * without a mount (no root, no user namespace). Writes also fail while a control file exists.
 * Reads, and truncations that shrink a file, always work.
 *
 * Environment:
 *   LW_ENOSPC_DIR    the directory whose files are on that disk (absolute path)
 *   LW_ENOSPC_QUOTA  its size in bytes (0 or unset: only the control file fills it)
 *   LW_ENOSPC_CTL    the control file: full while it exists (default: the directory's path
 *                    followed by ".full")
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 4096

static bool under[MAX_FD]; /* the fd is a file under LW_ENOSPC_DIR */
static char dir[PATH_MAX], ctl[PATH_MAX + 16];
static size_t dir_len;
static int ready;
static unsigned long long quota;

#define BLOCK 4096ull

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
    const char *q = getenv("LW_ENOSPC_QUOTA");
    quota = q ? strtoull(q, NULL, 10) : 0;
    if (c)
        snprintf(ctl, sizeof(ctl), "%s", c);
    else
        snprintf(ctl, sizeof(ctl), "%s.full", dir);
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

static unsigned long long blocks(unsigned long long bytes)
{
    return (bytes + BLOCK - 1) / BLOCK;
}

/* Blocks the directory's files take (its top level: enough for a database and its files). */
static unsigned long long used_blocks(void)
{
    unsigned long long n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            n += blocks((unsigned long long)st.st_size);
    }
    closedir(d);
    return n;
}

/* The write must fail: the fd is under the directory and the disk is "full", or writing up to
 * end (0: unknown, any growth) would take more blocks than are free. */
static bool full_at(int fd, long long end)
{
    setup();
    if (fd < 0 || fd >= MAX_FD || !under[fd])
        return false;
    if (access(ctl, F_OK) == 0)
        return true;
    if (!quota)
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return false;
    unsigned long long have = blocks((unsigned long long)st.st_size);
    unsigned long long want = end > 0 ? blocks((unsigned long long)end) : have + 1;
    if (want <= have)
        return false;
    return used_blocks() + (want - have) > quota / BLOCK;
}

static long long end_of_write(int fd, long long off, size_t n)
{
    if (off < 0) {
        off = lseek(fd, 0, SEEK_CUR);
        if (off < 0)
            return 0;
    }
    return off + (long long)n;
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

#define FAIL_IF_FULL_AT(fd, end)                                                                   \
    do {                                                                                           \
        if (full_at(fd, end)) {                                                                    \
            errno = ENOSPC;                                                                        \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
#define FAIL_IF_FULL(fd) FAIL_IF_FULL_AT(fd, 0)

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write, ssize_t, int, const void *, size_t)
    FAIL_IF_FULL_AT(fd, end_of_write(fd, -1, n));
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite, ssize_t, int, const void *, size_t, off_t)
    FAIL_IF_FULL_AT(fd, end_of_write(fd, off, n));
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    REAL(pwrite64, ssize_t, int, const void *, size_t, off64_t)
    FAIL_IF_FULL_AT(fd, end_of_write(fd, off, n));
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
        FAIL_IF_FULL_AT(fd, len);
    return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
    REAL(ftruncate64, int, int, off64_t)
    if (grows(fd, len))
        FAIL_IF_FULL_AT(fd, len);
    return real_ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    REAL(fallocate, int, int, int, off_t, off_t)
    FAIL_IF_FULL_AT(fd, off + len);
    return real_fallocate(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    REAL(fallocate64, int, int, int, off64_t, off64_t)
    FAIL_IF_FULL_AT(fd, off + len);
    return real_fallocate64(fd, mode, off, len);
}

/* posix_fallocate returns the error instead of setting errno. */
int posix_fallocate(int fd, off_t off, off_t len)
{
    REAL(posix_fallocate, int, int, off_t, off_t)
    if (full_at(fd, off + len))
        return ENOSPC;
    return real_posix_fallocate(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    REAL(posix_fallocate64, int, int, off64_t, off64_t)
    if (full_at(fd, off + len))
        return ENOSPC;
    return real_posix_fallocate64(fd, off, len);
}

/* The disk as statvfs sees it: LW_ENOSPC_QUOTA bytes, less what the directory's files take. */
static void small_disk(struct statvfs *b)
{
    unsigned long long total = quota / BLOCK, used = used_blocks();
    if (access(ctl, F_OK) == 0)
        used = total;
    b->f_bsize = b->f_frsize = BLOCK;
    b->f_blocks = total;
    b->f_bfree = b->f_bavail = used < total ? total - used : 0;
}

int statvfs(const char *path, struct statvfs *b)
{
    REAL(statvfs, int, const char *, struct statvfs *)
    int rc = real_statvfs(path, b);
    if (rc == 0 && quota && is_under(AT_FDCWD, path))
        small_disk(b);
    return rc;
}

int fstatvfs(int fd, struct statvfs *b)
{
    REAL(fstatvfs, int, int, struct statvfs *)
    int rc = real_fstatvfs(fd, b);
    setup();
    if (rc == 0 && quota && fd >= 0 && fd < MAX_FD && under[fd])
        small_disk(b);
    return rc;
}

int statvfs64(const char *path, struct statvfs64 *b)
{
    REAL(statvfs64, int, const char *, struct statvfs64 *)
    int rc = real_statvfs64(path, b);
    if (rc == 0 && quota && is_under(AT_FDCWD, path)) {
        struct statvfs s;
        small_disk(&s);
        b->f_bsize = s.f_bsize;
        b->f_frsize = s.f_frsize;
        b->f_blocks = s.f_blocks;
        b->f_bfree = s.f_bfree;
        b->f_bavail = s.f_bavail;
    }
    return rc;
}

/* A duplicate (dd's output is a dup2 onto fd 1) is on the same disk. */
int dup(int fd)
{
    REAL(dup, int, int)
    int nfd = real_dup(fd);
    track(nfd, nfd >= 0 && fd >= 0 && fd < MAX_FD && under[fd]);
    return nfd;
}

int dup2(int fd, int nfd)
{
    REAL(dup2, int, int, int)
    int rc = real_dup2(fd, nfd);
    track(rc, rc >= 0 && fd >= 0 && fd < MAX_FD && under[fd]);
    return rc;
}

int dup3(int fd, int nfd, int flags)
{
    REAL(dup3, int, int, int, int)
    int rc = real_dup3(fd, nfd, flags);
    track(rc, rc >= 0 && fd >= 0 && fd < MAX_FD && under[fd]);
    return rc;
}
