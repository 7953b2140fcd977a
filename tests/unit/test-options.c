/* The options table: one row per option, shared by the tool's parser, its
 * --help and the library's checks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "primary/core/optable.h"
#include "primary/core/options.h"
#include "test.h"

/* A value of the row's kind that must be refused. */
static const char *bad_value(const struct zc__opt *r)
{
    switch (r->kind) {
    case ZC__OPT_UINT:
        return "12x";
    case ZC__OPT_DURATION:
        return "2d";            /* days are not a unit */
    case ZC__OPT_FACTOR:
        return "2x";
    case ZC__OPT_SIGNAL:
        return "KILL";
    case ZC__OPT_READY:
        return "delay";
    case ZC__OPT_RESPAWN:
        return "sometimes";
    case ZC__OPT_BALANCE:
        return "sideways";
    case ZC__OPT_LISTEN:
    case ZC__OPT_ADDRESS:
        return "nowhere";
    case ZC__OPT_NAME:
        return ".hidden";
    case ZC__OPT_PATH:
        return "relative.sock";
    case ZC__OPT_GROUP:
        return "no-such-group-zc";
    case ZC__OPT_SIZE:
        return "12Q";
    case ZC__OPT_GIVE_UP:
        return "5";
    case ZC__OPT_WATCHDOG_ACTION:
        return "shout";
    default:
        return NULL;
    }
}

