/*
 * libFuzzer target: a DNS message (UDP payload) through the question and
 * record parsers, as the engine calls them.
 */
#include "protocols/protocols.h"

#include <stddef.h>
#include <stdint.h>

static emb_dns_question_t qs[EMB_DNS_MAX_QUESTIONS];
static emb_dns_rr_t rrs[EMB_DNS_MAX_RECORDS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    emb_dns_header_t hdr;
    size_t nq = 0, nrr = 0;
    if (emb__dns_parse(data, size, &hdr, qs, EMB_DNS_MAX_QUESTIONS, &nq) == EMB_X_OK)
        (void)emb__dns_parse_records(data, size, rrs, EMB_DNS_MAX_RECORDS, &nrr);
    /* A name anywhere in the message, as compression pointers would reach it. */
    if (size > 2) {
        size_t off = data[0] % size;
        char name[EMB_DNS_NAME_MAX];
        size_t name_len;
        (void)emb__dns_name(data, size, &off, name, sizeof(name), &name_len);
    }
    return 0;
}
