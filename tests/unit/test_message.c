/*
 * test_message.c: the one-line sentence of the Timesketch and ECS profiles
 * (analyzer/output/message.c): exact sentences for each kind of row, and the
 * guarantees (one line, bounded parts cut on character boundaries).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

#include "analyzer/output/message.h"

static ah_row row_of(const char *source, const char *user, const char *op, const char *target, const char *app,
                     const char *ip, const char *result)
{
    ah_row r;
    memset(&r, 0, sizeof r);
    r.kind = AH_ROW_EVENT;
    r.col[AH_COL_SOURCE] = source ? ah_span_cstr(source) : AH_SPAN_NULL;
    r.col[AH_COL_USER] = user ? ah_span_cstr(user) : AH_SPAN_NULL;
    r.col[AH_COL_OPERATION] = op ? ah_span_cstr(op) : AH_SPAN_NULL;
    r.col[AH_COL_TARGET] = target ? ah_span_cstr(target) : AH_SPAN_NULL;
    r.col[AH_COL_APP] = app ? ah_span_cstr(app) : AH_SPAN_NULL;
    r.col[AH_COL_IP] = ip ? ah_span_cstr(ip) : AH_SPAN_NULL;
    r.col[AH_COL_RESULT] = result ? ah_span_cstr(result) : AH_SPAN_NULL;
    return r;
}

static void expect(const ah_row *r, const char *want)
{
    ah_buf b;
    ah_buf_init(&b, 0);
    assert_int_equal(ah_row_message(r, &b), AH_OK);
    assert_string_equal(ah_buf_cstr(&b), want);
    ah_buf_free(&b);
}

static void test_signin(void **state)
{
    (void)state;
    ah_row r = row_of("signin+ual", "alex@contoso.com", "Sign-in / UserLoggedIn", "Office 365 Exchange Online",
                      "Azure Portal", "198.51.100.23", "success");
    r.col[AH_COL_SEVERITY] = ah_span_cstr("low");
    r.col[AH_COL_RULE_TITLE] = ah_span_cstr("Sign-in with PowerShell; Activity from an IOC address");
    expect(&r, "alex@contoso.com signed in to Office 365 Exchange Online with Azure Portal from 198.51.100.23 "
               "[low] Sign-in with PowerShell; Activity from an IOC address");
    r = row_of("signin", "bob@contoso.com", "Sign-in", NULL, "OfficeHome", "13.59.205.66", "failure (50126)");
    expect(&r, "bob@contoso.com failed to sign in with OfficeHome from 13.59.205.66, failure (50126)");
    /* a plain failure says nothing the verb did not */
    r = row_of("signin", "bob@contoso.com", "Sign-in", NULL, NULL, NULL, "failure");
    expect(&r, "bob@contoso.com failed to sign in");
}

static void test_operation(void **state)
{
    (void)state;
    ah_row r = row_of("ual", "adele@contoso.com", "New-InboxRule", "pradeep\\ ", NULL, "192.0.2.77", "success");
    expect(&r, "adele@contoso.com performed \"New-InboxRule\" on pradeep\\ from 192.0.2.77");
    r = row_of("entra_audit", "it-admin@contoso.com", "Reset user password", "joni@contoso.com", NULL, NULL, "unknown");
    expect(&r, "it-admin@contoso.com performed \"Reset user password\" on joni@contoso.com, unknown");
    r = row_of("ual", "u@contoso.com", NULL, NULL, NULL, NULL, NULL);
    expect(&r, "u@contoso.com performed \"(no operation)\"");
}

static void test_actor(void **state)
{
    (void)state;
    /* a service principal's sign-in: the application is the actor */
    ah_row r = row_of("signin", NULL, "Service principal sign-in", "Microsoft Graph", "Contoso MailSync",
                      "54.193.127.66", "success");
    expect(&r, "Contoso MailSync signed in to Microsoft Graph from 54.193.127.66");
    r = row_of("ual", "", "Set-Mailbox", "megan", "", "", "");
    expect(&r, "(unknown actor) performed \"Set-Mailbox\" on megan");
}

static void test_correlation(void **state)
{
    (void)state;
    ah_row r = row_of("signin", "megan@contoso.com", "Sign-in", NULL, NULL, "13.59.205.66", "");
    r.kind = AH_ROW_CORRELATION;
    r.col[AH_COL_SEVERITY] = ah_span_cstr("high");
    r.col[AH_COL_RULE_TITLE] = ah_span_cstr("Password spray");
    r.col[AH_COL_DETAILS] = ah_span_cstr("8 accounts failed to sign in from 13.59.205.66");
    expect(&r, "[high] Password spray: 8 accounts failed to sign in from 13.59.205.66");
}

/* Attacker-controlled fields cannot break the line or drive a terminal. */
static void test_one_line(void **state)
{
    (void)state;
    ah_row r = row_of("ual", "eve\r\n2021-01-01 admin logged in\x1b[2J", "Op\tX\x7f", NULL, NULL, NULL, NULL);
    expect(&r, "eve  2021-01-01 admin logged in [2J performed \"Op X \"");
}

/* Each part is cut at AH_MESSAGE_PART_MAX bytes on a character boundary. */
static void test_cut(void **state)
{
    (void)state;
    char user[601], op[400];
    for (int i = 0; i < 300; i++)
        memcpy(user + 2 * i, "\xC3\xA9", 2); /* é */
    user[600] = '\0';
    memset(op, 'x', sizeof op - 1);
    op[sizeof op - 1] = '\0';
    op[0] = '\xE2', op[1] = '\x82', op[2] = '\xAC'; /* € first, so the cut is not aligned by chance */
    ah_row r = row_of("ual", user, op, NULL, NULL, NULL, NULL);
    ah_buf b;
    ah_buf_init(&b, 0);
    assert_int_equal(ah_row_message(&r, &b), AH_OK);
    const char *m = ah_buf_cstr(&b);
    /* 128 é (256 bytes), the ellipsis, the verb, 256 bytes of the operation, the ellipsis */
    assert_memory_equal(m, user, 256);
    assert_memory_equal(m + 256, "\xE2\x80\xA6 performed \"", 3 + 12);
    const char *opart = m + 256 + 15;
    assert_memory_equal(opart, op, 256);
    assert_string_equal(opart + 256, "\xE2\x80\xA6\"");
    ah_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signin),      cmocka_unit_test(test_operation), cmocka_unit_test(test_actor),
        cmocka_unit_test(test_correlation), cmocka_unit_test(test_one_line),  cmocka_unit_test(test_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
