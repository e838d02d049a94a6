/*
 * libFuzzer target: HTTP/1.x request and response heads, and the header
 * block end finder the stream parser relies on.
 */
#include "protocols/protocols.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    emb_http_request_t req;
    emb_http_response_t resp;
    (void)emb__http_header_end(data, size);
    (void)emb__http_parse_request(data, size, &req);
    (void)emb__http_parse_response(data, size, &resp);
    return 0;
}
