/*
 * memsrc.h: an ah_reader over memory for the framing tests, handing out at
 * most `chunk` bytes a call so records straddle reads at every position,
 * and failing (-1) once `fail_at` bytes were delivered.
 */
#ifndef AH_TEST_MEMSRC_H
#define AH_TEST_MEMSRC_H

#include <stdio.h>
#include <string.h>

#include "parsers/util/common.h"

typedef struct mem_src {
    const char *data;
    size_t len, off, chunk;
    size_t fail_at; /* return -1 once off reaches this (SIZE_MAX: never) */
} mem_src;

/* The read function of an ah_reader whose ctx is a mem_src. */
static inline ssize_t mem_read(void *ctx, char *buf, size_t n)
{
    mem_src *m = ctx;
    if (m->off >= m->fail_at)
        return -1;
    size_t k = m->len - m->off;
    if (k > n)
        k = n;
    if (k > m->chunk)
        k = m->chunk;
    memcpy(buf, m->data + m->off, k);
    m->off += k;
    return (ssize_t)k;
}

/* Print an input on stderr with non-printing bytes escaped (for a failing
 * chunk-size comparison). */
static inline void mem_src_dump(const char *what, const char *p, size_t n)
{
    fprintf(stderr, "%s, input:\n", what);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, (p[i] >= 0x20 && p[i] < 0x7f) ? "%c" : "\\x%02x", p[i] & 0xff);
    fprintf(stderr, "\n");
}

#endif
