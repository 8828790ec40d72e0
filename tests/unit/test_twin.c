/* Tests for parsers/formats/twin.c: the UAL and Entra copies of one sign-in
 * or directory change are twins; near misses are not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "parsers/formats/twin.h"

static ah_twin_key signin_entra(void)
{
    ah_twin_key k = {.source = AH_SOURCE_SIGNIN, .cls = AH_TWIN_SIGNIN, .time = {1610503927, 0}};
    k.user = ah_span_cstr("Megan.Bowen@contoso.com");
    k.ip = ah_span_cstr("13.59.205.66");
    k.app_id = ah_span_cstr("4765445b-32c6-49b0-83e6-1d93765276ca");
    k.target = ah_span_cstr("Office 365 Exchange Online");
    k.result = AH_RESULT_FAILURE;
    return k;
}

static ah_twin_key signin_ual(void)
{
    ah_twin_key k = signin_entra();
    k.source = AH_SOURCE_UAL;
    k.cls = ah_twin_class_of(AH_SOURCE_UAL, ah_span_cstr("AzureActiveDirectory"), ah_span_cstr("userloginfailed"));
    k.time.sec += 1;
    k.user = ah_span_cstr("megan.bowen@contoso.com");
    k.target = ah_span_cstr("00000002-0000-0ff1-ce00-000000000000"); /* sign-ins: target is not compared */
    return k;
}

static void test_signin_pair(void **state)
{
    (void)state;
    ah_twin_key a = signin_entra(), b = signin_ual();
    assert_int_equal(b.cls, AH_TWIN_SIGNIN);
    assert_true(ah_twin_match(&a, &b));
    assert_true(ah_twin_match(&b, &a));
}

static void test_signin_near_misses(void **state)
{
    (void)state;
    ah_twin_key a = signin_entra(), b = signin_ual();
    b.time.sec = a.time.sec + 5;
    b.time.nsec = 1; /* 5 s and 1 ns apart */
    assert_false(ah_twin_match(&a, &b));
    b.time.sec = a.time.sec - 5;
    b.time.nsec = 0; /* exactly 5 s earlier: joined */
    assert_true(ah_twin_match(&a, &b));
    b = signin_ual();
    b.ip = ah_span_cstr("13.59.205.67");
    assert_false(ah_twin_match(&a, &b));
    b = signin_ual();
    b.ip = AH_SPAN_NULL; /* absent on one side: no evidence either way */
    assert_true(ah_twin_match(&a, &b));
    b = signin_ual();
    b.result = AH_RESULT_SUCCESS;
    assert_false(ah_twin_match(&a, &b));
    b = signin_ual();
    b.app_id = ah_span_cstr("c44b4083-3bb0-49c1-b47d-974e53cbdf3c");
    assert_false(ah_twin_match(&a, &b));
    b = signin_ual();
    b.user = AH_SPAN_NULL; /* no actor: never joined */
    assert_false(ah_twin_match(&a, &b));
    b = signin_entra(); /* two records of one log are not twins */
    assert_false(ah_twin_match(&a, &b));
}

static void test_directory_pair(void **state)
{
    (void)state;
    ah_twin_key a = {.source = AH_SOURCE_ENTRA_AUDIT, .time = {1610507565, 811126900}};
    a.cls = ah_twin_class_of(a.source, AH_SPAN_NULL, ah_span_cstr("add service principal credentials"));
    a.op_canon = ah_span_cstr("add service principal credentials");
    a.user = ah_span_cstr("adele.vance@contoso.com");
    a.ip = ah_span_cstr("54.193.127.66");
    a.target = ah_span_cstr("Contoso MailSync");
    a.result = AH_RESULT_SUCCESS;
    ah_twin_key b = a;
    b.source = AH_SOURCE_UAL;
    b.cls = ah_twin_class_of(b.source, ah_span_cstr("AzureActiveDirectory"), b.op_canon);
    b.time.nsec = 0;
    assert_int_equal(b.cls, AH_TWIN_DIRECTORY);
    assert_true(ah_twin_match(&a, &b));
    b.target = ah_span_cstr("Other App");
    assert_false(ah_twin_match(&a, &b));
    /* the same correlation id outweighs a target named differently... */
    a.correlation_id = ah_span_cstr("545abe0b-a6db-43ce-b5b7-64489f8689bb");
    b.correlation_id = ah_span_cstr("545ABE0B-a6db-43ce-b5b7-64489f8689bb");
    b.target = ah_span_cstr("User_2fe46b93-8bbe-49bd-b0cd-b960e47eac4a");
    assert_true(ah_twin_match(&a, &b));
    /* ...and two different ones keep the copies apart */
    b.correlation_id = ah_span_cstr("9619f4c6-7a43-4740-a65d-31c41a2642a3");
    b.target = a.target;
    assert_false(ah_twin_match(&a, &b));
    b.correlation_id = AH_SPAN_NULL;
    b.op_canon = ah_span_cstr("update application");
    assert_false(ah_twin_match(&a, &b));
    /* a UAL change of another workload is never a twin */
    assert_int_equal(
        ah_twin_class_of(AH_SOURCE_UAL, ah_span_cstr("Exchange"), ah_span_cstr("add service principal credentials")),
        AH_TWIN_NONE);
    /* a sign-in never joins a directory change */
    ah_twin_key s = signin_ual();
    s.time = a.time;
    s.user = a.user;
    assert_false(ah_twin_match(&a, &s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signin_pair),
        cmocka_unit_test(test_signin_near_misses),
        cmocka_unit_test(test_directory_pair),
    };
    return cmocka_run_group_tests_name("twin", tests, NULL, NULL);
}
