/*
 * ops.c: the operator table (ops.def) as data, and the operator lists the
 * messages quote, generated from it so that they name every operator. A
 * leaf: the parser, the compiler, explain and the tests read it.
 */
#include "rules_private.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const ahi_opinfo ahi_ops[AHI_OP_COUNT] = {
#define AHI_OP(id, spelling_, negated_, arg_, on_, cased_, eval, sigma_, cut_)                                         \
    [AHI_OP_##id] = {.spelling = spelling_,                                                                            \
                     .negated = negated_,                                                                              \
                     .arg = arg_,                                                                                      \
                     .on = on_,                                                                                        \
                     .cased = cased_,                                                                                  \
                     .sigma = sigma_,                                                                                  \
                     .cut = cut_},
#include "ops.def"
#undef AHI_OP
};

static bool worded(const char *s) { return s && isalpha((unsigned char)s[0]); }

static size_t first_word_len(const char *s)
{
    const char *sp = strchr(s, ' ');
    return sp ? (size_t)(sp - s) : strlen(s);
}

/* An item list being written: "a, b, c" or "a, b and c". */
typedef struct oplist {
    const char *items[2 * AHI_OP_COUNT];
    size_t len[2 * AHI_OP_COUNT];
    const char *suffix[2 * AHI_OP_COUNT];
    size_t n;
} oplist;

static void add(oplist *l, const char *s, size_t n, const char *suffix)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->len[i] == n && memcmp(l->items[i], s, n) == 0)
            return; /* "in" and "in cidr" are listed once */
    l->items[l->n] = s;
    l->len[l->n] = n;
    l->suffix[l->n] = suffix;
    l->n++;
}

/* The operators that apply to an operand kind (ON bit), as written with
 * their value: "==, != and in [...]". */
static void applying(oplist *l, unsigned on)
{
    for (int op = 0; op < AHI_OP_COUNT; op++) {
        const ahi_opinfo *o = &ahi_ops[op];
        if (!(o->on & on))
            continue;
        add(l, o->spelling, strlen(o->spelling), o->arg == AHI_ARG_LIST ? " [...]" : "");
        if (o->negated && !worded(o->negated))
            add(l, o->negated, strlen(o->negated), "");
    }
}

const char *ahi_oplist_text(ahi_oplist which, char *buf, size_t size)
{
    oplist l = {.n = 0};
    const char *last_sep = ", ";
    switch (which) {
    case AHI_OPLIST_ALL:
        /* the symbols and their negations, then each first word once */
        for (int op = 0; op < AHI_OP_COUNT; op++)
            if (!worded(ahi_ops[op].spelling)) {
                add(&l, ahi_ops[op].spelling, strlen(ahi_ops[op].spelling), "");
                if (ahi_ops[op].negated && !worded(ahi_ops[op].negated))
                    add(&l, ahi_ops[op].negated, strlen(ahi_ops[op].negated), "");
            }
        for (int op = 0; op < AHI_OP_COUNT; op++) {
            const char *s = ahi_ops[op].spelling;
            if (!worded(s))
                continue;
            bool seen = false;
            for (int k = 0; k < op; k++)
                seen |= worded(ahi_ops[k].spelling) && first_word_len(ahi_ops[k].spelling) == first_word_len(s) &&
                        memcmp(ahi_ops[k].spelling, s, first_word_len(s)) == 0;
            if (!seen)
                add(&l, s, strlen(s), "");
        }
        break;
    case AHI_OPLIST_NOT:
        for (int op = 0; op < AHI_OP_COUNT; op++) {
            const char *ng = ahi_ops[op].negated;
            if (ng && strncmp(ng, "not ", 4) == 0)
                add(&l, ng + 4, first_word_len(ng + 4), "");
        }
        last_sep = " or ";
        break;
    case AHI_OPLIST_TIME:
        applying(&l, AHI_ON_TIME);
        last_sep = " and ";
        break;
    case AHI_OPLIST_ENUM:
        applying(&l, AHI_ON_ENUM);
        last_sep = " and ";
        break;
    }
    size_t o = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < l.n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == l.n ? last_sep : ", ";
        int w = snprintf(buf + o, size - o, "%s%.*s%s", sep, (int)l.len[i], l.items[i], l.suffix[i]);
        if (w < 0 || (size_t)w >= size - o)
            break;
        o += (size_t)w;
    }
    return buf;
}
