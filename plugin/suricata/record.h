/*
 * One EVE record as Suricata hands it to an EVE filetype: scanned, checked,
 * and turned into the facts embargo matches (flow endpoints and the names
 * Suricata's own parsers extracted), and the alert record written after it.
 * Nothing here depends on Suricata's headers or allocates, so the unit tests
 * feed it hostile input directly (tests/suricata/test-record.c).
 */
#ifndef EMBARGO_SURICATA_RECORD_H
#define EMBARGO_SURICATA_RECORD_H

#include <embargo/embargo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Facts kept from one record; more names than this are ignored. */
#define EMBARGO_RECORD_MAX_FACTS 48
/* Array elements looked at per list (dns.answers, dns.queries, grouped names). */
#define EMBARGO_RECORD_MAX_ITEMS 64
/* Bytes for names that carried JSON escapes and had to be decoded; a name
 * that no longer fits is left out. Names without escapes point into the record. */
#define EMBARGO_RECORD_SCRATCH 4096
/* Deepest nesting of arrays and objects accepted; deeper records are invalid. */
#define EMBARGO_RECORD_MAX_DEPTH 512

typedef enum {
    EMBARGO_REC_OTHER = 0, /* an event type embargo does not match (alert, stats, ...) */
    EMBARGO_REC_DNS,
    EMBARGO_REC_TLS,
    EMBARGO_REC_HTTP,
    EMBARGO_REC_QUIC,
    EMBARGO_REC_FLOW,
} EmbargoRecordType;

/* Bit masks of EmbargoRecordType, for EmbargoRecordParseTypes. */
#define EMBARGO_REC_MASK(t) (1u << (t))
#define EMBARGO_REC_ALL 0x3eu
/* With EMBARGO_REC_FLOW: a flow record is read for its endpoints only, and
 * not checked (EMBARGO_PARSE_HEADER). Its facts are all a flow record gives
 * the engine; when they raise nothing, checking the rest is work for nothing. */
#define EMBARGO_REC_FLOW_HEADER 0x100u
/* A record of ours is read by its quotes and brackets alone, not checked
 * whole: each value taken as a fact is checked on its own (a string that is
 * not one counts as absent), and r->unchecked says the rest was not.
 * EmbargoRecordCheck must pass before any of it is copied into an alert
 * (EmbargoRecordAlertWrite refuses until then). On a record Suricata wrote,
 * the facts are the same either way (fuzz-record compares them); the check
 * is then paid only by the records that raise a rule. */
#define EMBARGO_REC_UNCHECKED 0x200u

typedef enum {
    EMBARGO_PARSE_OK = 0,  /* facts filled in: match them */
    EMBARGO_PARSE_SKIP,    /* not a type we match, or a flow record no rule can hold on
                            * (EmbargoRecordParseFlows): nothing to do */
    EMBARGO_PARSE_TOOBIG,  /* longer than the limit: written, not matched */
    EMBARGO_PARSE_INVALID, /* not JSON, not an object, not UTF-8, or too deep */
    EMBARGO_PARSE_HEADER,  /* EMBARGO_REC_FLOW_HEADER: endpoints filled in, the record not
                            * checked: match them; parse again without it before using more */
} EmbargoParseResult;

/* A slice of the record text: `len` bytes at `off`; len 0 means absent. */
typedef struct {
    uint32_t off, len;
} EmbargoSpan;

typedef struct {
    const char *buf; /* the record; NULL unless parsed. Not owned. */
    size_t len;
    EmbargoRecordType type;
    uint64_t flow_id; /* 0 when absent or not a positive integer */
    uint64_t pcap_cnt;
    bool has_pcap_cnt;
    int32_t src_port, dest_port; /* -1 when absent or not a port */
    bool to_client;              /* the record says "direction":"to_client" */
    bool dns_response;           /* a DNS answer/response record (names from the server) */
    bool unchecked;              /* EMBARGO_REC_UNCHECKED: not yet checked whole */
    /* Header members as JSON text (strings with their quotes), copied verbatim. */
    EmbargoSpan timestamp, in_iface, vlan, src_ip, dest_ip, proto, pkt_src, community_id, app_proto;
    EmbargoSpan app;   /* the dns/tls/http/quic/flow object */
    emb_facts_t facts; /* .facts points at fact[]; values point into buf or scratch */
    emb_fact_t fact[EMBARGO_RECORD_MAX_FACTS];
    size_t scratch_used;
    char scratch[EMBARGO_RECORD_SCRATCH];
} EmbargoRecord;

