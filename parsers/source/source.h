/*
 * source.h: inputs -> leaf byte streams with provenance.
 *
 * Accepts files, directories (walked recursively, sorted by name so runs
 * are reproducible) and "-" (standard input). Container and compression
 * are decided by content, never by file name: plain files, gzip (including
 * multi-member), bzip2/xz, zip, tar (+ compressed), 7z, and one level of
 * archive or compressed file inside an archive. Each leaf stream
 * (a plain file, a decompressed file, an archive member) is handed out in
 * turn as an ah_input; its bytes are streamed, never held whole.
 *
 * While a top-level file is read its SHA-256 and size are computed over
 * the bytes on disk (chain of custody), and bytes consumed are counted
 * for progress reporting.
 *
 * Details of the contract as implemented:
 *  - Nesting: an archive member that is itself an archive is opened (entry
 *    "outer!inner", container "zip > tar.gz"); inside that, a compressed
 *    file is still decompressed ("zip > zip > gzip") but a third-level
 *    archive is reported as unsupported and skipped. 7z needs random
 *    access, so a 7z inside an archive or on a pipe is reported and skipped
 *    (stdin redirected from a file is seekable and works).
 *  - Origins: entry is NULL for plain and compressed files (a gzip's stored
 *    name is ignored); names longer than 4096 bytes are cut. Archive
 *    directories, links and other non-regular members are skipped silently.
 *  - Errors (AH_SEV_ERROR, where = path + entry, libarchive's message):
 *    unopenable file, corrupt archive, truncated or corrupt compressed data,
 *    encrypted member ("encrypted archive entry (password-protected archives
 *    are not supported)"), nesting too deep. Each sets the file's
 *    `unreadable`: some of its content was not read. One cause is reported
 *    once, at the innermost stream it hit.
 *  - sha256/size are final once ah_source_next has moved past the file's
 *    last leaf (leaves need not be read to the end: the rest is hashed at
 *    close; a pipe is read to EOF for that). A corrupt archive is still
 *    hashed; only a read error from the OS leaves sha256 "".
 *  - Directories: regular files and subdirectories are followed (also via
 *    symbolic links); loops, dangling links (warnings) and special files
 *    (notes) are skipped. Paths named explicitly may be pipes or devices.
 *    "-" given twice is read once (warning).
 *  - At most 2^20 leaf streams per source (origins live for the session).
 *  - "archive!member": a path that does not exist is split at the '!' after
 *    the longest prefix that is an existing file (a real file may hold '!');
 *    only that member is read, or everything inside it when it is an
 *    archive itself; a nested member is named as its entry is
 *    ("outer.zip!inner.tar.gz!file.json"). Origins are those of a
 *    whole-archive run (path "outer.zip", entry "inner.tar.gz!file.json",
 *    the same record numbers); the digest is still the whole file's. Members
 *    not selected are skipped unread (a tar.gz is still inflated to the
 *    end). Members of one archive added one after another select from one
 *    file (read and hashed once). A member that is not there is an error at
 *    the end of the archive (path + member named) and marks the file
 *    unreadable.
 */
#ifndef AH_SOURCE_H
#define AH_SOURCE_H

#include "../event.h"
#include "../util/diag.h"

typedef struct ah_source ah_source;
typedef struct ah_input ah_input;

/* A top-level input file as given on the command line or found in a directory. */
typedef struct ah_source_file {
    const char *path; /* as given / as found; for "a.zip!m.json" the archive, "a.zip" */
    /* "a.zip!m.json" inputs: the members read (in the archive's order); 0: the whole file.
     * Members of one archive given one after another are one file. */
    const char *const *members;
    size_t member_count;
    uint64_t size;       /* bytes read from disk (whole file once done) */
    char sha256[65];     /* lowercase hex, "" until the file is fully read */
    bool unreadable;     /* open/read failed or container corrupt (reported) */
    uint32_t leaf_count; /* leaf streams produced from it */
} ah_source_file;

