/*
 * cmd_shard.c: `audithound shard --count N INPUT...` prints a balanced
 * assignment of the inputs to N shards, for scripts that run one audithound
 * per shard (GNU parallel, Slurm job arrays; docs/scale-out.md).
 *
 * Inputs are expanded as a run expands them (operands in byte order,
 * directories walked by parsers/source), so a shard's lines name exactly
 * what a run over all of them would read. Sizes are bytes on disk, or with
 * --by member each archive member's size as the archive records it.
 * Assignment: largest first, each to the lightest shard so far (the lowest
 * number on a tie); equal sizes in byte order of their names, so the plan
 * does not depend on the order of the operands.
 */
#include <stdlib.h>
#include <string.h>

#include "../../parsers/source/source.h"
#include "cli.h"

enum { OPT_COUNT = 1, OPT_BY, OPT_QUIET };

enum { MAX_SHARDS = 1 << 16 };

static const ah_cli_opt shard_opts[] = {
    {OPT_COUNT, 'n', "count", "N", "number of shards (1 to 65536; required)"},
    {OPT_BY, 0, "by", "file|member",
     "unit of work: whole input files (default), or each archive member as ARCHIVE!MEMBER"},
    {OPT_QUIET, 'q', "quiet", NULL, "no warnings on stderr (errors are still printed)"},
    {0, 0, NULL, NULL, NULL},
};

typedef struct item {
    char *name; /* the input as a run takes it: path, or path!member */
    char *path; /* the top-level file it is read from */
    uint64_t size;
    size_t order;   /* position in the expansion */
    unsigned shard; /* 1-based */
} item;

typedef struct shard_ctx {
    ah_cli_diag diag;
    unsigned long long count;
    bool by_member;
    item *items;
    size_t n, cap;
} shard_ctx;

static int shard_opt(void *ctx, int id, const char *arg)
{
    shard_ctx *c = ctx;
    switch (id) {
    case OPT_COUNT:
        if (ah_cli_parse_uint(arg, &c->count) != 0 || c->count < 1 || c->count > MAX_SHARDS)
            return ah_cli_usage_error(NULL, "--count: expected a number from 1 to %d, not '%s'", MAX_SHARDS, arg);
        return 0;
    case OPT_BY:
        if (strcmp(arg, "file") == 0 || strcmp(arg, "member") == 0) {
            c->by_member = arg[0] == 'm';
            return 0;
        }
        return ah_cli_usage_error(NULL, "--by: expected file or member, not '%s'", arg);
    case OPT_QUIET: c->diag.quiet = true; return 0;
    }
    return 0;
}

static int run_shard(int argc, char **argv);

const ah_cli_cmd cmd_shard = {
    "shard",
    "--count N [--by file|member] INPUT...",
    "assign the inputs to N shards of about equal size, for parallel runs",
    "Prints one line per input: SHARD<TAB>SIZE<TAB>INPUT, SHARD from 1 to N, SIZE in bytes,\n"
    "INPUT as audithound takes it on a command line. Lines are grouped by shard (1 first),\n"
    "in input order within a shard. Directories are expanded to their files as every\n"
    "command expands them. With --by file SIZE is the size on disk; with --by member each\n"
    "archive member is one input, ARCHIVE!MEMBER (nested: OUTER!INNER!FILE), SIZE the size\n"
    "the archive records for it, and a file that is no archive is one input; reading only\n"
    "the headers of archives costs little for zip, a whole inflate for tar.gz.\n"
    "Inputs go largest first to the shard with the least bytes so far; equal sizes in byte\n"
    "order of their names, so the plan is the same in any operand order. A shard may get\n"
    "nothing when there are fewer inputs than shards. An input named twice is listed once.\n"
    "A name with a control character (tab, newline) cannot be one line: a member so named\n"
    "puts its whole archive in one shard instead; a file so named is an error.\n"
    "Standard input cannot be sharded. Exit 3 when an input could not be read or listed\n"
    "(the others are still printed), 4 when there was no input file. docs/scale-out.md\n"
    "shows runs under GNU parallel.",
    shard_opts,
    run_shard,
};

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static ah_status collect(void *ud, const char *path, const char *entry, uint64_t size)
{
    shard_ctx *c = ud;
    if (c->n == c->cap) {
        item *ni = ah_grow_array(c->items, &c->cap, 64, sizeof *ni);
        if (!ni)
            return AH_ERR_NOMEM;
        c->items = ni;
    }
    size_t pl = strlen(path), el = entry ? strlen(entry) + 1 : 0;
    item *it = &c->items[c->n];
    memset(it, 0, sizeof *it);
    it->name = malloc(pl + el + 1);
    it->path = strdup(path);
    if (!it->name || !it->path) {
        free(it->name);
        free(it->path);
        return AH_ERR_NOMEM;
    }
    memcpy(it->name, path, pl + 1);
    if (entry) {
        it->name[pl] = '!';
        memcpy(it->name + pl + 1, entry, el);
    }
    it->size = size;
    it->order = c->n++;
    return AH_OK;
}

