/*
 * test_rules_lexer.c: tokens and spans in each lexer mode, string escapes
 * and triple-quoted text, regex literals, inline JSON, and lexical errors
 * with their exact positions.
 */
#include "test_rules_util.h"

#include "analyzer/rules/rules_private.h"

typedef struct lexfix {
    ahi_arena arena;
    ahi_src *src;
    ahi_lexer lx;
    tdiag td;
    uint64_t errors;
} lexfix;

static void lex_open(lexfix *f, const char *text)
{
    memset(f, 0, sizeof *f);
    ahi_arena_init(&f->arena);
    tdiag_init(&f->td);
    f->src = ahi_src_new(&f->arena, "l.rules", text, strlen(text));
    assert_non_null(f->src);
    f->lx.src = f->src;
    f->lx.arena = &f->arena;
    f->lx.diag = &f->td.d;
    f->lx.errors = &f->errors;
}

static void lex_close(lexfix *f)
{
    ahi_arena_free(&f->arena);
    tdiag_free(&f->td);
}

static ahi_token next(lexfix *f, ahi_lexmode mode) { return ahi_lex(&f->lx, mode); }

static void expect_tok(lexfix *f, ahi_lexmode mode, ahi_tok kind, size_t off, size_t len)
{
    ahi_token t = next(f, mode);
    if (t.kind != kind || t.off != off || t.len != len) {
        print_error("token: got %s @%zu+%zu, want %s @%zu+%zu\n", ahi_tok_name(t.kind), t.off, t.len,
                    ahi_tok_name(kind), off, len);
        fail();
    }
}

static void test_expression_tokens(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, "raw.A[Name=\"x\"] == -1.5e3 != <= >= < > ( ) , : * $var # comment\n  ident_2");
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_IDENT, 0, 3);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_DOT, 3, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_IDENT, 4, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_LBRACK, 5, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_IDENT, 6, 4);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_ASSIGN, 10, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_STRING, 11, 3);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_RBRACK, 14, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_EQ, 16, 2);
    ahi_token num = next(&f, AHI_LEX_EXPR);
    assert_int_equal(num.kind, AHI_T_NUMBER);
    assert_true(num.num == -1500.0);
    assert_int_equal(num.off, 19);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_NE, 26, 2);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_LE, 29, 2);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_GE, 32, 2);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_LT, 35, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_GT, 37, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_LPAREN, 39, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_RPAREN, 41, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_COMMA, 43, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_COLON, 45, 1);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_STAR, 47, 1);
    ahi_token v = next(&f, AHI_LEX_EXPR);
    assert_int_equal(v.kind, AHI_T_VAR);
    assert_int_equal(v.n, 3);
    assert_memory_equal(v.s, "var", 3);
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_IDENT, 66, 7); /* comment and newline skipped */
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_EOF, 73, 0);
    assert_int_equal(f.errors, 0);
    lex_close(&f);
}

static void test_string_escapes(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, "\"a\\\"b\\\\c\\n\\t\\u00e9\\ud83d\\ude00/\\/\"");
    ahi_token t = next(&f, AHI_LEX_EXPR);
    assert_int_equal(t.kind, AHI_T_STRING);
    const char want[] = "a\"b\\c\n\t\xC3\xA9\xF0\x9F\x98\x80//";
    assert_int_equal(t.n, sizeof want - 1);
    assert_memory_equal(t.s, want, sizeof want - 1);
    assert_int_equal(f.errors, 0);
    lex_close(&f);
}

static void test_triple_quoted(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, "  \"\"\"\n      First line \"quoted\"\n        indented\n\n      last\n    \"\"\" x");
    ahi_token t = next(&f, AHI_LEX_EXPR);
    assert_int_equal(t.kind, AHI_T_STRING);
    assert_true(t.triple);
    assert_string_equal(t.s, "First line \"quoted\"\n  indented\n\nlast");
    expect_tok(&f, AHI_LEX_EXPR, AHI_T_IDENT, strlen(f.src->text) - 1, 1);
    lex_close(&f);
}

static void test_word_mode(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, "solarwinds attack.T1098.001 2024-01-10 https://x.y/a?b=c \"two words\" # c\nnext }");
    const char *words[] = {"solarwinds", "attack.T1098.001", "2024-01-10", "https://x.y/a?b=c"};
    for (size_t i = 0; i < 4; i++) {
        ahi_token t = next(&f, AHI_LEX_WORD);
        assert_int_equal(t.kind, AHI_T_WORD);
        assert_int_equal(t.n, strlen(words[i]));
        assert_memory_equal(t.s, words[i], t.n);
    }
    ahi_token s = next(&f, AHI_LEX_WORD);
    assert_int_equal(s.kind, AHI_T_STRING);
    assert_string_equal(s.s, "two words");
    assert_int_equal(next(&f, AHI_LEX_WORD).kind, AHI_T_EOL);
    assert_int_equal(next(&f, AHI_LEX_WORD).kind, AHI_T_WORD);
    assert_int_equal(next(&f, AHI_LEX_WORD).kind, AHI_T_RBRACE);
    assert_int_equal(next(&f, AHI_LEX_WORD).kind, AHI_T_EOF);
    lex_close(&f);
}

static void test_regex_mode(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, " /^a\\/b[/]?$/ms next");
    ahi_token t = next(&f, AHI_LEX_REGEX);
    assert_int_equal(t.kind, AHI_T_REGEX);
    assert_string_equal(t.s, "^a\\/b[");
    lex_close(&f);
    /* The closing slash is the first unescaped one; flags follow it. */
    lex_open(&f, "/^a\\/b$/ms next");
    t = next(&f, AHI_LEX_REGEX);
    assert_int_equal(t.kind, AHI_T_REGEX);
    assert_string_equal(t.s, "^a\\/b$");
    assert_string_equal(t.flags, "ms");
    assert_int_equal(t.off, 0);
    assert_int_equal(t.len, 10);
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_IDENT);
    lex_close(&f);
}

