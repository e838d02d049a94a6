/*
 * libFuzzer target: a TLS ClientHello. The first byte picks the form: a
 * handshake body for the JA4 parser (TLS or QUIC flavour), or a whole
 * record for the SNI finder the engine runs on a first TLS packet.
 */
#include "protocols/protocols.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    if (mode & 1) {
        const uint8_t *sni;
        size_t sni_len;
        (void)emb__tls_client_hello_sni(data, size, &sni, &sni_len);
    } else {
        emb_tls_hello_t h;
        (void)emb__tls_client_hello(data, size, (mode & 2) != 0, &h);
    }
    return 0;
}
