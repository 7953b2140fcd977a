/*
 * The documentation says what the code does: every option of the table
 * (zc_option_get) is in --help, in the man page and in the README, each
 * with the default zc_options_init() gives it; every Debian package
 * scripts/deps.sh installs is named in the README's set-up; the man page
 * cites no section-3 page of ours (none is installed).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* "--NAME" as a whole option in s (not the start of "--NAME-more"). */
static const char *find_option(const char *s, const char *name)
{
    size_t n = strlen(name);

    for (const char *at = s; (at = strstr(at, "--")); at += 2)
        if (strncmp(at + 2, name, n) == 0 &&
            !(islower((unsigned char) at[2 + n]) || at[2 + n] == '-'))
            return at;
    return NULL;
}

/* s with runs of white space made one space (wrapped text, joined). */
static char *squeeze(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;

    ASSERT(out);
    for (size_t i = 0; i < n; i++) {
        bool space = isspace((unsigned char) s[i]);

        if (!space)
            *o++ = s[i];
        else if (o > out && o[-1] != ' ')
            *o++ = ' ';
    }
    *o = '\0';
    return out;
}

/* The man page's source as text: font escapes gone, "\-" a hyphen. */
static char *man_text(void)
{
    char *src = zt_read_file("docs/zcluster.1"), *out, *o;

    ASSERT(src);
    out = o = malloc(strlen(src) + 1);
    ASSERT(out);
    for (const char *s = src; *s; s++) {
        if (s[0] == '\\' && s[1] == 'f' && s[2]) {
            s += 2;             /* \fB, \fI, \fR, \fP */
        } else if (s[0] == '\\' && s[1] == '-') {
            *o++ = '-';
            s++;
        } else if (s[0] == '\\' && s[1] == '&') {
            s++;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    free(src);
    return out;
}

/* The line after l's, or its terminating NUL. */
static const char *next_line(const char *l)
{
    const char *eol = strchr(l, '\n');

    return eol ? eol + 1 : l + strlen(l);
}

/* Whether a man page line ends the paragraph before it. */
static bool ends_paragraph(const char *l)
{
    return !*l || strncmp(l, ".TP", 3) == 0 || strncmp(l, ".SS", 3) == 0 ||
           strncmp(l, ".SH", 3) == 0 || strncmp(l, ".PP", 3) == 0;
}

/* An option's entry in the man page: from its .B/.BR line to the next
 * request that ends a paragraph. NULL if it has none. */
static char *man_entry(const char *man, const char *name)
{
    for (const char *l = man; *l; l = next_line(l)) {
        const char *eol = strchr(l, '\n'), *end, *opt;

        if (strncmp(l, ".B", 2) != 0 || !eol)
            continue;
        opt = find_option(l, name);
        if (!opt || opt > eol)
            continue;
        for (end = eol + 1; !ends_paragraph(end); end = next_line(end))
            ;
        return squeeze(l, (size_t) (end - l));
    }
    return NULL;
}

/* The --help block of an option: its line and the wrapped ones after. */
static char *help_entry(const char *help, const char *name)
{
    const char *at = find_option(help, name), *l, *end;

    if (!at)
        return NULL;
    for (l = at; l > help && l[-1] != '\n'; l--)
        ;
    for (end = strchr(at, '\n'); end && strncmp(end + 1, "  -", 3) != 0 &&
         end[1] != '\n' && end[1]; end = strchr(end + 1, '\n'))
        ;
    return squeeze(l, end ? (size_t) (end - l) : strlen(l));
}

/* The README table row of an option: its default column, trimmed. */
static bool readme_default(const char *readme, const char *name, char *out,
                           size_t size)
{
    for (const char *l = readme; *l; l = next_line(l)) {
        const char *eol = strchr(l, '\n'), *opt, *c1, *c2;

        if (strncmp(l, "| `", 3) != 0 || !eol)
            continue;
        c1 = strstr(l + 1, " | ");
        opt = find_option(l, name);
        if (!opt || !c1 || opt > c1)
            continue;
        c2 = strstr(c1 + 3, " | ");
        if (!c2 || c2 > eol)
            return false;
        snprintf(out, size, "%.*s", (int) (c2 - c1 - 3), c1 + 3);
        return true;
    }
    return false;
}

void test_docs_options_agree(void)
{
    char cmd[300], def[128], want[200], col[128];
    char *help, *man = man_text(), *readme = zt_read_file("README.md");
    const zc_option_info *i;
    zc_options o;
    int n = 0;

    ASSERT(readme);
    snprintf(cmd, sizeof(cmd), "%s --help", zt_zcluster());
    help = zt_capture(cmd);
    zc_options_init(&o);
    for (size_t k = 0; (i = zc_option_get(k)); k++, n++) {
        char *h = help_entry(help, i->name), *m = man_entry(man, i->name);

        ASSERT(zc_option_format(&o, i->name, def, sizeof(def)) > 0);
        if (!h)
            zt_fail(__FILE__, __LINE__, "--%s is not in --help", i->name);
        if (!m)
            zt_fail(__FILE__, __LINE__, "--%s is not in the man page", i->name);
        /* --help says a default unless it is "none" or a flag's "off" */
        snprintf(want, sizeof(want), "(default: %s)", def);
        if (i->arg && strcmp(def, "none") != 0 && !strstr(h, want))
            zt_fail(__FILE__, __LINE__, "--help of --%s lacks \"%s\": \"%s\"",
                    i->name, want, h);
        snprintf(want, sizeof(want), "Default: %s", def);
        if (!strstr(m, want))
            zt_fail(__FILE__, __LINE__, "the man page's --%s lacks \"%s\": "
                    "\"%s\"", i->name, want, m);
        if (!readme_default(readme, i->name, col, sizeof(col)))
            zt_fail(__FILE__, __LINE__, "--%s has no row in the README's "
                    "option tables", i->name);
        if (strcmp(col, def) != 0)
            zt_fail(__FILE__, __LINE__, "the README's default of --%s is "
                    "\"%s\", the code's \"%s\"", i->name, col, def);
        free(h);
        free(m);
    }
    ASSERT_GE(n, 30);
    free(help);
    free(man);
    free(readme);
}

/* Every package scripts/deps.sh installs is named in the README, and the
 * man page sends readers to pages that exist. */
void test_docs_packages_and_pages(void)
{
    char *deps = zt_read_file("scripts/deps.sh"), *readme = zt_read_file("README.md");
    char *man = zt_read_file("docs/zcluster.1"), want[80];
    int n = 0;

    ASSERT(deps && readme && man);
    for (char *l = strtok(deps, "\n"); l; l = strtok(NULL, "\n")) {
        char pkg[64] = "";

        while (*l == ' ')
            l++;
        if (!(strncmp(l, "need_pkg ", 9) == 0 && sscanf(l + 9, "%63s", pkg) == 1) &&
            !(strncmp(l, "need ", 5) == 0 && sscanf(l + 5, "%*s %63s", pkg) == 1) &&
            !(strstr(l, "norec=") && strstr(l, "' prometheus'") &&
              snprintf(pkg, sizeof(pkg), "prometheus") > 0))
            continue;
        snprintf(want, sizeof(want), "`%s`", pkg);
        if (!strstr(readme, want))
            zt_fail(__FILE__, __LINE__, "scripts/deps.sh installs %s; the "
                    "README does not say so", pkg);
        n++;
    }
    ASSERT_GE(n, 15);
    /* Our functions are documented in docs/library.md, not as pages. */
    for (const char *s = man; (s = strstr(s, "(3)")); s++) {
        const char *l = s;

        while (l > man && l[-1] != '\n')
            l--;
        if (strstr(l, "zc_") && strstr(l, "zc_") < s)
            zt_fail(__FILE__, __LINE__, "the man page cites a section-3 page "
                    "of ours, which is not installed: %.40s", l);
    }
    free(deps);
    free(readme);
    free(man);
}