/*
 * The event type of a record: the first top-level "event_type" member
 * (Suricata writes the header first, so this reads a few dozen bytes).
 * Strings and nested objects before it are stepped over, not searched.
 */
EmbargoRecordType EmbargoRecordPeekType(const char *buf, size_t len);

/*
 * Scans `buf` (`len` bytes, need not be NUL-terminated) when it is at most
 * `max_len` bytes and of a type embargo matches, and fills r->facts. A
 * record of another type is left after its event_type is read (SKIP); one
 * of ours is checked whole: strict JSON, UTF-8, nesting at most
 * EMBARGO_RECORD_MAX_DEPTH. `r` is reset first; nothing is allocated.
 * Facts and spans point into `buf` and r->scratch: valid while both are.
 * Members of the wrong JSON type count as absent. Keys are compared as
 * written: a key spelled with escapes is not recognised.
 */
EmbargoParseResult EmbargoRecordParse(EmbargoRecord *r, const char *buf, size_t len,
                                      size_t max_len);

/* The same, for the types in `types` (EMBARGO_REC_MASK bits) only; others SKIP. */
EmbargoParseResult EmbargoRecordParseTypes(EmbargoRecord *r, const char *buf, size_t len,
                                           size_t max_len, unsigned types);

/* What some rule of addresses and ports alone can hold on, for flow records
 * read only as far as their endpoints: server ports, a bit each for TCP ([0])
 * and UDP ([1]) (emb_rules_port_may_hold); and for the rules that need
 * addresses too, the first bytes of those addresses. */
typedef struct {
    uint8_t bits[2][65536 / 8];  /* [TCP, UDP] ports some rule may hold on */
    uint8_t alone[2][65536 / 8]; /* of those, the ports a rule holds on whatever the
                                    addresses (emb_rules_port_alone_may_hold) */
    uint64_t first[2][4];        /* [IPv4, IPv6] the first bytes of the addresses the
                                    other rules cover (emb_rules_address_first_bytes) */
} EmbargoPortSet;

/* Fills `ps` (zeroed) from the pack `rules`. */
void EmbargoPortSetFill(EmbargoPortSet *ps, const emb_rules_t *rules);

/* EmbargoRecordParseTypes, and with EMBARGO_REC_FLOW_HEADER and `ports`: a
 * TCP or UDP flow record neither of whose ports is in `ports` is left as
 * soon as its header says so (SKIP): no rule can hold on it. */
EmbargoParseResult EmbargoRecordParseFlows(EmbargoRecord *r, const char *buf, size_t len,
                                           size_t max_len, unsigned types,
                                           const EmbargoPortSet *ports);

/* Checks a record parsed with EMBARGO_REC_UNCHECKED whole, as a parse
 * without it would (strict JSON, UTF-8, nesting), and clears r->unchecked
 * when it passes. True for a record already checked; false for none. */
bool EmbargoRecordCheck(EmbargoRecord *r);

/* Forgets the record (resets `r`); `r` may be NULL. */
void EmbargoRecordClear(EmbargoRecord *r);

/*
 * Writes the alert record for a parsed record and the JSON text of its
 * `alert` object (emb_match_alert_json, `alert_len` bytes) into out[0..cap),
 * as one compact JSON line without newline or NUL: the record's header
 * members, "event_type":"alert", "direction", the alert, app_proto and the
 * record's protocol object, each copied as text. `field` is the key that
 * matched (emb_match_t.field) or NULL: a match on names the server sent (a
 * DNS response, a certificate) is written in the server-to-client direction,
 * addresses and ports swapped, as Suricata writes an alert on that packet.
 * Returns the length of the whole line, also when it is more than `cap`
 * (then out holds only a prefix: grow it and call again); 0 when `r` was
 * not parsed, not yet checked (r->unchecked), or `alert` is not one JSON object.
 */
size_t EmbargoRecordAlertWrite(const EmbargoRecord *r, const char *alert, size_t alert_len,
                               const char *field, char *out, size_t cap);

/* The same line, malloc'd and NUL-terminated (the caller frees it); *len is set.
 * NULL when out of memory or when EmbargoRecordAlertWrite returns 0. */
char *EmbargoRecordAlert(const EmbargoRecord *r, const char *alert_json, size_t *len);

#endif /* EMBARGO_SURICATA_RECORD_H */
