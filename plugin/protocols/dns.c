/*
 * DNS message parsing: the header and the question section, with name
 * compression. Names are attacker-controlled: pointers may loop, point
 * forwards, or chain forever; labels may hold any byte. Pointers are only
 * followed backwards and at most a fixed number of times, and the wire
 * length is capped at 255 octets (RFC 1035). Backward pointers alone do not
 * rule out a loop (labels read forwards can lead back to the pointer): the
 * pointer count and the length cap are what end one.
 */
#include "protocols/protocols.h"

#include "common/buf.h"

#include <string.h>

#define MAX_POINTERS 64
#define MAX_WIRE_NAME 255

/* A byte of a label that is not plain text, as "\\ddd" (RFC 4343's form). */
static size_t escape(uint8_t c, char *out) {
    out[0] = '\\';
    out[1] = (char)('0' + c / 100);
    out[2] = (char)('0' + c / 10 % 10);
    out[3] = (char)('0' + c % 10);
    return 4;
}

/* A label's `lab` bytes at src after the n bytes of out[0..cap): a dot
 * first unless it is the first, escapes for what is not plain text, and
 * room left for the NUL. False when it does not fit. */
static bool put_label(const uint8_t *src, size_t lab, char *out, size_t cap, size_t *np) {
    size_t n = *np;
    if (n > 0) {
        if (n + 1 >= cap)
            return false;
        out[n++] = '.';
    }
    bool roomy = n + 4 * lab + 1 < cap; /* even if every byte is escaped: no check a byte */
    for (size_t i = 0; i < lab; i++) {
        uint8_t c = src[i];
        bool plain = c > 0x20 && c < 0x7F && c != '.' && c != '\\';
        if (!roomy && n + (plain ? 1 : 4) >= cap) /* the byte or its four, and the NUL */
            return false;
        if (plain)
            out[n++] = (char)c;
        else
            n += escape(c, out + n);
    }
    *np = n;
    return true;
}

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
        if (out != NULL && !put_label(msg + pos + 1, lab, out, cap, &n))
            return EMB_X_INVALID;
        pos += (size_t)lab + 1;
    }
    if (out != NULL) {
        if (n == 0) {
            if (cap < 2)
                return EMB_X_INVALID;
            out[n++] = '.'; /* the root */
        }
        out[n] = '\0';
    }
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

bool emb__dns_skip_name(const uint8_t *msg, size_t len, size_t *off) {
    size_t n;
    return emb__dns_name(msg, len, off, NULL, 0, &n) == EMB_X_OK;
}

/* Skips the question section; returns the offset after it, or 0 on error. */
static size_t skip_questions(const uint8_t *msg, size_t len, uint16_t qdcount) {
    size_t off = 12;
    for (uint16_t i = 0; i < qdcount; i++) {
        if (!emb__dns_skip_name(msg, len, &off) || !emb_have(len, off, 4))
            return 0;
        off += 4;
    }
    return off;
}

emb_x_result_t emb__dns_parse_records(const uint8_t *msg, size_t len, emb_dns_rr_t *rrs, size_t max,
                                      size_t *n) {
    uint16_t counts[4]; /* qd, an, ns, ar */
    *n = 0;
    if (len < 12)
        return EMB_X_TRUNCATED;
    for (int i = 0; i < 4; i++)
        emb_rd_be16(msg, len, 4 + 2 * (size_t)i, &counts[i]);
    size_t off = skip_questions(msg, len, counts[0]);
    if (off == 0)
        return EMB_X_INVALID;

    for (uint8_t section = 1; section <= 3; section++) {
        for (uint16_t i = 0; i < counts[section] && *n < max; i++) {
            emb_dns_rr_t *rr = &rrs[*n];
            uint16_t rdlen;
            if (emb__dns_name(msg, len, &off, rr->name, sizeof(rr->name), &rr->name_len) !=
                    EMB_X_OK ||
                !emb_rd_be16(msg, len, off, &rr->type) ||
                !emb_rd_be32(msg, len, off + 4, &rr->ttl) ||
                !emb_rd_be16(msg, len, off + 8, &rdlen))
                return EMB_X_OK;
            off += 10;
            if (!emb_have(len, off, rdlen))
                return EMB_X_OK;
            size_t rd = off, rd_end = off + rdlen;
            off = rd_end;
            if (rr->type == 41)
                continue; /* OPT: a pseudo-record with no name to speak of */
            rr->section = section;
            rr->family = 0;
            rr->target_len = 0;
            if (rr->type == 1 && rdlen == 4) {
                rr->family = 4;
                memcpy(rr->addr, msg + rd, 4);
            } else if (rr->type == 28 && rdlen == 16) {
                rr->family = 6;
                memcpy(rr->addr, msg + rd, 16);
            } else if (rr->type == 5 || rr->type == 2 || rr->type == 12 || rr->type == 15 ||
                       rr->type == 33) {
                /* MX has a 2-byte preference, SRV 6 bytes of priority/weight/port */
                size_t t = rd + (rr->type == 15 ? 2 : rr->type == 33 ? 6 : 0);
                /* The target must lie inside the rdata; pointers may leave it. */
                if (t >= rd_end ||
                    emb__dns_name(msg, len, &t, rr->target, sizeof(rr->target), &rr->target_len) !=
                        EMB_X_OK ||
                    t > rd_end)
                    rr->target_len = 0;
            }
            (*n)++;
        }
    }
    return EMB_X_OK;
}

emb_x_result_t emb__dns_answer_addrs(const uint8_t *msg, size_t len, emb_dns_addr_t *out,
                                     size_t *n) {
    uint16_t qdcount, ancount;
    *n = 0;
    if (len < 12)
        return EMB_X_TRUNCATED;
    emb_rd_be16(msg, len, 4, &qdcount);
    emb_rd_be16(msg, len, 6, &ancount);
    size_t off = skip_questions(msg, len, qdcount);
    if (off == 0)
        return EMB_X_INVALID;
    for (uint16_t i = 0, records = 0; i < ancount && records < EMB_DNS_MAX_RECORDS; i++) {
        uint16_t type, rdlen;
        uint32_t ttl;
        if (!emb__dns_skip_name(msg, len, &off) || !emb_rd_be16(msg, len, off, &type) ||
            !emb_rd_be32(msg, len, off + 4, &ttl) || !emb_rd_be16(msg, len, off + 8, &rdlen))
            break;
        off += 10;
        if (!emb_have(len, off, rdlen))
            break;
        size_t rd = off;
        off += rdlen;
        if (type == 41)
            continue; /* OPT: not counted, as emb__dns_parse_records does not keep it */
        records++;
        if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
            emb_dns_addr_t *a = &out[(*n)++];
            a->family = type == 1 ? 4 : 6;
            a->ttl = ttl;
            memcpy(a->addr, msg + rd, rdlen);
        }
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
