#include "common/dialer/learn.h"

#include "common/nobss.h"

#include <stdint.h>

/* LEARN_LOCKSTEP or LEARN_PIPELINED in the low bits (LEARN_MODE), and
 * LEARN_USERPASS beside either. */
enum { LEARN_NOTHING, LEARN_LOCKSTEP, LEARN_PIPELINED, LEARN_MODE = 3, LEARN_USERPASS = 4 };
static uint8_t learned_mode[LEARN_MAX] NOBSS;

static int learned_bits(int dialer)
{
    return dialer < LEARN_MAX ? __atomic_load_n(&learned_mode[dialer], __ATOMIC_RELAXED)
                              : LEARN_NOTHING;
}

static void learn_as(int dialer, int mode)
{
    uint8_t old;

    if (dialer >= LEARN_MAX)
        return;
    old = __atomic_load_n(&learned_mode[dialer], __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&learned_mode[dialer], &old,
                                        (uint8_t)((old & LEARN_USERPASS) | mode), true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

bool learn_may_pipeline(const struct conf_dialer *p, int dialer)
{
    int bits = learned_bits(dialer);

    if (p->handshake == HANDSHAKE_PIPELINED)
        return true;
    if (p->handshake != HANDSHAKE_AUTO || (bits & LEARN_MODE) == LEARN_LOCKSTEP)
        return false;
    return !(p->type == DIALER_SOCKS5 && p->has_auth) || (bits & LEARN_USERPASS);
}

bool learn_proven(int dialer)
{
    return (learned_bits(dialer) & LEARN_MODE) == LEARN_PIPELINED;
}

void learn_pipelined(int dialer)
{
    learn_as(dialer, LEARN_PIPELINED);
}

void learn_lockstep(int dialer)
{
    learn_as(dialer, LEARN_LOCKSTEP);
}

void learn_userpass(int dialer)
{
    if (dialer < LEARN_MAX)
        __atomic_fetch_or(&learned_mode[dialer], LEARN_USERPASS, __ATOMIC_RELAXED);
}
