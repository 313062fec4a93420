/* Route rules, "MATCHER -> DIALER": the matcher parsed by the other value
 * parsers, the dialer's name checked and copied. */
#include "conf/internal.h"

#include <stdio.h>
#include <string.h>

static int parse_domain_matcher(const char *v, struct conf_rule *out, char *why)
{
    memset(&out->m, 0, sizeof(out->m));
    out->kind = MATCH_DOMAIN;
    out->m.domain.suffix = strncmp(v, "*.", 2) == 0;
    return conf_parse_hostname(v, true, out->m.domain.name, sizeof(out->m.domain.name), why);
}

static int parse_port_matcher(const char *v, struct conf_rule *out, char *why)
{
    memset(&out->m, 0, sizeof(out->m));
    out->kind = MATCH_PORT;
    return conf_parse_port_range(v, &out->m.port.lo, &out->m.port.hi, why);
}

static int parse_network_matcher(const char *v, struct conf_rule *out, char *why)
{
    memset(&out->m, 0, sizeof(out->m));
    out->kind = MATCH_NETWORK;
    if (strcmp(v, "tcp") == 0)
        out->m.network = NET_TCP;
    else if (strcmp(v, "udp") == 0)
        out->m.network = NET_UDP;
    else {
        snprintf(why, WHY_MAX, "expected network:tcp or network:udp");
        return -1;
    }
    return 0;
}

static int parse_matcher(char *m, struct conf_rule *out, char *why)
{
    char *colon = strchr(m, ':');
    char *v;

    if (!colon) {
        snprintf(why, WHY_MAX, "matcher '%.40s' has no type (cidr:, domain:, port: or network:)",
                 m);
        return -1;
    }
    *colon = '\0';
    v = conf_trim(colon + 1);
    if (*v == '\0') {
        snprintf(why, WHY_MAX, "empty %.20s matcher", m);
        return -1;
    }
    if (strcmp(m, "cidr") == 0)
        return conf_parse_cidr(v, out, why);
    if (strcmp(m, "domain") == 0)
        return parse_domain_matcher(v, out, why);
    if (strcmp(m, "port") == 0)
        return parse_port_matcher(v, out, why);
    if (strcmp(m, "network") == 0)
        return parse_network_matcher(v, out, why);
    snprintf(why, WHY_MAX, "unknown matcher '%.20s' (expected cidr, domain, port or network)", m);
    return -1;
}

int conf_parse_route(const char *s, struct conf_rule *out, char *dialer_name, char *why)
{
    char buf[512], inner[WHY_MAX], *matcher, *target, *arrow;

    if (strlen(s) >= sizeof(buf)) {
        snprintf(why, WHY_MAX, "too long");
        return -1;
    }
    strcpy(buf, s);
    arrow = strstr(buf, "->");
    if (!arrow) {
        snprintf(why, WHY_MAX, "expected 'MATCHER -> DIALER'");
        return -1;
    }
    *arrow = '\0';
    matcher = conf_trim(buf);
    target = conf_trim(arrow + 2);
    if (*matcher == '\0' || *target == '\0') {
        snprintf(why, WHY_MAX, "missing %s (expected 'MATCHER -> DIALER')",
                 *matcher ? "dialer after '->'" : "matcher before '->'");
        return -1;
    }
    if (strstr(target, "->")) {
        snprintf(why, WHY_MAX, "more than one '->'");
        return -1;
    }
    if (conf_check_name(target, inner) < 0) {
        snprintf(why, WHY_MAX, "bad dialer name '%.40s': %.60s", target, inner);
        return -1;
    }
    strcpy(dialer_name, target);
    /* The text is for logs and explain: a very long domain is shortened there. */
    snprintf(out->text, sizeof(out->text), "%s", matcher);
    return parse_matcher(matcher, out, why);
}