static int by_name(const void *a, const void *b)
{
    const item *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    return r ? r : (x->order > y->order) - (x->order < y->order);
}

static int by_size_then_name(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return by_name(a, b);
}

static int by_shard_then_order(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->shard != y->shard)
        return x->shard < y->shard ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

static void drop_item(item *it)
{
    free(it->name);
    free(it->path);
    it->name = it->path = NULL;
}

/* Remove dropped items (name NULL), keeping the order. */
static void compact(shard_ctx *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->items[i].name)
            c->items[k++] = c->items[i];
    c->n = k;
}

/* A member whose name cannot be one line: its archive becomes one input
 * (all its members' bytes), so nothing is left out of the plan. A file so
 * named cannot be listed at all (an error). Returns false when a file was
 * left out. */
static bool fold_unprintable(shard_ctx *c, ah_status *st)
{
    bool all = true;
    for (size_t i = 0; i < c->n && *st == AH_OK; i++) {
        if (!c->items[i].name || printable(c->items[i].name))
            continue;
        char esc[1024];
        char *path = c->items[i].path;
        bool file_bad = !printable(path);
        if (file_bad) {
            ah_cli_errorf("%s: a file name with a control character cannot be listed one to a line; not assigned",
                          ah_escape_text(path, strlen(path), false, esc, sizeof esc));
            all = false;
        } else if (!c->diag.quiet) {
            ah_cli_warnf("%s: a member name with a control character: the whole archive is one input",
                         ah_escape_text(c->items[i].name, strlen(c->items[i].name), false, esc, sizeof esc));
        }
        /* every item of this file goes into its first one (or goes) */
        item *first = NULL;
        for (size_t j = 0; j < c->n; j++) {
            item *o = &c->items[j];
            if (!o->name || o->path == path || strcmp(o->path, path) != 0)
                continue;
            if (!first && !file_bad)
                first = o;
            else {
                if (first)
                    first->size += o->size;
                drop_item(o);
            }
        }
        /* the item that triggered it, last: `path` is its own */
        if (!first && !file_bad)
            first = &c->items[i];
        else {
            if (first)
                first->size += c->items[i].size;
            drop_item(&c->items[i]);
        }
        if (first) {
            char *whole = strdup(first->path);
            if (!whole) {
                *st = AH_ERR_NOMEM;
                break;
            }
            free(first->name);
            first->name = whole;
        }
    }
    compact(c);
    return all;
}

/* The same name twice (a directory and a file in it; a tar repeating a
 * member name) is one input: a run given it once reads it all. */
static void merge_same_names(shard_ctx *c)
{
    if (c->n < 2)
        return;
    qsort(c->items, c->n, sizeof *c->items, by_name);
    for (size_t i = 1, keep = 0; i < c->n; i++) {
        if (strcmp(c->items[i].name, c->items[keep].name) == 0) {
            c->items[keep].size += c->items[i].size;
            drop_item(&c->items[i]);
        } else {
            keep = i;
        }
    }
    compact(c);
}

