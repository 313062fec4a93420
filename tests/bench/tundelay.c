/* tundelay: a user-space delay line on a TUN device, for round-trip time without netem.
 *
 *   tundelay IFNAME DELAY_MS [LIFE_S]
 *
 * Creates the TUN device IFNAME (IFF_TUN | IFF_NO_PI) in the caller's network
 * namespace, prints "ready" on stdout once it exists, then holds every packet it
 * reads for DELAY_MS (a decimal, e.g. 25 or 12.5) and writes it back to the same
 * device, in order. The caller routes forwarded traffic into the device (policy
 * rules on the input interfaces); what comes back out is received on IFNAME and
 * routed on by the main table. Each packet crossing the router once gets one
 * DELAY_MS, so a round trip through it costs 2 x DELAY_MS.
 *
 * Exits on SIGTERM/SIGINT, or by itself after LIFE_S seconds (default 600): it can
 * never outlive a benchmark by long. The device disappears with the process.
 * Prints "packets=N dropped=N" on stderr when it ends. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 4096 /* packets in flight: 4096 x 2 KiB */
#define SLOT_BYTES 2048

struct slot {
    int64_t due;
    uint16_t len;
    uint8_t buf[SLOT_BYTES];
};

static struct slot q[SLOTS];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    struct ifreq ifr;
    struct sigaction sa;
    unsigned head = 0, count = 0;
    unsigned long long packets = 0, dropped = 0;
    int64_t delay, end;
    int fd;

    if (argc < 3 || strlen(argv[1]) >= IFNAMSIZ) {
        fprintf(stderr, "usage: tundelay IFNAME DELAY_MS [LIFE_S]\n");
        return 2;
    }
    delay = (int64_t)(atof(argv[2]) * 1e6);
    end = now_ns() + (argc > 3 ? atoll(argv[3]) : 600) * 1000000000LL;
    if (delay < 0 || delay > 10000000000LL) {
        fprintf(stderr, "tundelay: delay out of range\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake when asked, not up to 50 us later */

    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        perror("tundelay: /dev/net/tun");
        return 1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strcpy(ifr.ifr_name, argv[1]);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        perror("tundelay: TUNSETIFF");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);

    while (!stop) {
        int64_t t = now_ns(), wait;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        struct timespec ts;

        if (t >= end)
            break;
        /* send everything that is due, in arrival order */
        while (count && q[head].due <= t) {
            if (write(fd, q[head].buf, q[head].len) < 0)
                dropped++;
            head = (head + 1) % SLOTS;
            count--;
        }
        wait = count ? q[head].due - t : 100000000LL; /* idle: look at stop/end every 0.1 s */
        if (end - t < wait)
            wait = end - t;
        ts.tv_sec = wait / 1000000000LL;
        ts.tv_nsec = wait % 1000000000LL;
        if (ppoll(&p, 1, &ts, NULL) <= 0)
            continue;
        /* take everything the device has, stamped with the time it arrived */
        for (;;) {
            struct slot *s;
            ssize_t n;

            if (count == SLOTS) { /* full: read and drop, as a full router queue does */
                uint8_t junk[SLOT_BYTES];
                if (read(fd, junk, sizeof(junk)) < 0)
                    break;
                dropped++;
                continue;
            }
            s = &q[(head + count) % SLOTS];
            n = read(fd, s->buf, sizeof(s->buf));
            if (n <= 0)
                break;
            s->len = (uint16_t)n;
            s->due = now_ns() + delay;
            count++;
            packets++;
        }
    }
    fprintf(stderr, "tundelay: packets=%llu dropped=%llu\n", packets, dropped);
    return 0;
}
