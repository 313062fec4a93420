/* torsocks's torsocks.conf as dialshim.ini (tools/import.h).
 *
 * What torsocks does, and what is written for it:
 * - TorAddress/TorPort (127.0.0.1, 9050): a socks5 dialer to Tor with
 *   remote_dns = true (Tor resolves every name) and udp = block (Tor carries no
 *   UDP; torsocks refuses it);
 * - SOCKS5Username/SOCKS5Password: its username and password;
 * - OnionAddrRange (127.42.42.0/24): dialshim hands fake addresses out of
 *   fake_ip_range for every name the proxy resolves, not only .onion ones: the
 *   default range is kept, a comment says so;
 * - IsolatePID 1: isolate = process (a username per process; the SOCKS5
 *   credentials, which it replaces, are left out);
 * - AllowOutboundLocalhost 0 (the default): loopback destinations are refused
 *   (block); 1: TCP to loopback goes direct, UDP is refused; 2: both go direct;
 * - AllowInbound: dialshim never touches listen/accept: a comment.
 */
#include "tools/import.h"

#include "common/escape.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ts {
    char server[80], user[IMP_VALUE_MAX + 1], pass[IMP_VALUE_MAX + 1];
    char addr[64], port[8];
    int localhost, isolate_line, onion_line, inbound_line, user_line, pass_line, addr_line;
    bool isolate;
};

/* 0 or 1 (or up to MAX), as torsocks writes them; -1 otherwise. */
static int small(const char *s, int max)
{
    return s[0] >= '0' && s[0] <= '0' + max && !s[1] ? s[0] - '0' : -1;
}

static bool setting(struct imp *im, struct ts *ts, int line, char **t, int n)
{
    char w[64];
    int v;

    if (n != 2)
        return false;
    if (!strcasecmp(t[0], "TorAddress") && strlen(t[1]) < sizeof(ts->addr)) {
        snprintf(ts->addr, sizeof(ts->addr), "%s", t[1]);
        ts->addr_line = line;
        return true;
    }
    if (!strcasecmp(t[0], "TorPort") && strlen(t[1]) < sizeof(ts->port)) {
        snprintf(ts->port, sizeof(ts->port), "%s", t[1]);
        return true;
    }
    if (!strcasecmp(t[0], "OnionAddrRange") || !strcasecmp(t[0], "OnHostAddrRange")) {
        imp_note(im, line,
                 "%s %s: dialshim gives every name the proxy resolves a fake address from "
                 "fake_ip_range (default 198.18.0.0/15), .onion names included",
                 t[0], imp_word(t[1], w, sizeof(w)));
        return true;
    }
    if (!strcasecmp(t[0], "IsolatePID") && (v = small(t[1], 1)) >= 0) {
        ts->isolate = v;
        ts->isolate_line = line;
        return true;
    }
    if (!strcasecmp(t[0], "AllowInbound") && small(t[1], 1) >= 0) {
        imp_note(im, line,
                 "AllowInbound: dialshim never touches listen or accept: inbound connections "
                 "are always allowed");
        return true;
    }
    if (!strcasecmp(t[0], "AllowOutboundLocalhost") && (v = small(t[1], 2)) >= 0) {
        ts->localhost = v;
        return true;
    }
    if (!strcasecmp(t[0], "SOCKS5Username") || !strcasecmp(t[0], "SOCKS5Password")) {
        bool u = !strcasecmp(t[0], "SOCKS5Username");
        if (!imp_value_ok(t[1])) {
            imp_warn(im, line,
                     "%s: a value that a dialshim.ini value cannot hold (more than %d bytes, or "
                     "not printable ASCII): left out",
                     t[0], IMP_VALUE_MAX);
            return true;
        }
        snprintf(u ? ts->user : ts->pass, sizeof(ts->user), "%s", t[1]);
        *(u ? &ts->user_line : &ts->pass_line) = line;
        return true;
    }
    return false;
}

static bool ts_line(struct imp *im, void *ctx, int no, char **t, int n)
{
    return setting(im, ctx, no, t, n);
}

static void parse(struct imp *im, struct ts *ts, const char *text, size_t len)
{
    imp_each_line(im, text, len, ts_line, ts);
}

static void put_tor(struct imp *im, struct ts *ts, bool ok)
{
    fprintf(im->out, "[dialer tor]\ntype = socks5\nserver = %s\n",
            ok ? ts->server : "127.0.0.1:9050");
    fprintf(im->out, "remote_dns = true\n");
    imp_comment(im, "torsocks refuses UDP (Tor carries none) but DNS, which goes to Tor as names");
    fprintf(im->out, "udp = block\n");
    if (ts->isolate) {
        imp_comment(im,
                    "IsolatePID 1 (line %d): a username per process (dialshim-PID-STARTTIME, "
                    "password 0; torsocks sends torsocks-PID:TIME), so Tor gives each process "
                    "circuits of its own%s",
                    ts->isolate_line,
                    ts->user[0] || ts->pass[0] ? "; SOCKS5Username/SOCKS5Password are left out"
                                               : "");
        fprintf(im->out, "isolate = process\n");
    } else if (ts->user[0] && ts->pass[0]) {
        fprintf(im->out, "username = %s\npassword = %s\n", ts->user, ts->pass);
    } else if (ts->user[0] || ts->pass[0]) {
        imp_comment(im,
                    "SOCKS5Username and SOCKS5Password go together: the one given (line %d) "
                    "is left out",
                    ts->user[0] ? ts->user_line : ts->pass_line);
    }
    fputc('\n', im->out);
}

static void put_app(struct imp *im, const struct ts *ts)
{
    static const char *const target[] = {"block", "localhost", "direct"};

    if (ts->localhost == 1)
        fprintf(im->out, "[dialer localhost]\ntype = direct\nudp = block\n\n");
    fprintf(im->out, "[app torsocks]\nmatch = *\ndialer = tor\n");
    imp_comment(im, "AllowOutboundLocalhost %d: loopback destinations %s", ts->localhost,
                ts->localhost == 0   ? "are refused"
                : ts->localhost == 1 ? "go direct over TCP, UDP is refused"
                                     : "go direct");
    fprintf(im->out, "route = cidr:127.0.0.0/8 -> %s\n", target[ts->localhost]);
    fprintf(im->out, "route = cidr:::1/128 -> %s\n", target[ts->localhost]);
}

void import_torsocks(struct imp *im, const char *text, size_t len)
{
    struct ts *ts = calloc(1, sizeof(*ts));
    char w[64], nm[160];
    bool ok;

    if (!ts) {
        fprintf(im->err, "dialshim: import: out of memory\n");
        return;
    }
    strcpy(ts->addr, "127.0.0.1");
    strcpy(ts->port, "9050");
    parse(im, ts, text, len);
    ok = imp_server(ts->addr, ts->port, ts->server, sizeof(ts->server));
    if (!ok)
        imp_warn(im, ts->addr_line,
                 "TorAddress '%s' TorPort '%s': not an address and port (a name is refused in "
                 "this build): 127.0.0.1:9050 is used",
                 imp_word(ts->addr, w, sizeof(w)), imp_word(ts->port, w + 32, 32));
    imp_comment(im,
                "Imported by dialshim import from %s (torsocks). Lines without an exact "
                "equivalent have a comment saying what was chosen instead.",
                escape_str(nm, sizeof(nm), im->name));
    imp_put_notes(im);
    fputc('\n', im->out);
    put_tor(im, ts, ok);
    put_app(im, ts);
    free(ts);
}