/* A shard in the min-heap of assign(): the lightest first, the lower number on a tie. */
typedef struct shard_load {
    uint64_t bytes;
    unsigned shard;
} shard_load;

static bool lighter(const shard_load *x, const shard_load *y)
{
    return x->bytes != y->bytes ? x->bytes < y->bytes : x->shard < y->shard;
}

static void sift_down(shard_load *h, size_t n, size_t i)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, r = l + 1;
        if (l < n && lighter(&h[l], &h[m]))
            m = l;
        if (r < n && lighter(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        shard_load t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Largest first into the lightest shard: a heap keeps it O(n log N). */
static ah_status assign(shard_ctx *c)
{
    if (!c->n) /* qsort must not see the NULL array */
        return AH_OK;
    size_t n = (size_t)c->count;
    shard_load *heap = malloc(n * sizeof *heap);
    if (!heap)
        return AH_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) /* equal loads in shard order: already a heap */
        heap[k] = (shard_load){0, (unsigned)k + 1};
    qsort(c->items, c->n, sizeof *c->items, by_size_then_name);
    for (size_t i = 0; i < c->n; i++) {
        c->items[i].shard = heap[0].shard;
        heap[0].bytes += c->items[i].size;
        sift_down(heap, n, 0);
    }
    free(heap);
    qsort(c->items, c->n, sizeof *c->items, by_shard_then_order);
    return AH_OK;
}

static int cmp_operands(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int run_shard(int argc, char **argv)
{
    shard_ctx c = {0};
    int status = 0;
    int first = ah_cli_parse(&cmd_shard, argc, argv, shard_opt, &c, &status);
    if (first < 0)
        return status;
    if (!c.count)
        return ah_cli_usage_error(&cmd_shard, "--count N is required");
    if (first >= argc)
        return ah_cli_usage_error(&cmd_shard, "no input given");
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "-") == 0)
            return ah_cli_usage_error(&cmd_shard, "standard input cannot be sharded: give files or directories");

    ah_diag diag = {.fn = ah_cli_diag_fn, .ud = &c.diag};
    ah_source *src = ah_source_new(&diag);
    size_t nops = (size_t)(argc - first);
    const char **ops = malloc(nops * sizeof *ops);
    if (!src || !ops) {
        ah_source_free(src);
        free(ops);
        ah_cli_errorf("out of memory");
        return AH_EXIT_PARTIAL;
    }
    /* operands in byte order, as a run takes them (ah_session_add_inputs) */
    memcpy(ops, argv + first, nops * sizeof *ops);
    qsort(ops, nops, sizeof *ops, cmp_operands);
    bool unreadable = false;
    ah_status st = AH_OK;
    for (size_t i = 0; i < nops && st != AH_ERR_NOMEM; i++)
        if ((st = ah_source_add(src, ops[i])) == AH_ERR_IO)
            unreadable = true;
    free(ops);
    if (st != AH_ERR_NOMEM)
        st = ah_source_list(src, c.by_member, collect, &c);
    for (size_t i = 0; i < ah_source_file_count(src); i++)
        unreadable |= ah_source_file_at(src, i)->unreadable;
    bool any_file = ah_source_file_count(src) > 0;
    ah_source_free(src);
    if (st == AH_OK && !fold_unprintable(&c, &st))
        unreadable = true;
    ah_cli_diag_finish(&c.diag);
    int rc = 0;
    if (st == AH_OK) {
        merge_same_names(&c);
        st = assign(&c);
    }
    if (st != AH_OK) {
        ah_cli_errorf("out of memory");
        rc = AH_EXIT_PARTIAL;
    } else {
        for (size_t i = 0; i < c.n; i++)
            printf("%u\t%llu\t%s\n", c.items[i].shard, (unsigned long long)c.items[i].size, c.items[i].name);
        rc = unreadable ? AH_EXIT_PARTIAL : !any_file || !c.n ? AH_EXIT_NOTHING_READ : 0;
    }
    for (size_t i = 0; i < c.n; i++)
        drop_item(&c.items[i]);
    free(c.items);
    return ah_cli_stdout_status(rc);
}
