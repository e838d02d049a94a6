/*
 * Normalisation of domain-valued text: lower case, no trailing dot, and the
 * name part of an HTTP Host value.
 */
#include "common/names.h"

#include <string.h>

size_t emb__normalize_name(const uint8_t *in, size_t len, char *out, size_t cap) {
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len > cap)
        len = cap;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    return len;
}

void emb__host_split(const uint8_t *in, size_t len, size_t *name_len, size_t *port) {
    *name_len = len;
    *port = 0;
    size_t colon;
    if (len > 0 && in[0] == '[') {
        /* "[v6]" or "[v6]:port" */
        size_t end = 1;
        while (end < len && in[end] != ']')
            end++;
        if (end == len)
            return;
        *name_len = end + 1;
        colon = end + 1;
        if (colon == len)
            return;
        if (in[colon] != ':') {
            *name_len = len;
            return;
        }
    } else {
        /* One colon only: a bare IPv6 address has several and keeps them. */
        const uint8_t *c = memchr(in, ':', len);
        if (c == NULL || memchr(c + 1, ':', len - (size_t)(c - in) - 1) != NULL)
            return;
        colon = (size_t)(c - in);
    }
    size_t v = 0, i = colon + 1;
    if (i == len || len - i > 5)
        return;
    for (; i < len; i++) {
        if (in[i] < '0' || in[i] > '9')
            return;
        v = v * 10 + (size_t)(in[i] - '0');
    }
    if (v > 65535)
        return;
    *name_len = colon;
    *port = v;
}

size_t emb__normalize_host(const uint8_t *in, size_t len, char *out, size_t cap) {
    size_t name_len, port;
    emb__host_split(in, len, &name_len, &port);
    if (name_len >= 2 && in[0] == '[' && in[name_len - 1] == ']')
        return emb__normalize_name(in + 1, name_len - 2, out, cap);
    return emb__normalize_name(in, name_len, out, cap);
}

int emb__hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void emb__mac_text(const uint8_t mac[6], char out[18]) {
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < 6; i++) {
        out[i * 3] = hex[mac[i] >> 4];
        out[i * 3 + 1] = hex[mac[i] & 15];
        out[i * 3 + 2] = i < 5 ? ':' : '\0';
    }
}
