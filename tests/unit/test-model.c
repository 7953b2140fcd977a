/* The primary's model as the code says it: each vocabulary a table with
 * its lookups both ways, the router chosen from the mode, sticky and
 * balance reconciled by one rule, control verdicts typed. */
#include <string.h>

#include "primary/core/optable.h"
#include "primary/core/words.h"
#include "primary/health/health.h"
#include "primary/spread/router.h"
#include "proto/ctlreq.h"
#include "test.h"

void test_model_vocabularies(void)
{
    /* Every value has a word of its own, and the word reads back. */
    for (int v = 0; v < VIEW_COUNT; v++) {
        const char *w = zc__slot_view_name(v);

        ASSERT(strcmp(w, "?") != 0);
        ASSERT_EQ(zc__slot_view_parse(w), v);
        for (int u = 0; u < v; u++)
            ASSERT(strcmp(w, zc__slot_view_name(u)) != 0);
    }
    ASSERT_STREQ(zc__slot_view_name(VIEW_COUNT), "?");
    ASSERT_EQ(zc__slot_view_parse("asleep"), -1);
    for (int o = 0; o < ZC__RELOAD_OUTCOMES; o++)
        ASSERT_EQ(zc__outcome_parse(zc__outcome_name(o)), o);
    ASSERT_STREQ(zc__outcome_name(ZC_RELOAD_FAILED), "failed");
    ASSERT_STREQ(zc__outcome_name(-1), "?");
    for (int k = 0; k < WALK_KINDS; k++) {
        ASSERT_EQ(zc__walk_kind_parse(zc__walk_kind_name(k)), k);
        /* "reload" is said "reloading": the word and its -ing. */
        ASSERT(strncmp(zc__walk_kind_doing(k), zc__walk_kind_name(k),
                       strlen(zc__walk_kind_name(k)) - 1) == 0);
    }
    ASSERT_STREQ(zc__walk_kind_doing(WALK_RECYCLE), "recycling");
    ASSERT_STREQ(zc__watchdog_action_name(ZC_WATCHDOG_LOG), "log");
    ASSERT_STREQ(zc__recycle_reason_name(ZC_RECYCLE_MEMORY), "memory");
    ASSERT_STREQ(zc__recycle_reason_name(7), "?");
}

void test_model_routers(void)
{
    const struct router *modes[] = { zc__router_for(ZC_BALANCE_STICKY),
                                     zc__router_for(ZC_BALANCE_LEAST_CONN) };
    zc_options o;

    /* The kernel spreads these: no router. */
    ASSERT(zc__router_for(ZC_BALANCE_SHARED) == NULL);
    ASSERT(zc__router_for(ZC_BALANCE_REUSEPORT) == NULL);
    ASSERT(zc__router_for(42) == NULL);
    ASSERT(modes[0] == &zc__sticky_router);
    ASSERT(modes[1] == &zc__least_router);
    /* The core calls every operation without asking which mode it is. */
    for (size_t i = 0; i < 2; i++)
        ASSERT(modes[i]->create && modes[i]->deliver && modes[i]->kick &&
               modes[i]->deaf && modes[i]->slot_removed && modes[i]->stop &&
               modes[i]->destroy && modes[i]->metrics);
    /* --sticky and --balance sticky: one rule makes each the other. */
    zc_options_init(&o);
    o.sticky = true;
    zc__options_reconcile(&o);
    ASSERT_EQ(o.balance, ZC_BALANCE_STICKY);
    zc_options_init(&o);
    o.balance = ZC_BALANCE_STICKY;
    zc__options_reconcile(&o);
    ASSERT(o.sticky);
    /* sticky with another mode is not reconciled: the check refuses it. */
    zc_options_init(&o);
    o.sticky = true;
    o.balance = ZC_BALANCE_LEAST_CONN;
    zc__options_reconcile(&o);
    ASSERT_EQ(o.balance, ZC_BALANCE_LEAST_CONN);
}

void test_model_control_verdicts(void)
{
    struct zc__ctl_req q;
    const char *allow;
    char why[256];

    ASSERT_EQ(zc__ctl_parse(&q, "GET", "/status", NULL, 0, why, sizeof(why),
                            &allow),
              ZC__CTL_TAKEN);
    ASSERT_EQ(zc__ctl_parse(&q, "GET", "/nope", NULL, 0, why, sizeof(why),
                            &allow),
              ZC__CTL_NOT_FOUND);
    /* The paths it offers are the route table's, every one. */
    ASSERT_STREQ(why, "no such path '/nope': the control socket serves "
                      "/status, /metrics, /reload, /scale, /restart, /signal, "
                      "/stop, /logs, /config and /upgrade");
    ASSERT_EQ(zc__ctl_parse(&q, "GET", "/reload", NULL, 0, why, sizeof(why),
                            &allow),
              ZC__CTL_BAD_METHOD);
    ASSERT_STREQ(allow, "POST");
    ASSERT_EQ((int) ZC__CTL_BAD_REQUEST, 400);
}
