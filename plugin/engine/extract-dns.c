/*
 * DNS message parsing: the header and the question section, with name
 * compression. Names are attacker-controlled: pointers may loop, point
 * forwards, or chain forever; labels may hold any byte. Pointers are only
 * followed backwards and at most a fixed number of times, and the wire
 * length is capped at 255 octets (RFC 1035). Backward pointers alone do not
 * rule out a loop (labels read forwards can lead back to the pointer): the
 * pointer count and the length cap are what end one.
 */
#include "extract.h"

#include "util-buf.h"

#include <stdio.h>
#include <string.h>

#define MAX_POINTERS 64
#define MAX_WIRE_NAME 255

emb_x_result_t emb__dns_name(const uint8_t *msg, size_t len, size_t *off, char *out, size_t cap,
                             size_t *out_len) {
    size_t pos = *off, n = 0, wire = 0;
    size_t end_pos = 0; /* where the name ends in place: after its first pointer */
    bool jumped = false;
    int pointers = 0;

    for (;;) {
        uint8_t lab;
        if (!emb_rd_u8(msg, len, pos, &lab))
            return EMB_X_TRUNCATED;
        if ((lab & 0xC0) == 0xC0) {
            uint8_t lo;
            if (!emb_rd_u8(msg, len, pos + 1, &lo))
                return EMB_X_TRUNCATED;
            size_t target = (size_t)(lab & 0x3F) << 8 | lo;
            if (target >= pos || ++pointers > MAX_POINTERS)
                return EMB_X_INVALID;
            if (!jumped) {
                end_pos = pos + 2;
                jumped = true;
            }
            pos = target;
            continue;
        }
        if (lab & 0xC0)
            return EMB_X_INVALID; /* 0x40 and 0x80 label types are obsolete */
        if (lab == 0) {
            if (!jumped)
                end_pos = pos + 1;
            break;
        }
        wire += (size_t)lab + 1;
        if (wire + 1 > MAX_WIRE_NAME) /* + 1: the final zero octet counts too */
            return EMB_X_INVALID;
        if (!emb_have(len, pos + 1, lab))
            return EMB_X_TRUNCATED;
        if (n > 0) {
            if (n + 1 >= cap)
                return EMB_X_INVALID;
            out[n++] = '.';
        }
        for (size_t i = 0; i < lab; i++) {
            uint8_t c = msg[pos + 1 + i];
            if (c > 0x20 && c < 0x7F && c != '.' && c != '\\') {
                if (n + 1 >= cap)
                    return EMB_X_INVALID;
                out[n++] = (char)c;
            } else {
                if (n + 5 >= cap)
                    return EMB_X_INVALID;
                n += (size_t)snprintf(out + n, cap - n, "\\%03u", c);
            }
        }
        pos += (size_t)lab + 1;
    }
    if (n == 0) {
        if (cap < 2)
            return EMB_X_INVALID;
        out[n++] = '.'; /* the root */
    }
    out[n] = '\0';
    *out_len = n;
    *off = end_pos;
    return EMB_X_OK;
}

emb_x_result_t emb__dns_parse(const uint8_t *msg, size_t len, emb_dns_header_t *hdr,
                              emb_dns_question_t *qs, size_t max, size_t *nq) {
    uint16_t flags;
    *nq = 0;
    if (len < 12)
        return EMB_X_TRUNCATED;
    emb_rd_be16(msg, len, 0, &hdr->id);
    emb_rd_be16(msg, len, 2, &flags);
    emb_rd_be16(msg, len, 4, &hdr->qdcount);
    emb_rd_be16(msg, len, 6, &hdr->ancount);
    hdr->qr = flags >> 15;
    hdr->opcode = (flags >> 11) & 0x0F;
    hdr->rd = (flags >> 8) & 1;
    /* Opcodes above 6 are unassigned; a message that is all zeros or garbage
     * often lands here, so refuse it rather than log nonsense. */
    if (hdr->opcode > 6)
        return EMB_X_INVALID;

    size_t off = 12;
    for (size_t i = 0; i < hdr->qdcount && *nq < max; i++) {
        emb_dns_question_t *q = &qs[*nq];
        emb_x_result_t rc = emb__dns_name(msg, len, &off, q->name, sizeof(q->name), &q->name_len);
        if (rc != EMB_X_OK)
            return *nq > 0 ? EMB_X_OK : rc;
        if (!emb_rd_be16(msg, len, off, &q->qtype) || !emb_have(len, off, 4))
            return *nq > 0 ? EMB_X_OK : EMB_X_TRUNCATED;
        off += 4;
        (*nq)++;
    }
    return EMB_X_OK;
}

const char *emb__dns_rrtype_name(uint16_t type) {
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 43: return "DS";
    case 46: return "RRSIG";
    case 48: return "DNSKEY";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 255: return "ANY";
    default: return NULL;
    }
}
