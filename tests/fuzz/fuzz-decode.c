/*
 * libFuzzer target: the packet decoder from the link layer up (emb__decode),
 * then, for a fragment, the reassembled-datagram decoder on its own bytes.
 * The first input byte picks the link type from the ones a pcap can carry
 * (and two the engine does not decode); the rest is the frame.
 */
#include "packet/decode.h"

#include <embargo/embargo.h>
#include <stddef.h>
#include <stdint.h>

static const int linktypes[] = {EMB_LINK_ETHERNET,
                                EMB_LINK_RAW,
                                EMB_LINK_NULL,
                                EMB_LINK_LOOP,
                                EMB_LINK_LINUX_SLL,
                                EMB_LINK_IPV4,
                                EMB_LINK_IPV6,
                                EMB_LINK_LINUX_SLL2,
                                12,
                                14,
                                147,
                                -1};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int link = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
    emb_decoded_t d;
    emb_dec_result_t r = emb__decode(link, data + 1, size - 1, &d);
    if (r == EMB_DEC_FRAGMENT && d.frag_data != NULL) {
        /* Treat the fragment's bytes as a whole datagram, as defrag would hand them. */
        emb_decoded_t inner;
        (void)emb__decode_datagram(&d, d.frag_data, d.frag_len, &inner);
    }
    if (r == EMB_DEC_OK && d.payload_len > 0) {
        /* Touch every payload byte so ASan checks the slice is in the input. */
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < d.payload_len; i++)
            sink ^= d.payload[i];
        (void)sink;
    }
    return 0;
}
