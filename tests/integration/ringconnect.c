/* ringconnect HOST PORT: a TCP connect made through io_uring (IORING_OP_CONNECT), the
 * way a program that uses a ring for its I/O connects: no connect(2) call at all.
 * The ring is set up with syscall(SYS_io_uring_setup), as liburing and libuv do.
 * Prints `setup=ok` or `setup=ERRNO`, then `connect=ok` or `connect=ERRNO`, then
 * `reply=...` (the first bytes the server sent). Exit status 0 when it printed. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ring {
    int fd;
    unsigned *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
};

static int ring_setup(struct ring *r)
{
    struct io_uring_params p;
    char *sq, *cq;

    memset(&p, 0, sizeof(p));
    r->fd = (int)syscall(SYS_io_uring_setup, 4, &p);
    if (r->fd < 0)
        return -1;
    sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
              PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
    r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
        return -1;
    r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
    r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + p.sq_off.array);
    r->cq_head = (unsigned *)(cq + p.cq_off.head);
    r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
    r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    return 0;
}

/* One IORING_OP_CONNECT of FD to SA, waited for; returns the completion's result. */
static int ring_connect(struct ring *r, int fd, const struct sockaddr_in *sa)
{
    unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;
    struct io_uring_sqe *sqe = &r->sqes[idx];
    int res;

    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = IORING_OP_CONNECT;
    sqe->fd = fd;
    sqe->addr = (unsigned long)sa;
    sqe->off = sizeof(*sa);
    r->sq_array[idx] = idx;
    atomic_store_explicit((_Atomic unsigned *)r->sq_tail, tail + 1, memory_order_release);
    if (syscall(SYS_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
        return -errno;
    head = *r->cq_head;
    if (head == atomic_load_explicit((_Atomic unsigned *)r->cq_tail, memory_order_acquire))
        return -EAGAIN;
    res = r->cqes[head & *r->cq_mask].res;
    atomic_store_explicit((_Atomic unsigned *)r->cq_head, head + 1, memory_order_release);
    return res;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct ring r;
    char buf[128];
    ssize_t n;
    int fd, res;

    if (argc != 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "usage: ringconnect IPV4 PORT\n");
        return 2;
    }
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    if (ring_setup(&r) < 0) {
        printf("setup=%s\n", strerrorname_np(errno));
        return 0;
    }
    printf("setup=ok\n");
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return 1;
    res = ring_connect(&r, fd, &sa);
    printf("connect=%s\n", res < 0 ? strerrorname_np(-res) : "ok");
    if (res == 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        printf("reply=%s\n", buf);
    }
    return 0;
}
