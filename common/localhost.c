#include "common/localhost.h"

#include <string.h>
#include <strings.h>

bool is_localhost(const char *name)
{
    static const char lh[] = "localhost";
    size_t n = strlen(name), l = sizeof(lh) - 1;

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n < l || strncasecmp(name + n - l, lh, l) != 0)
        return false;
    return n == l || name[n - l - 1] == '.';
}
