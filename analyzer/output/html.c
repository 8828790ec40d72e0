/*
 * html.c: the HTML report (see html.h and docs/output.md "HTML report").
 *
 * Source order of the page: head, case header, story (streamed), then the
 * chart, pivots and correlation hits, which are known only at the end. The
 * stylesheet's flex `order` shows them in reading order: case, chart,
 * pivots, correlation hits, story. The page has no script at all; the raw
 * records open with <details>, the chart is inline SVG with <title>
 * tooltips, and the Content-Security-Policy allows nothing but the one
 * stylesheet, by its SHA-256.
 *
 * Size: one self-contained page (no script): the story, chart, pivots and
 * correlation section share the page writer and its escaping.
 */
#include "html.h"

#include "sink.h"
#include "topn.h"

#include "../../parsers/formats/timeparse.h"
#include "../../parsers/frame/jscan.h"
#include "../../parsers/util/sha256.h"
#include "../../parsers/util/utf8.h"
#include "../rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT ((size_t)64 * 1024)
#define ROW_LIMIT ((size_t)64 * 1024 * 1024)
#define CHART_SLOTS (2 * AH_HTML_CHART_KEYS) /* open addressing at most half full */
#define NLEVELS (AH_LEVEL_CRITICAL + 1)
#define TOPN_CAPACITY 512

static const char *const level_class[NLEVELS] = {"info", "low", "medium", "high", "critical"};

/* ---- the stylesheet -------------------------------------------------------- */

static const char STYLE[] =
    ":root{--crit:#b00020;--high:#d84315;--med:#b8860b;--low:#1565c0;--info:#607d8b;--ev:#78909c;"
    "--bg:#fff;--fg:#1b1b1b;--mute:#5f6368;--line:#dadce0;--pane:#f6f8fa}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.4 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,\"DejaVu Sans\",sans-serif}\n"
    "main{display:flex;flex-direction:column;max-width:1400px;margin:0 auto;padding:0 16px 32px}\n"
    "#case{order:1}#chart{order:2}#pivots{order:3}#correlation{order:4}#story{order:5}\n"
    "h1{font-size:22px;margin:16px 0 4px}h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid var(--line)}"
    "h3{font-size:15px;margin:16px 0 4px;position:sticky;top:0;background:var(--bg);padding:2px 0}\n"
    ".mute{color:var(--mute)}.mono,code,pre{font-family:ui-monospace,\"DejaVu Sans Mono\",Consolas,monospace;"
    "font-size:12px}\n"
    "table{border-collapse:collapse;margin:4px 0}td,th{border-bottom:1px solid var(--line);padding:2px 8px;"
    "text-align:left;vertical-align:top}th{background:var(--pane)}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}td time{white-space:nowrap}\n"
    ".warn{background:#fff4e5;border-left:4px solid var(--high);padding:4px 8px;margin:4px 0}\n"
    ".note{background:var(--pane);border-left:4px solid var(--low);padding:4px 8px;margin:8px 0}\n"
    ".sev{display:inline-block;min-width:56px;padding:0 4px;border-radius:3px;color:#fff;text-align:center;"
    "font-size:12px}\n"
    ".sev.critical{background:var(--crit)}.sev.high{background:var(--high)}.sev.medium{background:var(--med)}"
    ".sev.low{background:var(--low)}.sev.info{background:var(--info)}\n"
    "svg{width:100%;height:auto;background:var(--pane)}svg text{font-size:11px;fill:var(--mute)}"
    "svg .ev{fill:var(--ev)}svg .critical{fill:var(--crit)}svg .high{fill:var(--high)}svg .medium{fill:var(--med)}"
    "svg .low{fill:var(--low)}svg .info{fill:var(--info)}svg .tick{stroke:var(--line)}\n"
    ".pivots{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:8px 24px}"
    ".pivots td.v{overflow-wrap:anywhere}.pivots>div:last-child{grid-column:span 2}meter{width:80px}\n"
    "details.row{border-bottom:1px solid var(--line)}details.row>summary{display:grid;"
    "grid-template-columns:110px 70px minmax(120px,1.2fr) 130px minmax(140px,1.5fr) minmax(160px,2fr);gap:8px;"
    "padding:3px 4px;cursor:pointer;list-style:none}details.row>summary::-webkit-details-marker{display:none}"
    "details.row>summary>span{overflow-wrap:anywhere}details.row[open]>summary{background:var(--pane)}\n"
    "details.row.critical>summary{border-left:4px solid var(--crit)}details.row.high>summary{border-left:4px solid "
    "var(--high)}details.row.medium>summary{border-left:4px solid var(--med)}details.row.low>summary{border-left:4px "
    "solid var(--low)}details.row.info>summary{border-left:4px solid var(--info)}\n"
    "dl{display:grid;grid-template-columns:140px 1fr;gap:0 12px;margin:6px 8px}dt{color:var(--mute)}"
    "dd{margin:0;overflow-wrap:anywhere}\n"
    "pre{background:var(--pane);padding:8px;margin:4px 8px 8px;overflow:auto;max-height:480px;white-space:pre-wrap;"
    "overflow-wrap:anywhere}\n"
    "@media print{body{font-size:10pt}main{max-width:none;padding:0}h3{position:static}svg{background:none}"
    "#story{break-before:page}details.row{break-inside:avoid}details.row>summary{grid-template-columns:"
    "20% 9% 18% 14% 18% 21%}pre{max-height:none}.sev{color:#000;border:1px solid #000;background:none!important}"
    "a{color:inherit;text-decoration:none}}\n";

/* ---- the chart's buckets ----------------------------------------------------- */

typedef struct bucket {
    int64_t key; /* floor(hour / width) */
    bool used;
    uint64_t ev[AH_SOURCE_COUNT];
    uint64_t hit[NLEVELS];
} bucket;

/* Bucket widths in hours; each divides the next, so buckets merge cleanly. */
static int64_t width_hours(int i)
{
    static const int64_t first[] = {1, 2, 6, 12, 24, 168};
    if (i < 6)
        return first[i];
    return (int64_t)168 << (i - 5 > 40 ? 40 : i - 5);
}

typedef struct chart {
    bucket *slots;
    size_t nkeys;
    int widx;
    uint64_t no_time;
} chart;

static size_t slot_of(int64_t key) { return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 32) % CHART_SLOTS; }

