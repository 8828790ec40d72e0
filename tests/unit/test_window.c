/*
 * test_window.c: the framers' sliding window (parsers/frame/window.h).
 *
 * A pseudo-random stream is pulled through the window by readers of many
 * chunk sizes while a simulated framer keeps a moving tail; at every step
 * the held bytes must equal the stream at [base, base + len), the buffer
 * must stay within its cap, and slides must happen only when the tail is
 * short of room or nothing is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/frame/window.h"
#include "support/memsrc.h"

/* A broken reader that claims more bytes than it was asked for. */
static ssize_t overrun_read(void *ctx, char *buf, size_t n)
{
    (void)ctx;
    (void)buf;
    return (ssize_t)n + 1;
}

static char *make_stream(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (char)('a' + (x >> 16) % 26);
    }
    s[n] = '\0';
    return s;
}

static void assert_holds_stream(const ah_window *w, const char *stream)
{
    assert_true(w->buf.len == 0 || memcmp(w->buf.data, stream + w->base, w->buf.len) == 0);
    if (w->buf.data)
        assert_int_equal(w->buf.data[w->buf.len], '\0');
}

static void test_first_fill_and_end(void **state)
{
    (void)state;
    mem_src src = {"hello, window", 13, 0, SIZE_MAX, SIZE_MAX};
    ah_reader rd = {mem_read, &src};
    ah_window w;
    ah_window_init(&w, &rd, SIZE_MAX);
    assert_int_equal(ah_window_avail(&w), 0);
    size_t dropped = 99;
    assert_int_equal(ah_window_fill(&w, 0, &dropped), AH_OK);
    assert_int_equal(dropped, 0);
    assert_int_equal(w.buf.len, 13);
    assert_string_equal(w.buf.data, "hello, window");
    assert_true(w.buf.cap >= 256 * 1024); /* the first read gets the large initial window */
    assert_int_equal(ah_window_fill(&w, 0, NULL), AH_END);
    assert_true(w.eof);
    assert_int_equal(ah_window_fill(&w, 0, &dropped), AH_END); /* and on every call after it */
    assert_int_equal(dropped, 0);
    assert_int_equal(w.buf.len, 13);
    ah_window_free(&w);
    ah_window_free(NULL);
}

static void test_slides_only_when_needed(void **state)
{
    (void)state;
    size_t n = 2 * 1024 * 1024;
    char *stream = make_stream(n);
    mem_src src = {stream, n, 0, 64 * 1024, SIZE_MAX};
    ah_reader rd = {mem_read, &src};
    ah_window w;
    ah_window_init(&w, &rd, SIZE_MAX);
    size_t dropped;
    assert_int_equal(ah_window_fill(&w, 0, &dropped), AH_OK);
    /* Room left in the tail: keeping from 10 on drops nothing. */
    w.pos = 100;
    assert_int_equal(ah_window_fill(&w, 10, &dropped), AH_OK);
    assert_int_equal(dropped, 0);
    assert_int_equal(w.base, 0);
    assert_int_equal(w.pos, 100);
    assert_holds_stream(&w, stream);
    /* Nothing kept: the slide is free and happens at once. */
    w.pos = w.buf.len;
    size_t len = w.buf.len;
    assert_int_equal(ah_window_fill(&w, w.pos, &dropped), AH_OK);
    assert_int_equal(dropped, len);
    assert_int_equal(w.base, len);
    assert_int_equal(w.pos, 0);
    assert_holds_stream(&w, stream);
    /* Fill up without dropping until the tail is short of room, then slide. */
    size_t cap = w.buf.cap;
    uint64_t base = w.base;
    w.pos = 5;
    while (w.buf.cap == cap && w.base == base) {
        size_t before = w.buf.len;
        ah_status st = ah_window_fill(&w, 5, &dropped);
        assert_int_equal(st, AH_OK);
        if (dropped) {
            assert_int_equal(dropped, 5);
            assert_true(cap - 1 - before < 64 * 1024);
        }
        assert_holds_stream(&w, stream);
    }
    assert_int_equal(w.pos, 0);
    ah_window_free(&w);
    free(stream);
}

/* A framer that keeps the last `tail` bytes it scanned; the window's buffer
 * must never outgrow max_keep plus one read. */
