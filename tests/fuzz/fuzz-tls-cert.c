/*
 * libFuzzer target: a TLS 1.2 Certificate handshake body (the certificate
 * list), whose leaf goes through the X.509 decoder; with the first byte odd
 * the rest is given to the DER decoder directly.
 */
#include "protocols/protocols.h"

#include <stddef.h>
#include <stdint.h>

static emb_tls_cert_t cert;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    if (data[0] & 1)
        (void)emb__x509_decode(data + 1, size - 1, &cert);
    else
        (void)emb__tls_certificate(data + 1, size - 1, &cert);
    return 0;
}