static bucket *chart_find(chart *c, int64_t key, bool create)
{
    size_t i = slot_of(key);
    while (c->slots[i].used) {
        if (c->slots[i].key == key)
            return &c->slots[i];
        i = (i + 1) % CHART_SLOTS;
    }
    if (!create)
        return NULL;
    c->slots[i].used = true;
    c->slots[i].key = key;
    c->nkeys++;
    return &c->slots[i];
}

/* Too many distinct buckets: widen them until they fit (in place, through a copy). */
static bool chart_widen(chart *c)
{
    bucket *old = malloc(CHART_SLOTS * sizeof *old);
    if (!old)
        return false;
    do {
        memcpy(old, c->slots, CHART_SLOTS * sizeof *old);
        memset(c->slots, 0, CHART_SLOTS * sizeof *old);
        c->nkeys = 0;
        int64_t w0 = width_hours(c->widx), w1 = width_hours(c->widx + 1);
        c->widx++;
        for (size_t i = 0; i < CHART_SLOTS; i++) {
            if (!old[i].used)
                continue;
            bucket *b = chart_find(c, ah_floor_div(old[i].key * w0, w1), true);
            for (int k = 0; k < AH_SOURCE_COUNT; k++)
                b->ev[k] += old[i].ev[k];
            for (int k = 0; k < NLEVELS; k++)
                b->hit[k] += old[i].hit[k];
        }
    } while (c->nkeys >= AH_HTML_CHART_KEYS);
    free(old);
    return true;
}

static bucket *chart_bucket(chart *c, ah_time t)
{
    if (!c->slots)
        return NULL;
    int64_t hour = ah_floor_div(t.sec, 3600);
    int64_t key = ah_floor_div(hour, width_hours(c->widx));
    bucket *b = chart_find(c, key, false);
    if (b)
        return b;
    if (c->nkeys + 1 >= AH_HTML_CHART_KEYS) {
        if (!chart_widen(c))
            return NULL;
        key = ah_floor_div(hour, width_hours(c->widx));
        if ((b = chart_find(c, key, false)) != NULL)
            return b;
    }
    return chart_find(c, key, true);
}

/* ---- the writer ------------------------------------------------------------ */

struct ah_html {
    char *path, *timeline_path;
    bool force;
    struct ah_output_list *outputs;
    uint64_t story_max;
    ah_diag *diag;
    ah_sink *sink;
    ah_buf out;
    ah_buf scratch; /* a record pretty-printed, a value unescaped */
    ah_buf corr;    /* the correlation section's rows */
    ah_status failed;
    bool begun;
    bool day_open;
    int64_t day; /* of the open day section; INT64_MIN: rows without time */
    chart chart;
    ah_topn users, ips, apps, rules;
    uint64_t corr_rows, corr_omitted;
    uint64_t hit_rows, rows_by_level[NLEVELS];
    ah_html_stats stats;
};

ah_status ah_html_escape(ah_buf *out, ah_span s)
{
    ah_status st = AH_OK;
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0, run = 0; /* bytes [run, i) are copied as they are */
    while (i < s.n && st == AH_OK) {
        unsigned char c = p[i];
        const char *ent = NULL;
        char esc[16];
        size_t k = 1;
        if (c < 0x80) {
            switch (c) {
            case '&': ent = "&amp;"; break;
            case '<': ent = "&lt;"; break;
            case '>': ent = "&gt;"; break;
            case '"': ent = "&quot;"; break;
            case '\'': ent = "&#39;"; break;
            default:
                if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
                    snprintf(esc, sizeof esc, "\\x%02x", c);
                    ent = esc;
                }
            }
        } else {
            int len = ah_utf8_check(p + i, s.n - i);
            if (len <= 0) {
                snprintf(esc, sizeof esc, "\\x%02x", c);
                ent = esc;
            } else {
                uint32_t cp = len == 2 ? (uint32_t)(c & 0x1F) << 6 | (p[i + 1] & 0x3F)
                              : len == 3
                                  ? (uint32_t)(c & 0x0F) << 12 | (uint32_t)(p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F)
                                  : 0x10000;
                if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
                    snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
                    ent = esc;
                }
                k = (size_t)len;
            }
        }
        if (ent) {
            if (i > run)
                st = ah_buf_append(out, p + run, i - run);
            if (st == AH_OK)
                st = ah_buf_puts(out, ent);
            run = i + k;
        }
        i += k;
    }
    if (st == AH_OK && s.n > run)
        st = ah_buf_append(out, p + run, s.n - run);
    return st;
}

static ah_status esc(ah_html *h, ah_span s) { return ah_html_escape(&h->out, s); }
static ah_status escs(ah_html *h, const char *s) { return ah_html_escape(&h->out, ah_span_cstr(s ? s : "")); }
static ah_status put(ah_html *h, const char *s) { return ah_buf_puts(&h->out, s); }

static ah_status flush(ah_html *h)
{
    if (ah_buf_status(&h->out) != AH_OK)
        return AH_ERR_NOMEM; /* a piece lost bytes: no report rather than a cut one */
    if (h->out.len == 0)
        return AH_OK;
    ah_status st = ah_sink_write(h->sink, h->out.data, h->out.len);
    if (st == AH_OK)
        h->stats.bytes += h->out.len;
    ah_buf_reset(&h->out);
    return st;
}

static ah_status maybe_flush(ah_html *h)
{
    ah_status st = h->out.len >= FLUSH_AT ? flush(h) : AH_OK;
    if (st != AH_OK)
        h->failed = st;
    return st;
}

static void free_html(ah_html *h)
{
    ah_sink_free(h->sink);
    ah_buf_free(&h->out);
    ah_buf_free(&h->scratch);
    ah_buf_free(&h->corr);
    free(h->chart.slots);
    ah_topn_free(&h->users);
    ah_topn_free(&h->ips);
    ah_topn_free(&h->apps);
    ah_topn_free(&h->rules);
    free(h->path);
    free(h->timeline_path);
    free(h);
}

void ah_html_abort(ah_html *h)
{
    if (h)
        free_html(h);
}

