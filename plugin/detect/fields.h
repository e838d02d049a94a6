/*
 * Field kinds and evidence kinds as enums with one table of names
 * (fields.c): the hot path passes the enum, names are looked up only when
 * an alert is written.
 */
#ifndef EMB_DETECT_FIELDS_H
#define EMB_DETECT_FIELDS_H

#include "embargo/embargo.h"

#include <stdbool.h>

/*
 * What an alert rests on: an emb_field_t (0 .. EMB_FIELD__COUNT-1) whose
 * value matched, or one of the facts below.
 */
typedef enum {
    EMB_EV_IP = EMB_FIELD__COUNT, /* an address of the flow is in a rule's CIDR */
    EMB_EV_PORT,                  /* the server port is in a rule's range */
    EMB_EV_DNS_ATTRIBUTION,       /* the server's address was resolved from a vendor name */
    EMB_EV__COUNT
} emb_evidence_t;

/* The evidence of a field that matched. */
static inline emb_evidence_t emb__field_evidence(emb_field_t f) {
    return (emb_evidence_t)f;
}

/* "dns.query", "ip", "dns.attribution", ...; "unknown" out of range. */
const char *emb__evidence_name(emb_evidence_t ev);
/* The name of a field kind (the same table). */
const char *emb__field_name(emb_field_t f);

/* True when indicators of `key` are matched against field `f`. */
bool emb__key_feeds_field(emb_key_t key, emb_field_t f);

/* True for the fields in which a device describes itself (http.server ...
 * mac): the device is the sender of the message, whichever side it is. */
bool emb__field_is_device(emb_field_t f);

#endif /* EMB_DETECT_FIELDS_H */
