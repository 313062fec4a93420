/* firstcall: connect(fd, NULL, 0) as the program's very first network call (no
 * hook has run yet: socketpair is not hooked). Prints `result=N errno=NAME`; the
 * kernel answers EINVAL for a unix socket. Exit status 0 unless the probe itself
 * could not run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int main(void)
{
    int sv[2], r;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 2;
    r = connect(sv[0], NULL, 0);
    printf("result=%d errno=%s\n", r, r < 0 ? strerrorname_np(errno) : "none");
    return 0;
}