void test_options_table(void)
{
    const char *listen[ZC_MAX_LISTEN];
    const struct zc__opt *r, *s;
    char why[256], want[128], a[64], b[64];
    zc_options d, o;
    size_t n = 0;

    zc_options_init(&d);
    for (size_t i = 0; (r = zc__opt_at(i)); i++, n++) {
        ASSERT(zc_option_get(i) == &r->info);
        ASSERT(r->info.name && *r->info.help && r->field);
        ASSERT(r->offset < sizeof(zc_options));
        for (size_t j = 0; j < i; j++) {
            s = zc__opt_at(j);
            ASSERT(strcmp(s->info.name, r->info.name) != 0);
            ASSERT(!r->info.short_name || s->info.short_name != r->info.short_name);
        }
        /* The default, printed, reads back as itself (unless it says
         * what an unset one means: "one per CPU", "none"). */
        ASSERT(zc_option_format(&d, r->info.name, a, sizeof(a)) > 0);
        o = d;
        o.listen_room = listen;
        if (r->info.arg && strcmp(a, "none") && !strchr(a, ' ')) {
            ASSERT_EQ(zc_option_set(&o, r->info.name, a, why, sizeof(why)), 0);
            ASSERT(zc_option_format(&o, r->info.name, b, sizeof(b)) > 0);
            ASSERT_STREQ(a, b);
        }
        /* A bad value is refused, saying which option and what was given. */
        if (bad_value(r)) {
            snprintf(want, sizeof(want), "--%s", r->info.name);
            ASSERT_EQ(zc_option_set(&o, r->info.name, bad_value(r), why,
                                    sizeof(why)), -EINVAL);
            ASSERT_CONTAINS(why, want);
            ASSERT_CONTAINS(why, bad_value(r));
        }
    }
    ASSERT_GE(n, 20);
    ASSERT(zc_option_get(n) == NULL);
    ASSERT_EQ(zc_option_set(&o, "no-such-option", "1", why, sizeof(why)), -ENOENT);
    ASSERT_EQ(zc_option_format(&d, "no-such-option", a, sizeof(a)), -ENOENT);
    /* A missing value, and a value for a flag (ignored, as getopt does). */
    ASSERT_EQ(zc_option_set(&o, "workers", NULL, why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "requires an argument");
    ASSERT_EQ(zc_option_set(&o, "sticky", NULL, NULL, 0), 0);
    ASSERT(o.sticky);
}

void test_options_ranges_shared(void)
{
    const struct zc__opt *r;
    char why[256], range[64], v[32];
    zc_options o;

    /* Each range the tool enforces is the one the library checks. */
    for (size_t i = 0; (r = zc__opt_at(i)); i++) {
        bool day = r->kind == ZC__OPT_DURATION && r->max == 86400000.0;

        if (r->max == 0 || r->kind == ZC__OPT_FACTOR)
            continue;
        zc__opt_range_text(r, range, sizeof(range));
        zc_options_init(&o);
        ASSERT_EQ(zc__options_validate(&o), 0);
        /* One past the top: the tool refuses it, and so does the library
         * (a day is only the tool's parsing limit). */
        snprintf(v, sizeof(v), "%.0f", r->max + 1);
        ASSERT_EQ(zc_option_set(&o, r->info.name, v, why, sizeof(why)), -EINVAL);
        if (!day) {
            if (r->kind == ZC__OPT_UINT)
                *(unsigned *) ((char *) &o + r->offset) = (unsigned) r->max + 1;
            else
                *(uint32_t *) ((char *) &o + r->offset) = (uint32_t) r->max + 1;
            ASSERT_EQ(zc__options_validate(&o), -EINVAL);
        }
        /* One below the bottom, where there is one. */
        if (r->min > 0) {
            zc_options_init(&o);
            snprintf(v, sizeof(v), "%.0f", r->min - 1);
            ASSERT_EQ(zc_option_set(&o, r->info.name, v, why, sizeof(why)), -EINVAL);
            if (r->kind == ZC__OPT_DURATION) {
                ASSERT_CONTAINS(why, range);
                *(uint32_t *) ((char *) &o + r->offset) = (uint32_t) r->min - 1;
                ASSERT_EQ(zc__options_validate(&o), -EINVAL);
            }
        }
    }
    zc_options_init(&o);
    o.workers = 0;          /* one per CPU: fine for the library */
    ASSERT_EQ(zc__options_validate(&o), 0);
    o.backoff_factor = 0.5;
    ASSERT_EQ(zc__options_validate(&o), -EINVAL);
}

void test_options_check(void)
{
    char why[256];
    zc_options o;

    zc_options_init(&o);
    ASSERT_EQ(zc_options_check(&o, false, why, sizeof(why)), 0);
    o.respawn_delay_ms = 5000;
    o.max_respawn_delay_ms = 1000;
    ASSERT_EQ(zc_options_check(&o, false, why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "larger than --max-respawn-delay");
    zc_options_init(&o);
    o.proxy_protocol = true;
    ASSERT_EQ(zc_options_check(&o, false, why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "--proxy-protocol needs --sticky");
    o.sticky = true;
    ASSERT_EQ(zc_options_check(&o, false, why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "--sticky needs a listen address");
    ASSERT_EQ(zc_options_check(&o, true, why, sizeof(why)), 0);
    /* --sticky is --balance sticky; with another mode it contradicts it. */
    zc_options_init(&o);
    ASSERT_EQ(zc_option_set(&o, "sticky", NULL, why, sizeof(why)), 0);
    ASSERT_EQ(o.balance, ZC_BALANCE_STICKY);
    ASSERT_EQ(zc_option_set(&o, "balance", "reuseport", why, sizeof(why)), 0);
    ASSERT_EQ(zc_options_check(&o, true, why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "--sticky and --balance reuseport contradict");
    ASSERT_EQ(zc_option_set(&o, "balance", "sideways", why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "invalid --balance 'sideways'");
}

/* zc_self_* and the older names they replace (aliases in the .so) say the
 * same, in a worker and in a program run on its own; four threads reading
 * first at once agree (pthread_once). */
void test_api_self_names(void)
{
    char *argv[] = { (char *) zt_self(), (char *) "--helper", (char *) "self",
                     NULL };
    char *worker[] = { (char *) "ZC_WORKER_ID=7", (char *) "ZC_WORKER_SLOT=3",
                       (char *) "ZC_GENERATION=5", (char *) "ZC_STICKY=web",
                       NULL };
    struct zt_proc *p = zt_start(argv, worker);

    zt_wait_line(p, "7 3 5 1 1 0", 5000);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    zt_proc_free(p);
    /* On its own: no id, slot -1, not a worker; zc_is_primary() true. */
    p = zt_start(argv, NULL);
    zt_wait_line(p, "0 -1 0 0 0 1", 5000);
    ASSERT_EQ(zt_exit_code(p, 5000), 0);
    zt_proc_free(p);
}

/* The options of issue 26 in the library's struct, set by name as the
 * tool sets them, read back, and checked when a caller sets the fields. */
void test_options_service(void)
{
    char why[256], buf[64];
    zc_options o;

    zc_options_init(&o);
    ASSERT_EQ(o.umask, -1);
    ASSERT_EQ(o.output, ZC_OUTPUT_AUTO);
    ASSERT_EQ(zc_option_format(&o, "output", buf, sizeof(buf)) > 0, 1);
    ASSERT_STREQ(buf, "prefix");
    o.log_format = ZC_LOG_FORMAT_JSON;
    ASSERT(zc_option_format(&o, "output", buf, sizeof(buf)) > 0);
    ASSERT_STREQ(buf, "json");
    ASSERT_EQ(zc_option_set(&o, "user", "nobody:nogroup", why, sizeof(why)), 0);
    ASSERT_STREQ(o.user, "nobody:nogroup");
    ASSERT_EQ(zc_option_set(&o, "umask", "027", why, sizeof(why)), 0);
    ASSERT_EQ(o.umask, 027);
    ASSERT(zc_option_format(&o, "umask", buf, sizeof(buf)) > 0);
    ASSERT_STREQ(buf, "0027");
    ASSERT_EQ(zc_option_set(&o, "umask", "8", why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "expected an octal mode");
    ASSERT_EQ(zc_option_set(&o, "output", "inherit", why, sizeof(why)), 0);
    ASSERT_EQ(o.output, ZC_OUTPUT_INHERIT);
    ASSERT_EQ(zc_option_set(&o, "output", "raw", why, sizeof(why)), -EINVAL);
    ASSERT_CONTAINS(why, "expected auto, prefix, json or inherit");
    ASSERT_EQ(zc_option_set(&o, "output-overflow", "drop", why, sizeof(why)),
              0);
    ASSERT_EQ(o.output_overflow, ZC_OVERFLOW_DROP);
    ASSERT_EQ(zc_option_set(&o, "user", "", why, sizeof(why)), -EINVAL);
    ASSERT_EQ(zc__options_validate(&o), 0);
    o.umask = 01000;
    ASSERT_EQ(zc__options_validate(&o), -EINVAL);
    o.umask = -1;
    o.output = 9;
    ASSERT_EQ(zc__options_validate(&o), -EINVAL);
    o.output = ZC_OUTPUT_JSON;
    o.chdir = "";
    ASSERT_EQ(zc__options_validate(&o), -EINVAL);
}