ah_html *ah_html_open(const ah_html_options *opt, ah_diag *diag, ah_status *st)
{
    ah_status status = AH_OK;
    ah_html *h = NULL;
    if (!opt || !opt->path || !*opt->path || strcmp(opt->path, "-") == 0) {
        ah_diag_report(diag, AH_SEV_ERROR, NULL, "the HTML report needs a file name");
        status = AH_ERR_USAGE;
        goto out;
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    h->diag = diag;
    h->force = opt->force;
    h->story_max = opt->story_max_rows ? opt->story_max_rows : AH_HTML_STORY_MAX_ROWS;
    ah_buf_init(&h->out, ROW_LIMIT);
    ah_buf_init(&h->scratch, ROW_LIMIT);
    ah_buf_init(&h->corr, ROW_LIMIT);
    h->path = strdup(opt->path);
    h->timeline_path = opt->timeline_path && strcmp(opt->timeline_path, "-") != 0 ? strdup(opt->timeline_path) : NULL;
    h->chart.slots = calloc(CHART_SLOTS, sizeof *h->chart.slots);
    if (!h->path || (opt->timeline_path && strcmp(opt->timeline_path, "-") != 0 && !h->timeline_path) ||
        !h->chart.slots || ah_topn_init(&h->users, TOPN_CAPACITY) != AH_OK ||
        ah_topn_init(&h->ips, TOPN_CAPACITY) != AH_OK || ah_topn_init(&h->apps, TOPN_CAPACITY) != AH_OK ||
        ah_topn_init(&h->rules, TOPN_CAPACITY) != AH_OK) {
        status = AH_ERR_NOMEM;
        goto out;
    }
    h->outputs = opt->outputs;
    h->sink = ah_sink_open(h->path, h->force, diag, &status);
out:
    if (status == AH_OK && h && !h->sink)
        status = AH_ERR_IO;
    if (status != AH_OK) {
        ah_html_abort(h);
        h = NULL;
    }
    if (st)
        *st = status;
    return h;
}

void ah_html_count_event(ah_html *h, ah_source_kind source, bool has_time, ah_time t)
{
    if (!h)
        return;
    if (!has_time) {
        h->chart.no_time++;
        return;
    }
    bucket *b = chart_bucket(&h->chart, t);
    if (b)
        b->ev[(unsigned)source < AH_SOURCE_COUNT ? source : AH_SOURCE_UNKNOWN]++;
}

/* ---- small renderings -------------------------------------------------------- */

/* "2021-01-13 03:05:11 UTC" (seconds; the timeline has the full precision). */
static ah_status put_time(ah_html *h, ah_time t, bool with_date)
{
    int64_t days = ah_floor_div(t.sec, 86400), s = t.sec - days * 86400;
    int64_t y;
    unsigned m, d;
    ah_civil_from_days(days, &y, &m, &d);
    char iso[48];
    ah_time_format(t, iso);
    ah_status st = ah_buf_printf(&h->out, "<time datetime=\"%s\">", iso);
    if (st == AH_OK && with_date)
        st = ah_buf_printf(&h->out, "%04lld-%02u-%02u ", (long long)y, m, d);
    if (st == AH_OK)
        st = ah_buf_printf(&h->out, "%02d:%02d:%02d UTC</time>", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    return st;
}

static void base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

static const char *size_text(uint64_t n, char *buf, size_t size)
{
    if (n >= 1000000)
        snprintf(buf, size, "%.1f MB", n / 1e6);
    else if (n >= 1000)
        snprintf(buf, size, "%.1f kB", n / 1e3);
    else
        snprintf(buf, size, "%llu B", (unsigned long long)n);
    return buf;
}

/* ---- head and case header ------------------------------------------------------ */

ah_status ah_html_begin(ah_html *h, const ah_html_case *c)
{
    if (!h)
        return AH_ERR_USAGE;
    if (h->failed || h->begun)
        return h->failed ? h->failed : AH_ERR_USAGE;
    h->begun = true;
    uint8_t digest[32];
    char hash[64];
    ah_sha256 sha;
    ah_sha256_init(&sha);
    ah_sha256_update(&sha, STYLE, sizeof STYLE - 1);
    ah_sha256_final(&sha, digest);
    base64(digest, sizeof digest, hash);
    ah_status st = ah_buf_printf(&h->out,
                                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                                 "style-src 'sha256-%s'; img-src 'none'; script-src 'none'; base-uri 'none'; "
                                 "form-action 'none'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
                                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                                 "<title>audithound report</title>\n<style>",
                                 hash);
    if (st == AH_OK)
        st = ah_buf_append(&h->out, STYLE, sizeof STYLE - 1);
    if (st == AH_OK)
        st = put(h, "</style>\n</head>\n<body>\n<main>\n<section id=\"case\">\n<h1>audithound report</h1>\n<p "
                    "class=\"mute\" id=\"run\">");
    if (st == AH_OK)
        st = escs(h, c ? c->version : "audithound");
    if (c && c->started && st == AH_OK) {
        st = put(h, ", run started ");
        if (st == AH_OK)
            st = escs(h, c->started);
        if (st == AH_OK)
            st = put(h, " (UTC)");
    }
    if (st == AH_OK)
        st = put(h, "</p>\n");
    if (c && c->command_line && st == AH_OK) {
        st = put(h, "<p id=\"cmd\"><code>");
        if (st == AH_OK)
            st = escs(h, c->command_line);
        if (st == AH_OK)
            st = put(h, "</code></p>\n");
    }
    if (!c)
        goto done;
    /* counts */
    if (st == AH_OK)
        st = ah_buf_printf(&h->out,
                           "<p>%llu records read = %llu events + %llu duplicates + %llu errors; %zu rules loaded, %zu "
                           "active; <b>%llu rule hits</b>",
                           (unsigned long long)c->records, (unsigned long long)c->events,
                           (unsigned long long)c->duplicates, (unsigned long long)c->errors, c->rules_loaded,
                           c->rules_active, (unsigned long long)c->hits);
    for (int l = AH_LEVEL_CRITICAL; l >= AH_LEVEL_INFO && st == AH_OK; l--)
        if (c->hits_by_level[l])
            st = ah_buf_printf(&h->out, " <span class=\"sev %s\">%s %llu</span>", level_class[l], level_class[l],
                               (unsigned long long)c->hits_by_level[l]);
    if (st == AH_OK)
        st = put(h, "</p>\n");
    /* warnings: every line of the account, and the gaps */
    if (st == AH_OK && c->warnings && *c->warnings) {
        for (const char *p = c->warnings; *p && st == AH_OK;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            ah_span line = ah_span_trim(ah_span_make(p, n));
            if (line.n) {
                st = put(h, "<p class=\"warn\">");
                if (st == AH_OK)
                    st = esc(h, line);
                if (st == AH_OK)
                    st = put(h, "</p>\n");
            }
            p += n + (nl != NULL);
        }
    }
    /* time covered per source */
    if (st == AH_OK && c->ncoverage)
        st = put(h, "<h2>Time covered</h2>\n<table><tr><th>source</th><th>events</th><th>first (UTC)</th>"
                    "<th>last (UTC)</th><th>empty hours</th><th>gaps</th><th>longest gap (UTC)</th></tr>\n");
    for (size_t i = 0; i < c->ncoverage && st == AH_OK; i++) {
        const ah_html_coverage *v = &c->coverage[i];
        st = put(h, "<tr><td>");
        if (st == AH_OK)
            st = escs(h, v->source);
        if (st == AH_OK)
            st = ah_buf_printf(&h->out, "</td><td class=\"n\">%llu</td><td>", (unsigned long long)v->events);
        if (st == AH_OK)
            st = v->has_time ? put_time(h, v->first, true) : put(h, "-");
        if (st == AH_OK)
            st = put(h, "</td><td>");
        if (st == AH_OK)
            st = v->has_time ? put_time(h, v->last, true) : put(h, "-");
        if (st == AH_OK)
            st = ah_buf_printf(&h->out, "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td>",
                               (unsigned long long)v->empty_hours, (unsigned long long)v->gaps);
        if (st == AH_OK && v->longest_gap_hours) {
            st = ah_buf_printf(&h->out, "%llu h from ", (unsigned long long)v->longest_gap_hours);
            if (st == AH_OK)
                st = put_time(h, (ah_time){v->longest_gap_start, 0}, true);
        }
        if (st == AH_OK)
            st = put(h, "</td></tr>\n");
    }
    if (st == AH_OK && c->ncoverage)
        st = put(h, "</table>\n");
    /* inputs */
    if (st == AH_OK && c->ninputs)
        st = put(h, "<h2>Inputs</h2>\n<table><tr><th>file</th><th>size</th><th>SHA-256</th></tr>\n");
    for (size_t i = 0; i < c->ninputs && st == AH_OK; i++) {
        const ah_html_input *in = &c->inputs[i];
        char sz[32];
        st = put(h, "<tr><td class=\"mono\">");
        if (st == AH_OK)
            st = escs(h, in->path);
        if (st == AH_OK && in->unreadable)
            st = put(h, " <span class=\"sev high\">unreadable</span>");
        if (st == AH_OK)
            st = ah_buf_printf(&h->out, "</td><td class=\"n\">%s</td><td class=\"mono\">",
                               size_text(in->size, sz, sizeof sz));
        if (st == AH_OK)
            st = in->sha256 && *in->sha256 ? escs(h, in->sha256) : put(h, "(not read to its end)");
        if (st == AH_OK)
            st = put(h, "</td></tr>\n");
    }
    if (st == AH_OK && c->ninputs)
        st = put(h, "</table>\n");
done:
    if (st == AH_OK)
        st = put(h, "</section>\n<section id=\"story\">\n<h2>Story: rule hits in time order</h2>\n"
                    "<p class=\"mute\">One line per timeline row that rules hit (twins joined); open a line for every "
                    "field and the record as read. Times are UTC.</p>\n");
    if (st == AH_OK)
        st = flush(h);
    if (st != AH_OK)
        h->failed = st;
    return st;
}

/* ---- the story ------------------------------------------------------------- */

/* Two spaces a level, up to 32 levels: deep nesting must not cost a line of megabytes. */
static int indent(int depth) { return depth < 0 ? 0 : depth > 32 ? 64 : depth * 2; }

/* The record as read, indented for reading (valid JSON only; else as is),
 * into h->scratch, cut at AH_HTML_RAW_MAX. Returns true when it was cut. */
static bool pretty_record(ah_html *h, ah_span raw)
{
    ah_buf *b = &h->scratch;
    ah_buf_reset(b);
    raw = ah_span_trim(raw);
    if (!ah_json_valid(raw)) {
        size_t n = raw.n <= AH_HTML_RAW_MAX ? raw.n : ah_utf8_cut(raw.p, AH_HTML_RAW_MAX);
        ah_buf_append(b, raw.p, n);
        return n < raw.n;
    }
    int depth = 0;
    bool in_str = false, escaped = false;
    for (size_t i = 0; i < raw.n; i++) {
        char ch = raw.p[i];
        if (b->len >= AH_HTML_RAW_MAX) {
            ah_buf_truncate(b, ah_utf8_cut(b->data, AH_HTML_RAW_MAX));
            return true;
        }
        if (in_str) {
            ah_buf_putc(b, ch);
            if (escaped)
                escaped = false;
            else if (ch == '\\')
                escaped = true;
            else if (ch == '"')
                in_str = false;
            continue;
        }
        switch (ch) {
        case ' ':
        case '\t':
        case '\r':
        case '\n': break;
        case '"':
            in_str = true;
            ah_buf_putc(b, ch);
            break;
        case '{':
        case '[': {
            /* keep empty containers on one line */
            size_t j = i + 1;
            while (j < raw.n && (raw.p[j] == ' ' || raw.p[j] == '\t' || raw.p[j] == '\r' || raw.p[j] == '\n'))
                j++;
            if (j < raw.n && (raw.p[j] == '}' || raw.p[j] == ']')) {
                ah_buf_putc(b, ch);
                ah_buf_putc(b, raw.p[j]);
                i = j;
                break;
            }
            ah_buf_putc(b, ch);
            depth++;
            ah_buf_printf(b, "\n%*s", indent(depth), "");
            break;
        }
        case '}':
        case ']':
            depth--;
            ah_buf_printf(b, "\n%*s%c", indent(depth), "", ch);
            break;
        case ',': ah_buf_printf(b, ",\n%*s", indent(depth), ""); break;
        case ':': ah_buf_puts(b, ": "); break;
        default: ah_buf_putc(b, ch);
        }
    }
    return false;
}

static ah_status put_field(ah_html *h, const char *name, ah_span v)
{
    if (!v.p || !v.n)
        return AH_OK;
    ah_status st = ah_buf_printf(&h->out, "<dt>%s</dt><dd>", name);
    if (st == AH_OK)
        st = esc(h, v);
    return st == AH_OK ? put(h, "</dd>") : st;
}

static ah_status put_record(ah_html *h, const char *label, ah_span raw)
{
    if (!raw.p || !raw.n)
        return AH_OK;
    bool cut = pretty_record(h, raw);
    h->stats.raw_cut += cut;
    ah_status st = ah_buf_status(&h->scratch); /* the record as shown lost bytes: not shown */
    if (st == AH_OK)
        st = ah_buf_printf(&h->out, "<div class=\"mute\">%s</div><pre>", label);
    if (st == AH_OK)
        st = esc(h, ah_buf_span(&h->scratch));
    if (st == AH_OK && cut)
        st = ah_buf_printf(&h->out, "\n[cut at %zu bytes: the JSON timeline has the whole record]", AH_HTML_RAW_MAX);
    return st == AH_OK ? put(h, "</pre>") : st;
}

static const char *row_level_class(const ah_row *row)
{
    return row->level >= 0 && row->level < NLEVELS ? level_class[row->level] : "info";
}

/* The rule titles of a row: from rule_info when the engine filled it, else the rule_title column. */
static ah_status put_rule_titles(ah_html *h, const ah_row *row)
{
    if (!row->nrule_info)
        return esc(h, row->col[AH_COL_RULE_TITLE]);
    ah_status st = AH_OK;
    for (size_t i = 0; i < row->nrule_info && st == AH_OK; i++) {
        const ah_row_rule *r = &row->rule_info[i];
        if (i)
            st = put(h, "; ");
        if (st == AH_OK)
            st = escs(h, r->title);
        if (st == AH_OK && r->routine)
            st = put(h, " <span class=\"mute\">(routine)</span>");
    }
    return st;
}

static ah_status story_row(ah_html *h, const ah_row *row)
{
    ah_status st = AH_OK;
    int64_t day = row->has_time ? ah_floor_div(row->time.sec, 86400) : INT64_MIN;
    if (!h->day_open || day != h->day) {
        if (h->day_open)
            st = put(h, "</section>\n");
        h->day_open = true;
        h->day = day;
        if (st == AH_OK && day == INT64_MIN) {
            st = put(h, "<section class=\"day\"><h3>Without a time</h3>\n");
        } else if (st == AH_OK) {
            int64_t y;
            unsigned m, d;
            ah_civil_from_days(day, &y, &m, &d);
            static const char *const wd[] = {"Thursday", "Friday",  "Saturday", "Sunday",
                                             "Monday",   "Tuesday", "Wednesday"};
            st = ah_buf_printf(&h->out, "<section class=\"day\"><h3>%s %04lld-%02u-%02u (UTC)</h3>\n",
                               wd[((day % 7) + 7) % 7], (long long)y, m, d);
        }
    }
    const ah_span *col = row->col;
    const char *lvl = row_level_class(row);
    if (st == AH_OK)
        st = ah_buf_printf(&h->out, "<details class=\"row %s\"><summary><span>", lvl);
    if (st == AH_OK)
        st = row->has_time ? put_time(h, row->time, false) : put(h, "-");
    if (st == AH_OK)
        st = ah_buf_printf(&h->out, "</span><span><span class=\"sev %s\">%s</span></span><span>", lvl, lvl);
    ah_span who = col[AH_COL_USER].n ? col[AH_COL_USER] : col[AH_COL_APP];
    if (st == AH_OK)
        st = who.n ? esc(h, who) : put(h, "-");
    if (st == AH_OK)
        st = put(h, "</span><span class=\"mono\">");
    if (st == AH_OK)
        st = col[AH_COL_IP].n ? esc(h, col[AH_COL_IP]) : put(h, "-");
    if (st == AH_OK)
        st = put(h, "</span><span>");
    if (st == AH_OK)
        st = esc(h, col[AH_COL_OPERATION]);
    if (st == AH_OK && col[AH_COL_TARGET].n) {
        st = put(h, " &rarr; ");
        if (st == AH_OK)
            st = esc(h, col[AH_COL_TARGET]);
    }
    if (st == AH_OK)
        st = put(h, "</span><span>");
    if (st == AH_OK)
        st = put_rule_titles(h, row);
    if (st == AH_OK)
        st = put(h, "</span></summary>\n<dl>");
    if (st == AH_OK && row->has_time) {
        char t[40];
        ah_time_format(row->time, t);
        st = put_field(h, "time (UTC)", ah_span_cstr(t));
    }
    static const ah_col_id shown[] = {AH_COL_RULE_ID, AH_COL_TAGS,   AH_COL_SOURCE,    AH_COL_OPERATION,
                                      AH_COL_USER,    AH_COL_IP,     AH_COL_APP,       AH_COL_USER_AGENT,
                                      AH_COL_RESULT,  AH_COL_TARGET, AH_COL_DETAILS,   AH_COL_RECORD_ID,
                                      AH_COL_INPUT,   AH_COL_APP_ID, AH_COL_TARGET_ID, AH_COL_RELATED_IDS};
    for (size_t i = 0; i < sizeof shown / sizeof *shown && st == AH_OK; i++)
        st = put_field(h, ah_col_name(shown[i]), col[shown[i]]);
    if (st == AH_OK && row->input_record) {
        char n[32];
        snprintf(n, sizeof n, "%llu", (unsigned long long)row->input_record);
        st = put_field(h, "input_record", ah_span_cstr(n));
    }
    if (st == AH_OK)
        st = put(h, "</dl>");
    if (st == AH_OK)
        st = put_record(h, row->kind == AH_ROW_CORRELATION ? "correlation" : "record as read", row->raw);
    if (st == AH_OK)
        st = put_record(h, "the joined twin's record", row->related_raw);
    if (st == AH_OK)
        st = put(h, "</details>\n");
    return st;
}

/* One correlation hit with its whole extent, into h->corr. */
static ah_status corr_row(ah_html *h, const ah_row *row)
{
    if (h->corr_rows >= AH_HTML_CORRELATION_MAX) {
        h->corr_omitted++;
        return AH_OK;
    }
    h->corr_rows++;
    /* Render through h->out's helpers: swap the buffers for the duration. */
    ah_buf saved = h->out;
    h->out = h->corr;
    ah_span c = AH_SPAN_NULL, v;
    if (row->raw.p)
        ah_json_get(row->raw, "correlation", &c);
    const char *lvl = row_level_class(row);
    ah_status st = ah_buf_printf(&h->out, "<tr><td><span class=\"sev %s\">%s</span></td><td>", lvl, lvl);
    if (st == AH_OK)
        st = put_rule_titles(h, row);
    if (st == AH_OK)
        st = put(h, "<br><code>");
    if (st == AH_OK)
        st = esc(h, row->col[AH_COL_RULE_ID]);
    if (st == AH_OK)
        st = put(h, "</code></td><td>");
    /* extent: first_time .. last_time of the raw correlation object */
    const char *ends[2] = {"first_time", "last_time"};
    for (int e = 0; e < 2 && st == AH_OK; e++) {
        ah_time_parse tp;
        ah_buf_reset(&h->scratch);
        if (c.p && ah_json_get(c, ends[e], &v) && ah_json_scalar_text(v, &h->scratch) &&
            ah_time_parse_str(ah_buf_span(&h->scratch), AH_DATE_ORDER_AUTO, &tp) == AH_OK)
            st = put_time(h, tp.time, true);
        else if (e == 0 && row->has_time)
            st = put_time(h, row->time, true);
        else
            st = put(h, "-");
        if (st == AH_OK && e == 0)
            st = put(h, " &ndash;<br>");
    }
    if (st == AH_OK)
        st = put(h, "</td><td class=\"n\">");
    ah_buf_reset(&h->scratch);
    if (st == AH_OK && c.p && ah_json_get(c, "count", &v) && ah_json_scalar_text(v, &h->scratch))
        st = esc(h, ah_buf_span(&h->scratch));
    if (st == AH_OK)
        st = put(h, "</td><td>");
    ah_buf_reset(&h->scratch);
    if (st == AH_OK && c.p && ah_json_get(c, "group", &v) && ah_json_scalar_text(v, &h->scratch))
        st = esc(h, ah_buf_span(&h->scratch));
    if (st == AH_OK)
        st = put(h, "</td><td>");
    if (st == AH_OK)
        st = esc(h, row->col[AH_COL_DETAILS]);
    if (st == AH_OK)
        st = put(h, "</td></tr>\n");
    h->corr = h->out;
    h->out = saved;
    if (st != AH_OK) /* a row past the buffer limit: dropped, counted */
        h->corr_omitted++;
    return st == AH_ERR_NOMEM ? st : AH_OK;
}

static void count_pivots(ah_html *h, const ah_row *row)
{
    ah_topn_add(&h->users, row->col[AH_COL_USER], 1, 0);
    ah_topn_add(&h->ips, row->col[AH_COL_IP], 1, 0);
    ah_topn_add(&h->apps, row->col[AH_COL_APP], 1, 0);
    for (size_t i = 0; i < row->nrule_info; i++) {
        const ah_row_rule *r = &row->rule_info[i];
        char key[AH_TOPN_VALUE_MAX];
        /* id, unit separator, title: one key, split again for display */
        int n = snprintf(key, sizeof key, "%s\x1f%s", r->id ? r->id : "", r->title ? r->title : "");
        size_t len = n < 0 ? 0 : (size_t)n < sizeof key ? (size_t)n : ah_utf8_cut(key, sizeof key - 1);
        ah_level l = AH_LEVEL_INFO;
        ah_level_from_name(ah_span_cstr(r->severity ? r->severity : "info"), &l);
        ah_topn_add(&h->rules, ah_span_make(key, len), 1, (int)l);
    }
}

ah_status ah_html_write(ah_html *h, const ah_row *row)
{
    if (!h || !row)
        return AH_ERR_USAGE;
    if (h->failed)
        return h->failed;
    if (!h->begun && ah_html_begin(h, NULL) != AH_OK)
        return h->failed;
    h->stats.rows++;
    if (row->level < 0)
        return AH_OK; /* an event no rule hit (--all): in the chart's event lanes already */
    h->hit_rows++;
    h->rows_by_level[row->level < NLEVELS ? row->level : AH_LEVEL_CRITICAL]++;
    if (row->has_time) {
        bucket *b = chart_bucket(&h->chart, row->time);
        if (b)
            b->hit[row->level < NLEVELS ? row->level : AH_LEVEL_CRITICAL]++;
    }
    count_pivots(h, row);
    ah_status st = AH_OK;
    if (row->kind == AH_ROW_CORRELATION && (st = corr_row(h, row)) != AH_OK) {
        h->failed = st;
        return st;
    }
    if (h->stats.story_rows >= h->story_max || h->stats.bytes + h->out.len >= AH_HTML_STORY_MAX_BYTES) {
        h->stats.story_omitted++;
        return AH_OK;
    }
    size_t mark = h->out.len;
    st = story_row(h, row);
    if (st != AH_OK) {
        ah_buf_truncate(&h->out, mark);
        ah_where where = {.path = h->path, .record_no = row->input_record};
        ah_diag_report(h->diag, AH_SEV_ERROR, &where, "report row not written: %s", ah_status_str(st));
        return st == AH_ERR_NOMEM ? (h->failed = st) : AH_ERR_RECORD;
    }
    h->stats.story_rows++;
    return maybe_flush(h);
}

/* ---- the end: chart, pivots, correlation hits --------------------------------- */

static int by_key(const void *a, const void *b)
{
    int64_t x = ((const bucket *)a)->key, y = ((const bucket *)b)->key;
    return x < y ? -1 : x > y;
}

static ah_status put_hour_label(ah_html *h, int64_t hour, bool with_hour)
{
    int64_t days = ah_floor_div(hour, 24);
    int64_t y;
    unsigned m, d;
    ah_civil_from_days(days, &y, &m, &d);
    if (with_hour)
        return ah_buf_printf(&h->out, "%04lld-%02u-%02u %02d:00", (long long)y, m, d, (int)(hour - days * 24));
    return ah_buf_printf(&h->out, "%04lld-%02u-%02u", (long long)y, m, d);
}

static ah_status write_chart(ah_html *h)
{
    chart *c = &h->chart;
    ah_status st = put(h, "<section id=\"chart\">\n<h2>Timeline</h2>\n");
    size_t n = 0;
    bucket *list = c->nkeys ? malloc(c->nkeys * sizeof *list) : NULL;
    if (c->nkeys && !list)
        return AH_ERR_NOMEM;
    for (size_t i = 0; i < CHART_SLOTS && list; i++)
        if (c->slots[i].used)
            list[n++] = c->slots[i];
    if (n == 0) {
        free(list);
        if (st == AH_OK)
            st = put(h, "<p class=\"mute\">No event with a time.</p>\n");
        return st == AH_OK ? put(h, "</section>\n") : st;
    }
    qsort(list, n, sizeof *list, by_key);
    int64_t w = width_hours(c->widx);
    int64_t first_hour = list[0].key * w, last_hour = list[n - 1].key * w + w - 1;
    int widx = c->widx;
    while (ah_floor_div(last_hour, width_hours(widx)) - ah_floor_div(first_hour, width_hours(widx)) + 1 >
           (int64_t)AH_HTML_CHART_COLUMNS)
        widx++;
    int64_t cw = width_hours(widx), col0 = ah_floor_div(first_hour, cw);
    size_t ncols = (size_t)(ah_floor_div(last_hour, cw) - col0 + 1);
    bucket *cols = calloc(ncols, sizeof *cols);
    if (!cols) {
        free(list);
        return AH_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        bucket *b = &cols[ah_floor_div(list[i].key * w, cw) - col0];
        for (int k = 0; k < AH_SOURCE_COUNT; k++)
            b->ev[k] += list[i].ev[k];
        for (int k = 0; k < NLEVELS; k++)
            b->hit[k] += list[i].hit[k];
    }
    free(list);
    h->stats.chart_hours = (uint64_t)cw;
    /* lanes: each source with events, then the hits stacked by severity */
    static const ah_source_kind order[] = {AH_SOURCE_UAL, AH_SOURCE_SIGNIN, AH_SOURCE_ENTRA_AUDIT, AH_SOURCE_UNKNOWN};
    uint64_t lane_max[5] = {0};
    int nlanes = 0;
    bool lane_on[4] = {false};
    for (size_t i = 0; i < ncols; i++) {
        uint64_t hits = 0;
        for (int k = 0; k < 4; k++)
            if (cols[i].ev[order[k]] > lane_max[k])
                lane_max[k] = cols[i].ev[order[k]];
        for (int l = 0; l < NLEVELS; l++)
            hits += cols[i].hit[l];
        if (hits > lane_max[4])
            lane_max[4] = hits;
    }
    for (int k = 0; k < 4; k++)
        if ((lane_on[k] = lane_max[k] > 0))
            nlanes++;
    nlanes++;
    const double left = 110, plot = 1000, lane_h = 46, gap = 10, top = 6;
    double colw = plot / (double)ncols, height = top + nlanes * (lane_h + gap) + 28;
    if (st == AH_OK)
        st = ah_buf_printf(
            &h->out,
            "<p class=\"mute\">Events per %lld hour%s per source, and rule hits (timeline rows) by "
            "severity; times UTC. Hover a bar for its counts.%s</p>\n"
            "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"events and hits over time (UTC)\">\n",
            (long long)cw, cw == 1 ? "" : "s", c->no_time ? " Events without a time are not shown." : "",
            left + plot + 10, height);
    double y0 = top;
    for (int k = 0; k < 5 && st == AH_OK; k++) {
        if (k < 4 && !lane_on[k])
            continue;
        const char *name = k < 4 ? ah_source_name(order[k]) : "rule hits";
        st = ah_buf_printf(&h->out, "<text x=\"4\" y=\"%.1f\">%s</text><text x=\"4\" y=\"%.1f\">max %llu</text>\n",
                           y0 + 18, name, y0 + 32, (unsigned long long)lane_max[k]);
        for (size_t i = 0; i < ncols && st == AH_OK; i++) {
            double x = left + (double)i * colw, bw = colw > 2 ? colw * 0.85 : colw;
            int64_t hour = (col0 + (int64_t)i) * cw;
            if (k < 4) {
                uint64_t v = cols[i].ev[order[k]];
                if (!v)
                    continue;
                double bh = lane_h * (double)v / (double)lane_max[k];
                if (bh < 1)
                    bh = 1;
                st = ah_buf_printf(&h->out,
                                   "<rect class=\"ev\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"><title>", x,
                                   y0 + lane_h - bh, bw, bh);
                if (st == AH_OK)
                    st = put_hour_label(h, hour, true);
                if (st == AH_OK)
                    st = ah_buf_printf(&h->out, " UTC, %lld h: %llu %s events</title></rect>\n", (long long)cw,
                                       (unsigned long long)v, name);
                continue;
            }
            double yb = y0 + lane_h;
            for (int l = AH_LEVEL_INFO; l <= AH_LEVEL_CRITICAL && st == AH_OK; l++) {
                uint64_t v = cols[i].hit[l];
                if (!v)
                    continue;
                double bh = lane_h * (double)v / (double)lane_max[4];
                if (bh < 1.5)
                    bh = 1.5;
                yb -= bh;
                st = ah_buf_printf(&h->out,
                                   "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"><title>",
                                   level_class[l], x, yb, bw, bh);
                if (st == AH_OK)
                    st = put_hour_label(h, hour, true);
                if (st == AH_OK)
                    st = ah_buf_printf(&h->out, " UTC, %lld h: %llu %s</title></rect>\n", (long long)cw,
                                       (unsigned long long)v, level_class[l]);
            }
        }
        y0 += lane_h + gap;
    }
    /* time axis: ticks on bucket boundaries, about ten labels, UTC */
    int64_t span = (int64_t)ncols * cw, step = cw;
    static const int64_t steps[] = {1, 2, 3, 6, 12, 24, 48, 168, 336, 672, 1344, 2688, 5376, 8760};
    for (size_t i = 0; i < sizeof steps / sizeof *steps && (steps[i] < cw || span / steps[i] > 10); i++)
        step = steps[i] > cw ? steps[i] : cw;
    while (span / step > 10)
        step *= 2;
    for (int64_t hour = ah_floor_div(col0 * cw + step - 1, step) * step;
         hour < (col0 + (int64_t)ncols) * cw && st == AH_OK; hour += step) {
        double x = left + (double)(hour - col0 * cw) / (double)cw * colw;
        if (x > left + plot - 90) /* no room for the label before the right edge */
            break;
        st = ah_buf_printf(&h->out,
                           "<line class=\"tick\" x1=\"%.2f\" y1=\"%.0f\" x2=\"%.2f\" y2=\"%.2f\"/>"
                           "<text x=\"%.2f\" y=\"%.2f\">",
                           x, top, x, y0, x + 2, y0 + 14);
        if (st == AH_OK)
            st = put_hour_label(h, hour, step < 24 || hour % 24 != 0);
        if (st == AH_OK)
            st = put(h, "</text>\n");
    }
    if (st == AH_OK)
        st = ah_buf_printf(&h->out, "<text x=\"%.0f\" y=\"%.2f\">UTC</text>\n</svg>\n</section>\n", left + plot - 30,
                           y0 + 26);
    free(cols);
    return st;
}

static ah_status pivot_table(ah_html *h, const char *title, ah_topn *t, bool rules)
{
    const ah_topn_entry *top[AH_HTML_TOP];
    size_t n = ah_topn_top(t, top, AH_HTML_TOP);
    ah_status st = ah_buf_printf(&h->out, "<div><h3>%s</h3>", title);
    if (st == AH_OK && n == 0)
        return put(h, "<p class=\"mute\">none</p></div>\n");
    if (st == AH_OK)
        st =
            ah_buf_printf(&h->out, "<table><tr><th>%s</th><th>hit rows</th><th></th></tr>\n", rules ? "rule" : "value");
    for (size_t i = 0; i < n && st == AH_OK; i++) {
        ah_span v = ah_span_make(top[i]->value, top[i]->n);
        st = put(h, "<tr><td class=\"v\">");
        if (st == AH_OK && rules) {
            const char *sep = memchr(v.p, '\x1f', v.n);
            size_t idn = sep ? (size_t)(sep - v.p) : v.n;
            int l = top[i]->extra >= 0 && top[i]->extra < NLEVELS ? top[i]->extra : 0;
            st = ah_buf_printf(&h->out, "<span class=\"sev %s\">%s</span> ", level_class[l], level_class[l]);
            if (st == AH_OK)
                st = esc(h, sep ? ah_span_make(sep + 1, v.n - idn - 1) : v);
            if (st == AH_OK)
                st = put(h, "<br><code>");
            if (st == AH_OK)
                st = esc(h, ah_span_make(v.p, idn));
            if (st == AH_OK)
                st = put(h, "</code>");
        } else if (st == AH_OK) {
            st = esc(h, v);
        }
        if (st == AH_OK)
            st = ah_buf_printf(&h->out,
                               "</td><td class=\"n\">%s%llu</td><td><meter min=\"0\" max=\"%llu\" value=\"%llu\">"
                               "</meter></td></tr>\n",
                               ah_topn_exact(t) ? "" : "&le; ", (unsigned long long)top[i]->count,
                               (unsigned long long)top[0]->count, (unsigned long long)top[i]->count);
    }
    if (st == AH_OK)
        st = put(h, "</table></div>\n");
    return st;
}

static ah_status write_pivots(ah_html *h)
{
    ah_status st = put(h, "<section id=\"pivots\">\n<h2>Pivots</h2>\n");
    if (st == AH_OK)
        st = ah_buf_printf(&h->out,
                           "<p class=\"mute\">Over all %llu hit rows (the story may show fewer).%s</p>\n"
                           "<div class=\"pivots\">\n",
                           (unsigned long long)h->hit_rows,
                           ah_topn_exact(&h->users) && ah_topn_exact(&h->ips) && ah_topn_exact(&h->apps) &&
                                   ah_topn_exact(&h->rules)
                               ? ""
                               : " Counts marked &le; are upper bounds: more distinct values were seen than are kept.");
    if (st == AH_OK)
        st = pivot_table(h, "Top users", &h->users, false);
    if (st == AH_OK)
        st = pivot_table(h, "Top addresses", &h->ips, false);
    if (st == AH_OK)
        st = pivot_table(h, "Top applications", &h->apps, false);
    if (st == AH_OK)
        st = pivot_table(h, "Top rules", &h->rules, true);
    return st == AH_OK ? put(h, "</div>\n</section>\n") : st;
}

static ah_status write_correlation(ah_html *h)
{
    ah_status st = put(h, "<section id=\"correlation\">\n<h2>Correlation hits</h2>\n");
    if (st == AH_OK && h->corr_rows == 0)
        return put(h, "<p class=\"mute\">No correlation rule hit.</p>\n</section>\n");
    if (st == AH_OK)
        st = put(h, "<p class=\"mute\">Each hit with its whole extent: from its first to its last contributing "
                    "event (UTC).</p>\n<table><tr><th>severity</th><th>rule</th><th>from &ndash; to (UTC)</th>"
                    "<th>events</th><th>group</th><th>details</th></tr>\n");
    if (st == AH_OK)
        st = flush(h);
    if (st == AH_OK)
        st = ah_buf_status(&h->corr);
    if (st == AH_OK)
        st = ah_sink_write(h->sink, h->corr.data, h->corr.len);
    if (st == AH_OK)
        h->stats.bytes += h->corr.len;
    if (st == AH_OK)
        st = put(h, "</table>\n");
    if (st == AH_OK && h->corr_omitted)
        st = ah_buf_printf(&h->out,
                           "<p class=\"note\">%llu more correlation hits are in the timeline (this list "
                           "stops at %u).</p>\n",
                           (unsigned long long)h->corr_omitted, AH_HTML_CORRELATION_MAX);
    return st == AH_OK ? put(h, "</section>\n") : st;
}

ah_status ah_html_close(ah_html *h, ah_html_stats *stats)
{
    if (!h)
        return AH_OK;
    ah_status st = h->failed;
    if (st == AH_OK && !h->begun)
        st = ah_html_begin(h, NULL);
    if (st == AH_OK && h->day_open)
        st = put(h, "</section>\n");
    if (st == AH_OK && h->stats.story_rows == 0)
        st = put(h, "<p class=\"mute\">No rule hit.</p>\n");
    if (st == AH_OK && h->stats.story_omitted) {
        st = ah_buf_printf(
            &h->out,
            "<p class=\"note\">The story stops after %llu rows (it is limited in rows and bytes); %llu more hit "
            "rows are in the full "
            "timeline",
            (unsigned long long)h->stats.story_rows, (unsigned long long)h->stats.story_omitted);
        if (st == AH_OK && h->timeline_path) {
            st = put(h, ", <code>");
            if (st == AH_OK)
                st = escs(h, h->timeline_path);
            if (st == AH_OK)
                st = put(h, "</code>");
        }
        if (st == AH_OK)
            st = put(h, ".</p>\n");
    }
    if (st == AH_OK)
        st = put(h, "</section>\n");
    if (st == AH_OK)
        st = write_chart(h);
    if (st == AH_OK)
        st = write_pivots(h);
    if (st == AH_OK)
        st = write_correlation(h);
    if (st == AH_OK)
        st = put(h, "</main>\n</body>\n</html>\n");
    if (st == AH_OK)
        st = flush(h);
    if (st == AH_OK) /* listed first: a failure after the commit would leave the file of a failed run */
        st = ah_output_list_add(h->outputs, h->sink);
    if (st == AH_OK)
        st = ah_sink_commit(h->sink);
    if (stats)
        *stats = h->stats;
    free_html(h);
    return st;
}
