/*
 * fuzz_scanner.c: the whole input side (parsers/source + parsers/scanner):
 * container detection and libarchive, decoding, framing, normalization,
 * over one in-memory input.
 *
 * The input is put in an anonymous memory file (memfd) and named by its
 * /proc/self/fd path, so the source layer reads it exactly as it reads a
 * file on disk (seekable: 7z works too) with no test-only entry point.
 * Invariants: for every leaf stream, records read = events + errors; a
 * failed stream says why; every event has its provenance, complete JSON
 * raw and body, valid UTF-8 fields and a time in range; the file is hashed
 * and its size is the input's.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "parsers/frame/jscan.h"
#include "parsers/scanner.h"

#define MAX_RECORD (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    size_t done = 0;
    while (done < size) {
        ssize_t k = write(fd, data + done, size - done);
        FUZZ_CHECK(k > 0);
        done += (size_t)k;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    ah_diag diag = {0};
    ah_source *src = ah_source_new(&diag);
    FUZZ_CHECK(src != NULL);
    ah_scan_options opt = {.max_record = MAX_RECORD};
    ah_scanner *sc = ah_scanner_new(&opt, &diag);
    FUZZ_CHECK(sc != NULL);
    FUZZ_CHECK(ah_source_add(src, path) == AH_OK);
    ah_input *in;
    uint32_t streams = 0;
    while (ah_source_next(src, &in) == AH_OK) {
        streams++;
        FUZZ_CHECK(ah_scanner_open(sc, in) == AH_OK);
        const ah_origin *o = ah_input_origin(in);
        FUZZ_CHECK(o && o->path && strcmp(o->path, path) == 0);
        uint64_t events = 0;
        ah_event ev;
        ah_status st;
        while ((st = ah_scanner_next(sc, &ev)) == AH_OK) {
            events++;
            FUZZ_CHECK(ev.origin == o && ev.record_no >= 1);
            FUZZ_CHECK(ah_json_valid(ev.raw) && ah_json_type_of(ev.raw) == AH_JSON_OBJECT);
            FUZZ_CHECK(ah_json_valid(ev.body) && ah_json_type_of(ev.body) == AH_JSON_OBJECT);
            for (int f = 0; f < AH_F_COUNT; f++)
                FUZZ_CHECK(fuzz_utf8_valid(ev.field[f].p, ev.field[f].n));
            if (ev.has_time)
                FUZZ_CHECK(ev.time.nsec >= 0 && ev.time.nsec < 1000000000);
        }
        FUZZ_CHECK(st == AH_END);
        const ah_stream_stats *stats = ah_scanner_stats(sc);
        FUZZ_CHECK(stats->records == events + stats->errors);
        FUZZ_CHECK(!stats->failed || stats->failure[0] != '\0');
        FUZZ_CHECK(stats->nformats <= AH_SCAN_MAX_FORMATS);
    }
    FUZZ_CHECK(ah_source_file_count(src) == 1);
    const ah_source_file *f = ah_source_file_at(src, 0);
    FUZZ_CHECK(f->leaf_count == streams);
    FUZZ_CHECK(f->size == size && strlen(f->sha256) == 64);
    ah_scanner_free(sc);
    ah_source_free(src);
    close(fd);
    return 0;
}