static void run_stream(size_t chunk, size_t max_keep, size_t tail)
{
    size_t n = chunk < 4096 ? 400 * 1024 + 17 : 1536 * 1024 + 17;
    char *stream = make_stream(n);
    mem_src src = {stream, n, 0, chunk, SIZE_MAX};
    ah_reader rd = {mem_read, &src};
    ah_window w;
    ah_window_init(&w, &rd, max_keep);
    size_t mark = 0; /* an offset the framer holds, like a record start */
    uint64_t mark_stream = 0;
    uint64_t scanned = 0;
    for (;;) {
        /* scan everything held */
        while (w.pos < w.buf.len) {
            assert_int_equal(w.buf.data[w.pos], stream[w.base + w.pos]);
            w.pos++;
            scanned++;
        }
        size_t keep = w.pos > tail ? w.pos - tail : 0;
        if (keep > mark) {
            mark = keep;
            mark_stream = w.base + keep;
        }
        size_t dropped;
        ah_status st = ah_window_fill(&w, keep, &dropped);
        mark = ah_window_rebase(mark, dropped);
        assert_int_equal(w.base + mark, mark_stream);
        if (max_keep != SIZE_MAX)
            assert_true(w.buf.len <= max_keep + 64 * 1024 + 64);
        if (dropped) /* the kept bytes moved down intact (new bytes are checked as scanned) */
            assert_holds_stream(&w, stream);
        if (st == AH_END)
            break;
        assert_int_equal(st, AH_OK);
    }
    assert_int_equal(scanned, n);
    assert_int_equal(w.base + w.buf.len, n);
    ah_window_free(&w);
    free(stream);
}

static void test_stream_through_small_and_large_reads(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 7, 4096, 65536, SIZE_MAX};
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
        run_stream(chunks[i], 1000, 900);
        run_stream(chunks[i], 300 * 1024, 200 * 1024);
        run_stream(chunks[i], SIZE_MAX, 0);
    }
}

static void test_ensure(void **state)
{
    (void)state;
    mem_src src = {"abcdefgh", 8, 0, 1, SIZE_MAX};
    ah_reader rd = {mem_read, &src};
    ah_window w;
    ah_window_init(&w, &rd, SIZE_MAX);
    assert_int_equal(ah_window_ensure(&w, 3), AH_OK);
    assert_true(ah_window_avail(&w) >= 3);
    assert_memory_equal(w.buf.data + w.pos, "abc", 3);
    w.pos += 3;
    assert_int_equal(ah_window_ensure(&w, 100), AH_OK); /* fewer at end of input */
    assert_int_equal(ah_window_avail(&w), 5);
    assert_memory_equal(w.buf.data + w.pos, "defgh", 5);
    assert_true(w.eof);
    ah_window_free(&w);
}

static void test_read_errors(void **state)
{
    (void)state;
    mem_src src = {"abcdef", 6, 0, 2, 4};
    ah_reader rd = {mem_read, &src};
    ah_window w;
    ah_window_init(&w, &rd, SIZE_MAX);
    assert_int_equal(ah_window_fill(&w, 0, NULL), AH_OK);
    assert_int_equal(ah_window_fill(&w, 0, NULL), AH_OK);
    assert_int_equal(ah_window_fill(&w, 0, NULL), AH_ERR_STREAM);
    assert_int_equal(ah_window_ensure(&w, 10), AH_ERR_STREAM);
    assert_memory_equal(w.buf.data, "abcd", 4);
    ah_window_free(&w);

    ah_reader rd2 = {overrun_read, NULL};
    ah_window_init(&w, &rd2, SIZE_MAX);
    assert_int_equal(ah_window_fill(&w, 0, NULL), AH_ERR_STREAM);
    assert_int_equal(w.buf.len, 0);
    ah_window_free(&w);
}

static void test_rebase(void **state)
{
    (void)state;
    assert_int_equal(ah_window_rebase(10, 0), 10);
    assert_int_equal(ah_window_rebase(10, 4), 6);
    assert_int_equal(ah_window_rebase(10, 10), 0);
    assert_int_equal(ah_window_rebase(3, 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_fill_and_end),
        cmocka_unit_test(test_slides_only_when_needed),
        cmocka_unit_test(test_stream_through_small_and_large_reads),
        cmocka_unit_test(test_ensure),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_rebase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
