#include "common/hostbits.h"

void clear_host_bits(uint8_t *a, size_t alen, int prefix)
{
    for (size_t i = 0; i < alen; i++) {
        int keep = prefix - (int)i * 8;
        if (keep <= 0)
            a[i] = 0;
        else if (keep < 8)
            a[i] &= (uint8_t)(0xff << (8 - keep));
    }
}
