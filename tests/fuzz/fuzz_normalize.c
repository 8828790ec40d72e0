/*
 * fuzz_normalize.c: format detection and normalization of records
 * (parsers/formats/), as the scanner feeds them.
 *
 * Byte 0: even = the rest is one JSON record, odd = the rest is a CSV
 * stream (header + rows). The text goes through the decoder first, as in a
 * real run, so the normalizer sees UTF-8. Invariants for every event: raw
 * and body are complete JSON objects, every normalized field and the
 * canonical operation are valid UTF-8, the time is in range, the source
 * agrees with the format; a rejected record says why.
 */
#include "fuzz.h"

#include "parsers/decode/decode.h"
#include "parsers/formats/formats.h"
#include "parsers/frame/jscan.h"
#include "parsers/util/buf.h"

#define MAX_RECORD 16384

static void check_event(const ah_event *ev)
{
    FUZZ_CHECK(ev->format != NULL);
    FUZZ_CHECK(ev->source == ev->format->source || ev->format->source == AH_SOURCE_UNKNOWN);
    FUZZ_CHECK(ah_json_valid(ev->raw) && ah_json_type_of(ev->raw) == AH_JSON_OBJECT);
    FUZZ_CHECK(ah_json_valid(ev->body) && ah_json_type_of(ev->body) == AH_JSON_OBJECT);
    for (int f = 0; f < AH_F_COUNT; f++)
        FUZZ_CHECK(fuzz_utf8_valid(ev->field[f].p, ev->field[f].n));
    FUZZ_CHECK(fuzz_utf8_valid(ev->operation_canon.p, ev->operation_canon.n));
    if (ev->has_time)
        FUZZ_CHECK(ev->time.nsec >= 0 && ev->time.nsec < 1000000000);
}

static void run_json(ah_normalizer *n, ah_span text)
{
    ah_json_record rec = {text, 1, 1, NULL};
    ah_event ev;
    memset(&ev, 0, sizeof ev);
    const char *why = NULL;
    ah_status st = ah_normalize_json(n, &rec, &ev, &why);
    FUZZ_CHECK(st == AH_OK || st == AH_ERR_RECORD);
    if (st == AH_OK) {
        check_event(&ev);
        FUZZ_CHECK(ev.record_no == 1);
    } else
        FUZZ_CHECK(why && *why);
}

static void run_csv(ah_normalizer *n, ah_span text)
{
    fuzz_mem m;
    ah_reader r = fuzz_mem_reader(&m, (const uint8_t *)text.p, text.n, SIZE_MAX);
    ah_csv *c = ah_csv_new(&r, MAX_RECORD);
    FUZZ_CHECK(c != NULL);
    if (ah_csv_read_header(c) == AH_OK) {
        size_t ncols = ah_csv_ncols(c);
        ah_span *hdr = calloc(ncols ? ncols : 1, sizeof *hdr);
        FUZZ_CHECK(hdr != NULL);
        for (size_t i = 0; i < ncols; i++)
            hdr[i] = ah_csv_header(c, i);
        char why_bind[160];
        const ah_format *f = ah_normalizer_bind_csv(n, hdr, ncols, why_bind, sizeof why_bind);
        if (!f)
            FUZZ_CHECK(why_bind[0] != '\0');
        ah_csv_row row;
        ah_status st;
        for (int i = 0; f && i < 16 && (st = ah_csv_next(c, &row)) != AH_END && st != AH_ERR_STREAM; i++) {
            if (st != AH_OK)
                continue;
            ah_event ev;
            memset(&ev, 0, sizeof ev);
            const char *why = NULL;
            st = ah_normalize_csv(n, &row, &ev, &why);
            FUZZ_CHECK(st == AH_OK || st == AH_ERR_RECORD);
            if (st == AH_OK) {
                check_event(&ev);
                FUZZ_CHECK(ev.format == f && ev.record_no == row.record_no);
            } else
                FUZZ_CHECK(why && *why);
        }
        free(hdr);
    }
    ah_csv_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_RECORD)
        return 0;
    /* Decode as the scanner does. */
    fuzz_mem m;
    ah_reader r = fuzz_mem_reader(&m, data + 1, size - 1, SIZE_MAX);
    ah_decoder *d = ah_decoder_new(&r);
    FUZZ_CHECK(d != NULL);
    ah_buf text;
    ah_buf_init(&text, 0);
    char tmp[4096];
    ssize_t k;
    while ((k = ah_read(ah_decoder_reader(d), tmp, sizeof tmp)) > 0)
        FUZZ_CHECK(ah_buf_append(&text, tmp, (size_t)k) == AH_OK);
    ah_decoder_free(d);

    ah_norm_options opt = {.date_order = (ah_date_order)0, .max_record = MAX_RECORD};
    ah_normalizer *n = ah_normalizer_new(&opt);
    FUZZ_CHECK(n != NULL);
    /* The Entra portal's sign-in CSVs are told apart by file name. */
    ah_origin origin = {(data[0] & 2) ? "InteractiveSignIns_2021.csv" : "fuzz.json", NULL, 0};
    ah_normalizer_begin(n, &origin);
    if (data[0] & 1)
        run_csv(n, ah_buf_span(&text));
    else
        run_json(n, ah_buf_span(&text));
    ah_normalizer_free(n);
    ah_buf_free(&text);
    return 0;
}
