/*
 * fuzz_csv.c: the RFC 4180 reader (parsers/frame/csv.c).
 *
 * Byte 0 picks the read size; the rest is the stream. Invariants: record
 * numbers count every record, good or bad (1, 2, 3, ...); line numbers
 * never go back; a record is never bigger than the limit; the header and
 * every cell are readable (ASan) and the reader ends.
 */
#include "fuzz.h"

#include "parsers/frame/csv.h"

#define MAX_RECORD 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_mem m;
    ah_reader r = fuzz_mem_reader(&m, data + 1, size - 1, fuzz_chunk(data[0]));
    ah_csv *c = ah_csv_new(&r, MAX_RECORD);
    FUZZ_CHECK(c != NULL);
    ah_status st = ah_csv_read_header(c);
    FUZZ_CHECK(st == AH_OK || st == AH_END || st == AH_ERR_STREAM);
    if (st == AH_OK) {
        char d = ah_csv_delimiter(c);
        FUZZ_CHECK(d == ',' || d == ';');
        for (size_t i = 0; i < ah_csv_ncols(c); i++) {
            ah_span h = ah_csv_header(c, i);
            fuzz_touch(h);
            char key[64];
            ah_csv_header_key(h, key, sizeof key);
            FUZZ_CHECK(strlen(key) < sizeof key);
        }
        uint64_t records = 0, last_line = 0;
        for (;;) {
            ah_csv_row row;
            st = ah_csv_next(c, &row);
            if (st == AH_END || st == AH_ERR_STREAM)
                break;
            FUZZ_CHECK(st == AH_OK || st == AH_ERR_RECORD);
            records++;
            FUZZ_CHECK(row.record_no == records);
            FUZZ_CHECK(row.line_no >= last_line && row.line_no >= 1);
            last_line = row.line_no;
            if (st == AH_ERR_RECORD) {
                const char *why = ah_csv_error(c);
                FUZZ_CHECK(why && *why);
                continue;
            }
            size_t total = 0;
            for (size_t i = 0; i < row.ncells; i++) {
                fuzz_touch(row.cells[i]);
                total += row.cells[i].n;
            }
            FUZZ_CHECK(total <= MAX_RECORD);
        }
        /* Once at the end, it stays there. */
        if (st == AH_END) {
            ah_csv_row row;
            FUZZ_CHECK(ah_csv_next(c, &row) == AH_END);
        }
    }
    ah_csv_free(c);
    return 0;
}
