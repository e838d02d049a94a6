/*
 * libFuzzer target: the STARTTLS follower. The input is both directions of
 * a session: a 2-byte big-endian length, that many bytes from the client,
 * the rest from the server. Every cut of the client's bytes is tried too, as
 * the stream would grow, and an answer of OK must point inside what it read.
 */
#include "protocols/protocols.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    size_t clen = (size_t)data[0] << 8 | data[1];
    const uint8_t *c = data + 2;
    if (clen > size - 2)
        clen = size - 2;
    const uint8_t *s = c + clen;
    size_t slen = size - 2 - clen;
    bool more;
    (void)emb__starttls_detect(c, clen, true, &more);
    (void)emb__starttls_detect(s, slen, false, &more);
    for (size_t cut = 0; cut <= clen; cut += 1 + clen / 16) {
        emb_starttls_t st;
        if (emb__starttls_find(c, cut, s, slen, &st) == EMB_X_OK &&
            (st.client_tls > cut || st.server_tls > slen))
            abort();
    }
    return 0;
}
