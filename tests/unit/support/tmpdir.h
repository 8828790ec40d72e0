/*
 * tmpdir.h: a cmocka fixture owning a fresh temporary directory (and a file
 * path inside it), removed with its contents (one level deep) afterwards.
 * Also ah_test_slurp, a whole file read into memory (tests only: their
 * files are small). Header-only so that each test binary stays one file
 * plus support/. Include after <cmocka.h>.
 */
#ifndef AH_TEST_TMPDIR_H
#define AH_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ah_test_tmpdir {
    char dir[64];
    char path[128]; /* dir/<file> */
} ah_test_tmpdir;

static inline int ah_test_tmpdir_setup(void **state, const char *prefix, const char *file)
{
    ah_test_tmpdir *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, file);
    *state = f;
    return 0;
}

static inline int ah_test_tmpdir_teardown(void **state)
{
    ah_test_tmpdir *f = *state;
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The whole file, NUL-terminated, *len set when len is not NULL; NULL if it
 * cannot be opened. Free with free(). */
static inline char *ah_test_slurp(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    assert_true(n >= 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    if (len)
        *len = (size_t)n;
    return buf;
}

#endif
