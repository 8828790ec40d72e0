/*
 * gunzip.h: the project's own gzip reader (RFC 1952), inflating with ISA-L's
 * igzip (zlib as the reference and fallback inflater).
 *
 * Why not libarchive's gzip filter: at a cut (a half-copied export) it loses
 * what it had buffered, up to the last complete block or more, and it gives no
 * offset. This reader inflates straight into the caller's buffer, so every
 * byte that the compressed data before the cut determines is delivered; then
 * read() fails and ah_gunzip_error() says where: the compressed byte offset and
 * how much was decompressed.
 *
 * Why igzip: it inflates the same deflate streams with about half of zlib's
 * CPU (docs/internals.md "Performance"), and inflate is a large share of a
 * hunt over a .gz export. Both inflaters sit behind the same member loop
 * (magic, padding, trailing bytes, offsets, messages), and a differential
 * unit test holds them to the same bytes.
 *
 * Where the inflaters differ: only inside damaged data. Each may stop at a
 * different point (never with different bytes; igzip delivers at least what
 * zlib does), and igzip accepts an incomplete Huffman code set that zlib
 * refuses ("invalid distances set"): when the member's CRC-32 and length
 * then check, igzip delivers it where zlib would fail.
 *
 * Multi-member files (concatenated gzip streams) are read through; zero bytes
 * after the last member (block padding) are ignored; other trailing bytes end
 * the stream and are counted (ah_gunzip_trailing), not decompressed.
 *
 * Memory: one fixed input buffer plus the inflater's state (igzip about
 * 80 KiB, zlib about 44 KiB). The interface is the pull reader the container
 * layer uses everywhere (ah_reader in, ah_reader out).
 */
#ifndef AH_GUNZIP_H
#define AH_GUNZIP_H

#include "../util/common.h"

typedef struct ah_gunzip ah_gunzip;

/* True if the bytes start a gzip member (magic 1f 8b, method deflate). */
bool ah_gunzip_magic(const void *p, size_t n);

/* The deflate implementation behind the reader. */
typedef enum ah_inflater {
    AH_INFLATER_IGZIP, /* ISA-L igzip: the default */
    AH_INFLATER_ZLIB,  /* zlib: the reference, for tests and comparisons */
} ah_inflater;

/* Wrap a reader of compressed bytes (not owned), inflating with igzip.
 * NULL when out of memory. */
ah_gunzip *ah_gunzip_new(ah_reader *compressed);
/* The same with a chosen inflater; both deliver the same bytes. */
ah_gunzip *ah_gunzip_new_with(ah_reader *compressed, ah_inflater inflater);
void ah_gunzip_free(ah_gunzip *g);

/* The decompressed bytes. read() returns -1 on corrupt or truncated data
 * (after delivering every byte before the damage) and on a read error of
 * the compressed input (then the error text is the input's own report). */
ah_reader *ah_gunzip_reader(ah_gunzip *g);

/* Why read() failed ("" if it did not). */
const char *ah_gunzip_error(const ah_gunzip *g);
/* True when the failure came from the compressed input's reader, which
 * reported it itself. */
bool ah_gunzip_input_failed(const ah_gunzip *g);
/* Compressed bytes consumed so far, decompressed bytes delivered so far. */
uint64_t ah_gunzip_in_offset(const ah_gunzip *g);
uint64_t ah_gunzip_out_offset(const ah_gunzip *g);
/* Members read to their end; bytes after the last member that were not gzip. */
uint64_t ah_gunzip_members(const ah_gunzip *g);
uint64_t ah_gunzip_trailing(const ah_gunzip *g);

#endif
