/*
 * Matching rounds (round.c): scan the fields of one message, turn the hits
 * into candidate rules, apply precedence, write the alerts.
 */
#ifndef EMB_DETECT_ROUND_H
#define EMB_DETECT_ROUND_H

#include "detect/state.h"

/* The flow facts ip/port conditions look at, from a flow or from a host. */
typedef struct emb_endpoints {
    uint8_t family, proto;
    const uint8_t *cli, *srv;
    uint16_t srv_port;
} emb_endpoints_t;

emb_endpoints_t emb__flow_endpoints(const emb_flow_t *f);

/* Starts a round: forgets the hits, candidates and protocol info of the last. */
void emb__round_begin(emb_engine_t *e);
/* Scans one field value (as is). 0 or EMB_EHS. */
int emb__round_scan(emb_engine_t *e, emb_field_t f, const void *p, size_t n);
/* Scans payload bytes, `at` a place in their stream (the `^` of a regex). */
int emb__round_scan_payload(emb_engine_t *e, const void *p, size_t n, emb_payload_at_t at);
/* Scans a value a device gave of itself (cut to EMB_DEV_VALUE_MAX) and keeps
 * it under `name` for the alert's device object; NULL or empty: nothing. */
int emb__round_scan_device(emb_engine_t *e, emb_field_t f, const char *name, const void *p,
                           size_t n);
/* Normalises a domain-valued field (name or HTTP Host) and scans it. */
int emb__round_scan_name(emb_engine_t *e, emb_field_t f, const void *p, size_t n, bool host);
/* Turns the hits into candidates (ip/port checked against the current flow). */
void emb__round_collect(emb_engine_t *e);
/* Writes the candidates as alerts for the current packet, once per rule per flow. */
int emb__round_emit(emb_engine_t *e);
/* collect + emit */
int emb__round_end(emb_engine_t *e);

/* Adds rule `rule` as a candidate of this round, resting on `ev` (the first
 * alternative to hold speaks for the rule). */
void emb__round_add_candidate(emb_engine_t *e, uint32_t rule, emb_evidence_t ev, const char *value,
                              size_t value_len, uint32_t spec);
/* Candidates from the alternatives made only of ip/port conditions. */
void emb__round_flow_alts(emb_engine_t *e, const emb_endpoints_t *ep);
/* Candidates from the alternatives whose content conditions all matched. */
void emb__round_hits(emb_engine_t *e, const emb_endpoints_t *ep);
/* Drops the candidates a better one of the same vendor covers. */
void emb__round_precedence(emb_engine_t *e);
/* A round of the ip/port-only rules for the current flow: before it is a
 * conversation those of rules with `established: false` (on its first
 * packet), after that the others (docs/flows.md); again after re-orientation. */
int emb__round_flow_rules(emb_engine_t *e);
/* True when `addr` is in an `ip` indicator of a rule of `vendor`: the
 * vendor's own ranges, which make a DNS attribution more than a guess. */
bool emb__round_vendor_owns(const emb_rules_t *r, uint32_t vendor, int family, const uint8_t *addr);
/* "handshake", "both directions", "one direction only"; NULL for none. */
const char *emb__flow_evidence_name(uint8_t evidence);

#endif /* EMB_DETECT_ROUND_H */
