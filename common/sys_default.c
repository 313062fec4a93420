/* The libc functions by name, for programs that are not preloaded (the dialshim
 * tool, unit tests). Never referenced by the shim, so the linker leaves this file
 * out of libdialshim.so, where these names would be the shim's own hooks. */
#include "common/sys.h"

#include <unistd.h>

void sys_init_default(void)
{
    sys.socket = socket;
    sys.connect = connect;
    sys.close = close;
    sys.read = read;
    sys.recv = recv;
    sys.recvfrom = recvfrom;
    sys.recvmsg = recvmsg;
    sys.sendto = sendto;
    sys.sendmsg = sendmsg;
    sys.getaddrinfo = getaddrinfo;
    sys.freeaddrinfo = freeaddrinfo;
    sys.getnameinfo = getnameinfo;
    sys.gethostbyname = gethostbyname;
    sys.gethostbyname2 = gethostbyname2;
    sys.gethostbyname_r = gethostbyname_r;
    sys.gethostbyname2_r = gethostbyname2_r;
    sys.gethostbyaddr = gethostbyaddr;
    sys.gethostbyaddr_r = gethostbyaddr_r;
}
