/* libFuzzer: import_text (tools/import.c), dialshim import on any bytes read as a
 * proxychains.conf or a torsocks.conf.
 *
 * Checked: 0, or 2 exactly when import_detect finds neither format; on 0 the INI
 * written loads (conf_load_string reports no error), every line of it is shorter
 * than 200 bytes and ends in a newline; every message on the error stream is one
 * "in.conf:LINE: " line with LINE inside the input. The input is a heap copy of
 * exactly its size (fuzz_copy), so a read past the length is caught. */
#include "conf/conf.h"
#include "tests/fuzz/fuzz.h"
#include "tools/import.h"

static void on_conf(void *ctx, const char *file, int line, const char *msg)
{
    const char *out = ctx;

    FUZZ_CHECK(strncmp(msg, "warning: ", 9) == 0, "output does not load: %s:%d: %s\n%s", file, line,
               msg, out);
}

static void check_lines(const char *out, size_t len)
{
    for (const char *p = out; p < out + len;) {
        const char *nl = memchr(p, '\n', (size_t)(out + len - p));
        FUZZ_CHECK(nl, "output's last line has no newline");
        FUZZ_CHECK(nl - p < 200, "an output line of %d bytes", (int)(nl - p));
        p = nl + 1;
    }
}

static void check_errors(const char *err, size_t len, int lines)
{
    for (const char *p = err; p < err + len;) {
        const char *nl = memchr(p, '\n', (size_t)(err + len - p));
        int line = -1;
        FUZZ_CHECK(nl, "error stream's last line has no newline");
        FUZZ_CHECK(sscanf(p, "in.conf:%d: ", &line) == 1 && line >= 0 && line <= lines,
                   "message '%.*s' (input of %d lines)", (int)(nl - p), p, lines);
        p = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = (char *)fuzz_copy(data, size), *out = NULL, *err = NULL;
    size_t nout = 0, nerr = 0;
    FILE *fo = open_memstream(&out, &nout), *fe = open_memstream(&err, &nerr);
    int lines = 1, rc;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    rc = import_text("in.conf", in, size, fo, fe);
    fclose(fo);
    fclose(fe);
    FUZZ_CHECK(rc == 0 || rc == 2, "exit status %d", rc);
    FUZZ_CHECK((rc == 2) == (import_detect(in, size) == IMPORT_UNKNOWN), "rc %d", rc);
    check_errors(err, nerr, lines);
    if (rc == 0) {
        struct conf *c;
        check_lines(out, nout);
        c = conf_load_string("out.ini", out, on_conf, out);
        FUZZ_CHECK(c, "output does not load:\n%s", out);
        conf_free(c);
    }
    free(out);
    free(err);
    free(in);
    return 0;
}
