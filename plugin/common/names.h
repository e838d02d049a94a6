/*
 * Normalisation of domain-valued text (DNS names, SNI, certificate names,
 * HTTP Host), shared by the rule loader (patterns) and detection (fields),
 * so that both sides of a comparison are written the same way.
 */
#ifndef EMB_COMMON_NAMES_H
#define EMB_COMMON_NAMES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Lower-cases a domain-valued field into `out` and drops one trailing dot.
 * Returns the length written (at most cap; longer input is cut).
 */
size_t emb__normalize_name(const uint8_t *in, size_t len, char *out, size_t cap);
/*
 * Splits an HTTP Host value into name and port: *name_len is the length of
 * the name part (brackets of "[v6]" included), *port the port or 0 if none.
 * A suffix that is not a valid port stays part of the name.
 */
void emb__host_split(const uint8_t *in, size_t len, size_t *name_len, size_t *port);
/* Like emb__normalize_name, for an HTTP Host value: also drops ":port" and []. */
size_t emb__normalize_host(const uint8_t *in, size_t len, char *out, size_t cap);

/* The value of a hex digit, or -1. */
int emb__hexval(int c);

/* A MAC address as "AA:BB:CC:DD:EE:FF" (17 characters and a NUL). */
void emb__mac_text(const uint8_t mac[6], char out[18]);

#endif /* EMB_COMMON_NAMES_H */
