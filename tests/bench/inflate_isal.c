/*
 * inflate_isal.c: igzip (ISA-L) inflate to nowhere, the counterpart of
 * `gen_bench inflate` (zlib) for `make bench`:
 *   inflate_isal FILE.gz      prints the decompressed size
 * Same buffer sizes as gen_bench (128 KiB in and out); every member of a
 * multi-member file; CRC-32 and length checked, as zlib does. The bench
 * files' headers carry no name or comment, so igzip's own header reader
 * serves here (audithound's reader has zlib read headers: see gunzip.c).
 */
#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: inflate_isal FILE.gz\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static unsigned char in[1 << 17], out[1 << 17];
    static struct inflate_state s;
    isal_inflate_init(&s);
    s.crc_flag = ISAL_GZIP;
    unsigned long long total = 0;
    size_t n = 0;
    int eof = 0;
    s.avail_in = 0;
    for (;;) {
        if (s.avail_in == 0 && !eof) {
            n = fread(in, 1, sizeof in, f);
            eof = n < sizeof in;
            s.next_in = in;
            s.avail_in = (uint32_t)n;
        }
        s.next_out = out;
        s.avail_out = sizeof out;
        int r = isal_inflate(&s);
        if (r < 0) {
            fprintf(stderr, "%s: corrupt gzip data (igzip error %d)\n", argv[1], r);
            return 1;
        }
        total += sizeof out - s.avail_out;
        if (s.block_state == ISAL_BLOCK_FINISH) {
            if (s.avail_in == 0 && eof)
                break;
            if (s.avail_in == 0) { /* another member may follow */
                n = fread(in, 1, sizeof in, f);
                eof = n < sizeof in;
                s.next_in = in;
                s.avail_in = (uint32_t)n;
                if (n == 0)
                    break;
            }
            unsigned char *next = s.next_in;
            uint32_t avail = s.avail_in;
            isal_inflate_reset(&s);
            s.next_in = next;
            s.avail_in = avail;
        } else if (s.avail_in == 0 && eof && s.avail_out != 0) {
            fprintf(stderr, "%s: truncated gzip data\n", argv[1]);
            return 1;
        }
    }
    fclose(f);
    printf("%llu\n", total);
    return 0;
}