ah_source *ah_source_new(ah_diag *diag);
void ah_source_free(ah_source *s);

/* Queue a path: a file, a directory (recursive) or "-". Directories are
 * expanded immediately (sorted); a missing path is reported and returns
 * AH_ERR_IO (the caller decides whether that is fatal). A missing path is
 * not queued; a directory with unreadable parts queues the rest and
 * returns AH_ERR_IO. */
ah_status ah_source_add(ah_source *s, const char *path);

/* Total bytes of all queued regular files (0 for stdin), for progress. */
uint64_t ah_source_total_bytes(const ah_source *s);
/* Bytes read from disk so far across all files. */
uint64_t ah_source_done_bytes(const ah_source *s);

/* Stop reading a leaf stream after this many (decompressed) bytes: the
 * read fails with an error naming the input (--max-input; 0 = no limit). */
void ah_source_set_max_input(ah_source *s, uint64_t max_bytes);

/* Called whenever bytes are read from disk, with ah_source_done_bytes and
 * ah_source_total_bytes, so progress shows even while a stream yields
 * nothing (a device, a run of NULs); the callee throttles. */
typedef void (*ah_source_progress_fn)(void *ud, uint64_t done, uint64_t total);
void ah_source_set_progress(ah_source *s, ah_source_progress_fn fn, void *ud);

/* Open the next leaf stream. Returns AH_OK with *out set, or AH_END.
 * Unreadable files and corrupt archive members are reported to diag,
 * marked in their ah_source_file, and skipped. The previous ah_input is
 * closed automatically by this call (and by ah_source_free). */
ah_status ah_source_next(ah_source *s, ah_input **out);

/* The leaf stream's decompressed bytes. read() returns -1 on a corrupt or
 * truncated stream after reporting it to diag. */
ah_reader *ah_input_reader(ah_input *in);
const ah_origin *ah_input_origin(const ah_input *in); /* valid for the source's lifetime */
/* The first bytes of the leaf's (decompressed) data, up to 512, for
 * recognising what it is by content; valid while the input is open. */
size_t ah_input_head(const ah_input *in, const unsigned char **p);
/* Container chain for reports, e.g. "gzip", "zip", "tar.gz > zip", "plain". */
const char *ah_input_container(const ah_input *in);

/* Planning (audithound shard): the inputs without their records. With
 * `members` false, one call per queued file: (path, NULL, size on disk),
 * except that a file given as "path!member" is opened and called once per
 * member found, (path, member, the sum of its leaves' sizes as below). With `members`
 * true, one call per leaf stream, in the order ah_source_next would hand
 * them out: (path, NULL, size on disk) for a file that is no archive,
 * (path, entry, size) for an archive member, the size as the archive
 * records it (uncompressed by the archive; a .gz member counts as stored),
 * counted by reading the member when the archive does not record it.
 * Archives are read for their headers only (a compressed tar to its end);
 * no digest is computed. Problems are reported as ah_source_next reports
 * them and mark the file unreadable. A callback's status other than AH_OK
 * stops the listing and is returned. Instead of ah_source_next, once:
 * AH_ERR_USAGE after reading began. */
typedef ah_status (*ah_source_list_fn)(void *ud, const char *path, const char *entry, uint64_t size);
ah_status ah_source_list(ah_source *s, bool members, ah_source_list_fn fn, void *ud);

/* Top-level files, in input order (valid for the source's lifetime). */
size_t ah_source_file_count(const ah_source *s);
const ah_source_file *ah_source_file_at(const ah_source *s, size_t i);
/* Index (into the file list) of the file the given input came from. */
size_t ah_input_file_index(const ah_input *in);
/* Where the stream stands in its file, the same whichever members a run
 * selects: the member's header ordinal in the archive << 32 | its ordinal
 * in a nested archive; 0 for a file that is no archive. */
uint64_t ah_input_member_order(const ah_input *in);

#endif
