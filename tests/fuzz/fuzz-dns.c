/*
 * libFuzzer target: a DNS message (UDP payload) through the question and
 * record parsers, as the engine calls them; a name read, stepped over, and
 * read into exactly enough room must agree; the answers' addresses walked
 * without names (emb__dns_answer_addrs) must be those the record parser
 * gives.
 */
#include "protocols/protocols.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static emb_dns_question_t qs[EMB_DNS_MAX_QUESTIONS];
static emb_dns_rr_t rrs[EMB_DNS_MAX_RECORDS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    emb_dns_header_t hdr;
    size_t nq = 0, nrr = 0;
    if (emb__dns_parse(data, size, &hdr, qs, EMB_DNS_MAX_QUESTIONS, &nq) == EMB_X_OK) {
        emb_x_result_t rc = emb__dns_parse_records(data, size, rrs, EMB_DNS_MAX_RECORDS, &nrr);
        emb_dns_addr_t addrs[EMB_DNS_MAX_RECORDS];
        size_t na = 0, k = 0;
        if (emb__dns_answer_addrs(data, size, addrs, &na) != rc)
            abort();
        for (size_t i = 0; i < nrr; i++) {
            if (rrs[i].section != 1 || rrs[i].family == 0)
                continue;
            const emb_dns_addr_t *a = &addrs[k++];
            if (k > na || a->family != rrs[i].family || a->ttl != rrs[i].ttl ||
                memcmp(a->addr, rrs[i].addr, a->family == 4 ? 4 : 16) != 0)
                abort();
        }
        if (k != na)
            abort();
    }
    /* A name anywhere in the message, as compression pointers would reach it. */
    if (size > 2) {
        size_t off = data[0] % size;
        char name[EMB_DNS_NAME_MAX];
        size_t name_len;
        size_t at = off, skipped = off;
        emb_x_result_t rc = emb__dns_name(data, size, &off, name, sizeof(name), &name_len);
        /* stepping over it agrees with reading it */
        if (emb__dns_skip_name(data, size, &skipped) != (rc == EMB_X_OK) ||
            (rc == EMB_X_OK && skipped != off))
            abort();
        /* read into exactly enough room (the byte-by-byte path): the same
         * name; into one byte less: refused */
        if (rc == EMB_X_OK) {
            char small[EMB_DNS_NAME_MAX];
            size_t n2 = 0, o2 = at;
            if (emb__dns_name(data, size, &o2, small, name_len + 1, &n2) != EMB_X_OK ||
                n2 != name_len || memcmp(small, name, n2) != 0 || o2 != off)
                abort();
            o2 = at;
            if (emb__dns_name(data, size, &o2, small, name_len, &n2) != EMB_X_INVALID)
                abort();
        }
    }
    return 0;
}