static void test_inline_json(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, "{\"a\": \"}\\\"{\", \"b\": [1, {\"c\": 2}]\n}\nnext");
    ahi_token t = next(&f, AHI_LEX_TEST);
    assert_int_equal(t.kind, AHI_T_JSON);
    assert_int_equal(t.n, strlen("{\"a\": \"}\\\"{\", \"b\": [1, {\"c\": 2}]\n}"));
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_IDENT);
    lex_close(&f);
}

static void test_lexical_errors(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, "x == \"abc\nnext");
    next(&f, AHI_LEX_EXPR);
    next(&f, AHI_LEX_EXPR);
    ahi_token t = next(&f, AHI_LEX_EXPR);
    assert_int_equal(t.kind, AHI_T_ERROR);
    assert_int_equal(f.errors, 1);
    assert_diag_has(&f.td, "l.rules:1:6: error: unterminated string\n  x == \"abc\n       ^^^^");
    /* the lexer goes on after the error */
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_IDENT);
    lex_close(&f);

    lex_open(&f, "\"a\\\nb\"");
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_ERROR);
    assert_diag_has(&f.td, "l.rules:1:1: error: unterminated string");
    lex_close(&f);

    lex_open(&f, "\"a\\qb\"");
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_ERROR);
    assert_diag_has(&f.td, "l.rules:1:3: error: unknown escape \\q");
    lex_close(&f);

    lex_open(&f, "a @ b");
    next(&f, AHI_LEX_EXPR);
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_ERROR);
    assert_diag_has(&f.td, "l.rules:1:3: error: unexpected character");
    lex_close(&f);

    lex_open(&f, "/abc\n/");
    assert_int_equal(next(&f, AHI_LEX_REGEX).kind, AHI_T_ERROR);
    assert_diag_has(&f.td, "1:1: error: unterminated regex");
    lex_close(&f);

    lex_open(&f, "{\"a\": [1, 2}");
    assert_int_equal(next(&f, AHI_LEX_TEST).kind, AHI_T_ERROR);
    assert_diag_has(&f.td, "1:1: error: unterminated inline JSON");
    lex_close(&f);

    lex_open(&f, "12abc");
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_ERROR);
    assert_diag_has(&f.td, "1:1: error: bad number");
    lex_close(&f);

    lex_open(&f, "$ x");
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_ERROR);
    assert_diag_has(&f.td, "1:1: error: expected a variable name after '$'");
    lex_close(&f);

    lex_open(&f, "\"\"\"never closed");
    assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_ERROR);
    assert_diag_has(&f.td, "1:1: error: unterminated \"\"\" string");
    lex_close(&f);
}

static void test_bad_operators(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, "=~ && <>");
    for (int i = 0; i < 3; i++)
        assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_BADOP);
    assert_int_equal(f.errors, 0); /* the parser decides what to say */
    lex_close(&f);
}

static void test_columns_count_code_points(void **state)
{
    (void)state;
    lexfix f;
    lex_open(&f, "\"\xC3\xA9t\xC3\xA9\" @");
    next(&f, AHI_LEX_EXPR);
    next(&f, AHI_LEX_EXPR);
    assert_diag_has(&f.td, "l.rules:1:7: error: unexpected character\n  \"\xC3\xA9t\xC3\xA9\" @\n        ^");
    lex_close(&f);
}

/* The parser reads an operator word by word, comparing each token's text
 * with ops.def's spellings: every word must be one token (a name or an
 * operator symbol), never a bad operator or an error. */
static void test_operator_words_are_tokens(void **state)
{
    (void)state;
    for (int op = 0; op < AHI_OP_COUNT; op++)
        for (int k = 0; k < 2; k++) {
            const char *sp = k ? ahi_ops[op].negated : ahi_ops[op].spelling;
            if (!sp)
                continue;
            assert_true(sp[0] != '\0' && sp[0] != ' ' && !strstr(sp, "  ") && sp[strlen(sp) - 1] != ' ');
            lexfix f;
            lex_open(&f, sp);
            size_t off = 0;
            while (off < strlen(sp)) {
                size_t wn = strcspn(sp + off, " ");
                ahi_token t = next(&f, AHI_LEX_EXPR);
                if (t.off != off || t.len != wn || t.kind == AHI_T_BADOP || t.kind == AHI_T_ERROR ||
                    t.kind == AHI_T_STRING) {
                    print_error("ops.def spelling '%s': word '%.*s' lexes as %s @%zu+%zu\n", sp, (int)wn, sp + off,
                                ahi_tok_name(t.kind), t.off, t.len);
                    fail();
                }
                off += wn + 1;
            }
            assert_int_equal(next(&f, AHI_LEX_EXPR).kind, AHI_T_EOF);
            lex_close(&f);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expression_tokens), cmocka_unit_test(test_operator_words_are_tokens),
        cmocka_unit_test(test_string_escapes),    cmocka_unit_test(test_triple_quoted),
        cmocka_unit_test(test_word_mode),         cmocka_unit_test(test_regex_mode),
        cmocka_unit_test(test_inline_json),       cmocka_unit_test(test_lexical_errors),
        cmocka_unit_test(test_bad_operators),     cmocka_unit_test(test_columns_count_code_points),
    };
    return cmocka_run_group_tests_name("rules_lexer", tests, NULL, NULL);
}
