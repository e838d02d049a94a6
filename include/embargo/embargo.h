/*
 * embargo: find the traffic of banned vendors' software and devices.
 *
 * This is the whole public API of the engine library. A host (the `embargo`
 * command, the Suricata plugin, a test) loads a rule pack, builds an engine
 * from it, feeds packets in and receives alerts out, each already rendered as
 * one Suricata EVE JSON line. The engine never prints, exits or knows its host.
 *
 * Conventions (libuv, Hyperscan): functions return 0 or a negative EMB_E*
 * code, results come back through trailing out-parameters, every _new/_load
 * has a _free that accepts NULL. An engine is not thread-safe: use one per
 * thread (they may share one emb_rules_t, which is read-only once loaded).
 */
#ifndef EMBARGO_H
#define EMBARGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMB_VERSION_STRING "0.1.0"

/* Error codes: X(name, message). */
#define EMB_ERRNO_MAP(X)                                                                           \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(INVAL, -2, "invalid argument")                                                               \
    X(IO, -3, "input/output error")                                                                \
    X(RULES, -4, "invalid rules")                                                                  \
    X(HS, -5, "Hyperscan error")                                                                   \
    X(CANCELED, -6, "canceled by callback")

enum {
    EMB_OK = 0,
#define EMB_ERR_ENUM(name, val, msg) EMB_E##name = (val),
    EMB_ERRNO_MAP(EMB_ERR_ENUM)
#undef EMB_ERR_ENUM
};

/* A static string naming `err`; never NULL. */
const char *emb_strerror(int err);

/* Version of the Hyperscan (or Vectorscan) library linked in. Static string. */
const char *emb_hyperscan_version(void);

/* ---- Diagnostics ------------------------------------------------------- */

/*
 * A list of errors found while loading rules or building an engine. Each
 * message is one line: "file:line:column: message" when a place is known.
 */
typedef struct emb_diags emb_diags_t;

size_t emb_diags_count(const emb_diags_t *d);
/* The i-th message; owned by `d`. NULL when i is out of range. */
const char *emb_diags_message(const emb_diags_t *d, size_t i);
void emb_diags_free(emb_diags_t *d);

/* ---- Rules ------------------------------------------------------------- */

typedef struct emb_rules emb_rules_t;

/*
 * Loads one YAML rule file, or every `*.yaml` file of a directory (sorted by
 * name), and validates it strictly. On success returns 0 and sets *out.
 * On failure returns EMB_ERULES (or EMB_EIO, EMB_ENOMEM), sets *out to NULL
 * and, when `diags` is not NULL, *diags to the list of every error found (the
 * caller frees it). *diags is set to NULL on success.
 */
int emb_rules_load(const char *path, emb_rules_t **out, emb_diags_t **diags);
void emb_rules_free(emb_rules_t *rules);

/* Channels a rule belongs to, in a fixed order. */
typedef enum {
    EMB_CH_TELEMETRY,
    EMB_CH_LICENSING,
    EMB_CH_UPDATE,
    EMB_CH_CLOUD,
    EMB_CH_MANAGEMENT,
    EMB_CH_WEB,
    EMB_CH_DEVICE, /* the banned equipment itself, by what it says of itself */
    EMB_CH__COUNT
} emb_channel_t;

/* Kinds of indicator, in a fixed order: the keys of a rule's `match`. */
typedef enum {
    EMB_K_DOMAIN,
    EMB_K_DNS_QUERY,
    EMB_K_TLS_SNI,
    EMB_K_TLS_CERT_SUBJECT,
    EMB_K_TLS_CERT_ISSUER,
    EMB_K_HTTP_HOST,
    EMB_K_HTTP_URI,
    EMB_K_HTTP_USER_AGENT,
    EMB_K_QUIC_SNI,
    EMB_K_JA4,
    EMB_K_PAYLOAD,
    EMB_K_IP,
    EMB_K_PORT,
    /* What a device says about itself (docs/rules.md, "Devices") */
    EMB_K_HTTP_SERVER,
    EMB_K_HTTP_RESPONSE_BODY,
    EMB_K_RTSP_SERVER,
    EMB_K_SIP_USER_AGENT,
    EMB_K_SSDP_SERVER,
    EMB_K_SSDP_LOCATION,
    EMB_K_ONVIF_SCOPE,
    EMB_K_ONVIF_DEVICE,
    EMB_K_SADP_DEVICE,
    EMB_K_DHIP_DEVICE,
    EMB_K_SNMP_SYSDESCR,
    EMB_K_SNMP_SYSOBJECTID,
    EMB_K_CWMP_MANUFACTURER,
    EMB_K_CWMP_OUI,
    EMB_K_DHCP_VENDOR_CLASS,
    EMB_K_DHCP_HOSTNAME,
    EMB_K_MAC,
    EMB_K__COUNT
} emb_key_t;

/* The names of the device keys, EMB_K_HTTP_SERVER to EMB_K_MAC in order; each
 * is also the name of its field in alert.context.embargo.field. */
#define EMB_DEVICE_KEY_NAMES                                                                       \
    "http.server", "http.response_body", "rtsp.server", "sip.user_agent", "ssdp.server",           \
        "ssdp.location", "onvif.scope", "onvif.device", "sadp.device", "dhip.device",              \
        "snmp.sysdescr", "snmp.sysobjectid", "cwmp.manufacturer", "cwmp.oui", "dhcp.vendor_class", \
        "dhcp.hostname", "mac"

const char *emb_channel_name(emb_channel_t ch);
const char *emb_key_name(emb_key_t key);

/* A summary of a loaded pack, for `embargo rules check`. */
typedef struct {
    size_t files;
    size_t vendors;
    size_t rules;
    size_t alternatives;
    size_t rules_per_channel[EMB_CH__COUNT];
    size_t indicators_per_key[EMB_K__COUNT];
} emb_rules_summary_t;

void emb_rules_summary(const emb_rules_t *rules, emb_rules_summary_t *out);

/*
 * Chooses the bans that apply to whoever runs the engine (docs/rules.md,
 * "Bans"): a ban applies when it is in force (or proposed, with
 * `proposed`), its scope is "all" or `scope` (NULL: any scope), and it
 * restricts one of the comma-separated `restricts` ("use,updates"; NULL:
 * any). A vendor's rules alert only while one of its bans applies (a vendor
 * with no bans always alerts). The loader calls it with NULL, NULL, false.
 * Call it before engines are made from `rules`. Returns the number of
 * vendors selected; EMB_EINVAL with the reason in `err` for a scope or
 * restriction that does not exist.
 */
int emb_rules_select(emb_rules_t *rules, const char *scope, const char *restricts, bool proposed,
                     char *err, size_t errcap);

/* Vendor i (0 <= i < summary.vendors): its id, display name and rule count. */
int emb_rules_vendor(const emb_rules_t *rules, size_t i, const char **id, const char **name,
                     size_t *nrules);

/* The sid of rule i (0 <= i < summary.rules), in the pack's order; 0 out of range. */
uint32_t emb_rules_sid(const emb_rules_t *rules, size_t i);

/* True when rule i has an alternative made only of keys in `keys` (bit k for
 * emb_key_t k): a host that reads only those keys can raise it. */
bool emb_rules_raised_by(const emb_rules_t *rules, size_t i, uint64_t keys);

/* False when no rule of addresses and ports alone (no field value) can hold
 * on a flow to server port `port` over `proto` (6 TCP, 17 UDP), whatever its
 * addresses: a host that gets flows as records need not read such a one. */
bool emb_rules_port_may_hold(const emb_rules_t *rules, uint8_t proto, uint16_t port);
/* The same, asking only the rules with no address condition: on such a port
 * a rule may hold whatever the flow's addresses. */
bool emb_rules_port_alone_may_hold(const emb_rules_t *rules, uint8_t proto, uint16_t port);
/* The server ports over `proto` on which an alternative of rule `rule`
 * (SIZE_MAX: of any rule) with a `payload` pattern can hold, a bit per port
 * (bit p % 8 of bits[p / 8], OR-ed in; `bits` may be NULL). Returns how many
 * such alternatives have no port condition (they hold on every port): a host
 * that scans datagrams' payloads only on those ports misses them. */
size_t emb_rules_payload_ports(const emb_rules_t *rules, size_t rule, uint8_t proto,
                               uint8_t bits[65536 / 8]);
/* The first bytes of the addresses the rules of addresses cover, a bit each
 * (bit b of v4[b / 64]), per family: a flow neither of whose addresses
 * begins with one of them raises no rule with an address condition. */
void emb_rules_address_first_bytes(const emb_rules_t *rules, uint64_t v4[4], uint64_t v6[4]);

/* Fields the engine matches, each in its own Hyperscan database. */
typedef enum {
    EMB_FIELD_DNS_QUERY,       /* DNS question (and answer) names */
    EMB_FIELD_TLS_SNI,         /* TLS ClientHello server_name */
    EMB_FIELD_HTTP_HOST,       /* HTTP Host header */
    EMB_FIELD_HTTP_URI,        /* HTTP request target */
    EMB_FIELD_HTTP_USER_AGENT, /* HTTP User-Agent header */
    EMB_FIELD_QUIC_SNI,        /* QUIC Initial ClientHello server_name */
    EMB_FIELD_TLS_CERT_NAME,   /* certificate subject CN and SAN names */
    EMB_FIELD_TLS_CERT_SUBJECT,
    EMB_FIELD_TLS_CERT_ISSUER,
    EMB_FIELD_JA4,
    EMB_FIELD_PAYLOAD,
    /* Device fields: each fed by the key of the same name, one Hyperscan
     * database for all of them */
    EMB_FIELD_HTTP_SERVER,        /* HTTP response Server header */
    EMB_FIELD_HTTP_RESPONSE_BODY, /* the first bytes of an HTTP response body */
    EMB_FIELD_RTSP_SERVER,        /* RTSP response Server header */
    EMB_FIELD_SIP_USER_AGENT,     /* SIP User-Agent and Server headers */
    EMB_FIELD_SSDP_SERVER,        /* SSDP (UPnP discovery) SERVER */
    EMB_FIELD_SSDP_LOCATION,      /* SSDP LOCATION */
    EMB_FIELD_ONVIF_SCOPE,        /* one scope of a WS-Discovery ProbeMatch or Hello */
    EMB_FIELD_ONVIF_DEVICE,       /* ONVIF GetDeviceInformation Manufacturer, Model */
    EMB_FIELD_SADP_DEVICE,        /* Hikvision SADP DeviceType, DeviceDescription, DeviceSN */
    EMB_FIELD_DHIP_DEVICE,        /* Dahua DHIP discovery Vendor, DeviceType */
    EMB_FIELD_SNMP_SYSDESCR,      /* SNMP GetResponse sysDescr.0 */
    EMB_FIELD_SNMP_SYSOBJECTID,   /* SNMP GetResponse sysObjectID.0, dotted */
    EMB_FIELD_CWMP_MANUFACTURER,  /* TR-069 Inform DeviceId Manufacturer, ProductClass */
    EMB_FIELD_CWMP_OUI,           /* TR-069 Inform DeviceId OUI */
    EMB_FIELD_DHCP_VENDOR_CLASS,  /* DHCP option 60 */
    EMB_FIELD_DHCP_HOSTNAME,      /* DHCP option 12 */
    EMB_FIELD_MAC,                /* Ethernet source address, "AA:BB:CC:DD:EE:FF" */
    EMB_FIELD__COUNT
} emb_field_t;

/*
 * Lints a loaded pack: rules without references, bans without a reference,
 * duplicate or overlapping indicators (of one rule, or of rules of one vendor
 * and channel), alternatives or indicators that can never match. Returns 0
 * and sets *warnings to the list ("file:line:column: warning: ...", the
 * caller frees it) or to NULL when there is nothing to say; EMB_ENOMEM or
 * EMB_EINVAL on failure (then *warnings is NULL).
 */
int emb_rules_lint(const emb_rules_t *rules, emb_diags_t **warnings);

/*
 * A pack's manifest and signature (docs/rules.md, "Publishing a pack"):
 * DIR/pack.yaml names the pack, its version (MAJOR.MINOR.PATCH), release and
 * expiry dates, the oldest engine that loads it, and every rule file with its
 * SHA-256; DIR/pack.yaml.sig is an Ed25519 signature of the manifest's bytes
 * (64 raw bytes: `openssl pkeyutl -sign -rawin`). The rule loader skips
 * pack.yaml. Errors come back as EMB_ERULES (EMB_EIO: no manifest) with
 * file-named diagnostics.
 */
typedef struct emb_manifest emb_manifest_t;
typedef struct {
    const char *name, *version, *released, *expires, *min_engine;
    size_t nfiles;
} emb_manifest_info_t;
int emb_manifest_load(const char *dir, emb_manifest_t **out, emb_diags_t **diags);
void emb_manifest_info(const emb_manifest_t *m, emb_manifest_info_t *out);
/* True when the pack's expiry day (UTC) is past: it still runs, but it is stale. */
bool emb_manifest_expired(const emb_manifest_t *m);
/* File i (0 <= i < nfiles): its name in DIR and its SHA-256 in hex. */
int emb_manifest_file(const emb_manifest_t *m, size_t i, const char **path, const char **sha256);
/* Every listed file is in `dir` with its hash, and every rule file of `dir` is listed. */
int emb_manifest_check_files(const emb_manifest_t *m, const char *dir, emb_diags_t **diags);
/* DIR/pack.yaml.sig is a signature of DIR/pack.yaml by a key of `keys_dir`
 * (its *.pem public keys); the key's file name goes to `key`. */
int emb_manifest_verify(const char *dir, const char *keys_dir, char *key, size_t key_size,
                        emb_diags_t **diags);
void emb_manifest_free(emb_manifest_t *m);
/* MAJOR.MINOR.PATCH versions: -1, 0, 1; -2 when either is not one. */
int emb_version_compare(const char *a, const char *b);
/* The SHA-256 of a file in lowercase hex. */
int emb_sha256_file(const char *path, char hex[65]);

/* Formats emb_rules_export writes. */
typedef enum {
    EMB_EXPORT_SURICATA,   /* Suricata 7 rules, one per line */
    EMB_EXPORT_ZEEK_INTEL, /* a Zeek Intel framework file (tab-separated) */
    /* Suricata 8 rules for embargo.so's `embargo` keyword, one per pack rule,
     * with the pack's sid, rev, msg and metadata; _DROP writes `drop:flow` rules
     * (IPS: the packet that raised the rule and the rest of its flow) */
    EMB_EXPORT_SURICATA_PLUGIN,
    EMB_EXPORT_SURICATA_PLUGIN_DROP
} emb_export_format_t;

/* Receives the exported text; return nonzero to stop (EMB_EIO is returned). */
typedef int (*emb_write_cb)(const char *buf, size_t len, void *userdata);

/*
 * Writes `rules` in `format` through `write` (docs/export.md has the
 * mapping). What the format cannot express is left out and, when `notes` is
 * not NULL, listed in *notes as "file:line:column: not exported: reason"
 * (NULL when everything was exported; the caller frees it). Returns 0,
 * EMB_EIO when `write` failed, EMB_ENOMEM or EMB_EINVAL.
 */
int emb_rules_export(const emb_rules_t *rules, emb_export_format_t format, emb_write_cb write,
                     void *userdata, emb_diags_t **notes);

/*
 * What changes from pack `old` to `new_rules`, through `write`: per vendor and
 * channel the rules added, removed and changed and the indicators gained and
 * lost, then each such rule (matched by sid) with its indicators; as text, or
 * as one JSON document with `json`. Returns 0, EMB_EIO when `write` failed,
 * EMB_ENOMEM or EMB_EINVAL.
 */
int emb_rules_diff(const emb_rules_t *old, const emb_rules_t *new_rules, bool json,
                   emb_write_cb write, void *userdata);

/* ---- Exceptions -------------------------------------------------------- */

/*
 * A site's exceptions file (docs/exceptions.md): alerts an analyst accepted,
 * for a host or network, with a reason, an owner and an expiry date. An alert
 * an exception covers is still written, marked in alert.context.embargo.excepted.
 */
typedef struct emb_exceptions emb_exceptions_t;

/*
 * Loads and validates one exceptions file. On success returns 0 and sets
 * *out; on failure returns EMB_ERULES (or EMB_EIO, EMB_ENOMEM), sets *out to
 * NULL and, when `diags` is not NULL, *diags to every error found
 * ("file:line:column: message"; the caller frees it).
 */
int emb_exceptions_load(const char *path, emb_exceptions_t **out, emb_diags_t **diags);
void emb_exceptions_free(emb_exceptions_t *x);

/* The number of exceptions in `x` (0 for NULL). */
size_t emb_exceptions_count(const emb_exceptions_t *x);

typedef struct {
    const char *file; /* the path given to emb_exceptions_load */
    unsigned line, column;
    const char *reason, *owner;
    const char *expires; /* YYYY-MM-DD */
} emb_exception_info_t;

/* Exception i (0 <= i < count); strings owned by `x`. EMB_EINVAL out of range. */
int emb_exceptions_info(const emb_exceptions_t *x, size_t i, emb_exception_info_t *out);

/* ---- Engine ------------------------------------------------------------ */

typedef struct {
    size_t max_flows;              /* flow table size; oldest evicted when full */
    uint32_t tcp_timeout_s;        /* idle time after which a TCP flow is forgotten */
    uint32_t udp_timeout_s;        /* same for UDP */
    uint32_t stream_depth;         /* bytes reassembled per TCP direction */
    uint32_t udp_payload_packets;  /* UDP payloads scanned per flow direction */
    size_t stream_memcap;          /* bytes of all reassembly buffers together */
    size_t defrag_max;             /* IP datagrams under reassembly at once */
    size_t defrag_memcap;          /* bytes of all fragment buffers together */
    uint32_t defrag_timeout_s;     /* an unfinished datagram is dropped after this */
    size_t attrib_max;             /* DNS attribution entries (client, address, rule) */
    uint32_t attrib_ttl_floor_s;   /* a DNS TTL counts at least this long */
    uint32_t attrib_ttl_ceiling_s; /* and at most this long */
    /* A flow not attributed at its first client message is looked up again at
     * its next packets for this long, counting answers seen up to that
     * message: for workers that each see their share of live packets, which
     * the threads may pass on out of order (embargo live -j N). 0: never. */
    uint32_t attrib_grace_ms;
    const char *cache_dir; /* compiled databases are kept here; NULL: none */
    /* A DNS attribution table shared with engines in other threads (see
     * emb_shared_new). NULL: the engine keeps its own. */
    struct emb_shared *shared;
} emb_config_t;

/* Fills `cfg` with the defaults. */
void emb_config_init(emb_config_t *cfg);

typedef struct emb_engine emb_engine_t;

/*
 * Compiles `rules` into Hyperscan databases and allocates the flow table.
 * `rules` must outlive the engine. `cfg` may be NULL for defaults. On error
 * returns a negative code and, when `diags` is not NULL, sets *diags.
 */
int emb_engine_new(const emb_rules_t *rules, const emb_config_t *cfg, emb_engine_t **out,
                   emb_diags_t **diags);
void emb_engine_free(emb_engine_t *engine);

/*
 * Swaps in another rule pack without losing what the engine knows of the
 * traffic: flows, reassembly and fragments stay; each flow still remembers
 * the rules it raised (matched by sid, so a rule kept across the reload does
 * not alert again on a flow that already raised it; rules that are gone are
 * forgotten), and DNS attribution is kept for rules that remain. The new
 * pack is compiled first: on error nothing changes and a negative code is
 * returned (with *diags when not NULL). On success `rules` must outlive the
 * engine and the old pack may be freed by the caller.
 */
int emb_engine_reload(emb_engine_t *engine, const emb_rules_t *rules, emb_diags_t **diags);

/* True when the engine's databases were loaded from the cache, not compiled. */
bool emb_engine_from_cache(const emb_engine_t *engine);

/* Link types, numbered as pcap's LINKTYPE_* values (what a pcap file stores). */
enum {
    EMB_LINK_NULL = 0, /* BSD loopback, host-order address family */
    EMB_LINK_ETHERNET = 1,
    EMB_LINK_RAW = 101,  /* raw IPv4 or IPv6 */
    EMB_LINK_LOOP = 108, /* OpenBSD loopback, network-order family */
    EMB_LINK_LINUX_SLL = 113,
    EMB_LINK_IPV4 = 228,
    EMB_LINK_IPV6 = 229,
    EMB_LINK_LINUX_SLL2 = 276
};

typedef struct {
    int64_t ts_sec;
    uint32_t ts_usec;
    int linktype; /* EMB_LINK_*; libpcap's DLT_RAW (12, 14) is accepted too */
    const uint8_t *data;
    uint32_t caplen;   /* bytes in data */
    uint32_t len;      /* length on the wire */
    uint64_t pcap_cnt; /* 1-based packet number, as Suricata counts */
} emb_packet_t;

/* One alert. Every pointer is valid only during the callback. */
typedef struct {
    uint32_t sid;
    uint32_t rev;
    int severity;
    const char *vendor;
    const char *channel;
    const char *msg;
    const char *field; /* the key that matched, e.g. "dns.query" */
    const char *eve;   /* the EVE JSON record, one line, no newline */
    size_t eve_len;
    bool excepted; /* a live exception covers it (see emb_engine_set_exceptions) */
} emb_alert_t;

/* Called for each alert; return nonzero to stop processing (EMB_ECANCELED). */
typedef int (*emb_alert_cb)(const emb_alert_t *alert, void *userdata);

/*
 * Decodes and inspects one packet; calls `cb` for each alert it raises.
 * Malformed packets are counted, never fatal: returns 0 for them.
 * Returns EMB_ECANCELED if the callback asked to stop, EMB_ENOMEM if an
 * alert could not be rendered.
 */
int emb_engine_process(emb_engine_t *engine, const emb_packet_t *pkt, emb_alert_cb cb,
                       void *userdata);

/* ---- Matching facts that another parser extracted ----------------------
 *
 * A host that already decodes traffic (Suricata handing over its EVE
 * records, for one) gives the engine the flow's endpoints and the field
 * values it saw, and gets back every rule they raise. Nothing is remembered
 * between calls: the host decides what counts as a repeat.
 */

typedef struct {
    emb_field_t field;
    const void *value; /* as seen; domain-valued fields are normalised by the engine */
    size_t len;
} emb_fact_t;

typedef struct {
    uint8_t family; /* 4 or 6; 0 when unknown, and then no ip or port condition holds */
    uint8_t proto;  /* 6 TCP, 17 UDP */
    uint8_t client[16], server[16];
    uint16_t client_port, server_port;
    const emb_fact_t *facts;
    size_t nfacts;
    /* true: only the rules the field values raise (an alternative's address
     * and port conditions still hold or not on the endpoints), not the rules
     * of addresses and ports alone: a host that decides those once per flow
     * matches each of the flow's messages with this set. */
    bool fields_only;
} emb_facts_t;

/* One thing a device said of itself ("manufacturer", "model", "oui", ...). */
typedef struct {
    const char *name;
    const uint8_t *value;
    size_t len;
} emb_device_value_t;

typedef struct {
    uint32_t sid, rev;
    int severity;
    const char *vendor, *channel, *confidence, *msg;
    const char *product; /* may be NULL */
    const char *field;   /* the key that matched: "dns.query", "ip", "port", ... */
    const char *value;   /* what matched, normalised; not NUL-terminated */
    size_t value_len;
    const char *const *authorities; /* the vendor's bans */
    size_t nauthorities;
    const char *const *references;
    size_t nreferences;
    const void *rule; /* the engine's own; for emb_match_alert_json */
    /* A device key's match (emb_engine_match_datagram): the protocol the
     * device spoke, its address (or the one a DHCP client asks for, or its
     * MAC), and the name its value goes under in alert.context.embargo.device
     * ("server", "user_agent", ...); NULL for any other match. */
    const char *device_protocol, *device_host, *device_key;
    /* Everything the device's message said of it, the matched value among
     * them (as `embargo scan` lists them in alert.context.embargo.device;
     * a name may come twice: the first counts); valid during the callback. */
    const emb_device_value_t *device_values;
    size_t ndevice_values;
} emb_match_t;

/* Called for each rule raised; return nonzero to stop (EMB_ECANCELED). */
typedef int (*emb_match_cb)(const emb_match_t *match, void *userdata);

/*
 * Matches `facts` against the rules: every field value is scanned, and each
 * rule one of whose alternatives holds is reported once, in rule order. As in
 * packet inspection, a `web`-channel rule is not reported when a product
 * channel rule of the same vendor is.
 */
int emb_engine_match(emb_engine_t *engine, const emb_facts_t *facts, emb_match_cb cb,
                     void *userdata);

/*
 * False when no rule of addresses and ports alone can hold on the endpoints
 * of `facts` (its field values are not read), so that emb_engine_match of
 * them without fields would raise nothing: a coarse test of a few
 * instructions (the first byte of each address, the server port), for a
 * host that decides those rules once per flow. True says only "maybe".
 */
bool emb_engine_endpoints_may_match(const emb_engine_t *engine, const emb_facts_t *facts);

/*
 * A DNS response whose names a host has read with its own parser, for
 * emb_engine_match_dns_response: the message (the UDP payload), who asked
 * (the response's destination, of the facts' family), and when it was seen.
 */
typedef struct {
    const uint8_t *msg;
    size_t len;
    const uint8_t *client;
    int64_t ts_sec;
    uint32_t ts_usec;
} emb_dns_response_t;

/*
 * emb_engine_match for the names of a DNS response (the facts: the name of
 * its question first, then those of its answers and the names they point
 * to, as dns.query), that also learns the response for DNS attribution as
 * emb_engine_feed would learn its packet: the rules the names raise resolve
 * to the response's A/AAAA answers, which are the only part of `r->msg` read
 * (no name is decoded twice). For a host whose parser gives names but not
 * addresses (Suricata 8's DNS transactions). Same returns as
 * emb_engine_match; a message that is not a response, or has no address,
 * teaches nothing.
 */
int emb_engine_match_dns_response(emb_engine_t *engine, const emb_facts_t *facts,
                                  const emb_dns_response_t *r, emb_match_cb cb, void *userdata);

/*
 * emb_engine_match for a UDP datagram in which a device may say what it is
 * (SSDP, SIP, DHCP, SNMP, DHIP, SADP, WS-Discovery: docs/rules.md,
 * "Devices"), read by the engine's own parsers, for a host whose parser
 * gives none of those keys (Suricata 8): the rules its device keys raise,
 * each with its device (emb_match_t's device_*). `from_client`: the datagram
 * went from facts->client to facts->server, else the other way; only the
 * endpoints of `facts` are read, and only rules of device keys are reported
 * (as with fields_only). Same returns as emb_engine_match; a datagram that
 * says nothing of its sender reports nothing.
 */
int emb_engine_match_datagram(emb_engine_t *engine, const emb_facts_t *facts, bool from_client,
                              const uint8_t *payload, size_t len, emb_match_cb cb, void *userdata);
/*
 * The same for the start of a TCP segment's payload: the head of an RTSP
 * response (rtsp.server) or of a SIP request or response over TCP
 * (sip.user_agent), whole in these bytes, as the engine's own flows read a
 * message at its start. For a host that parses neither protocol for
 * embargo and hands over each direction's first data segments rather than a
 * stream (a head cut between segments is not read). HTTP is not read here:
 * `http.server` comes with the host's own HTTP transactions.
 */
int emb_engine_match_segment(emb_engine_t *engine, const emb_facts_t *facts, bool from_client,
                             const uint8_t *payload, size_t len, emb_match_cb cb, void *userdata);
/* The bytes of an HTTP body the device keys look at: its start, this many. */
#define EMB_HTTP_BODY_HEAD 4096

/*
 * The same for the start of an HTTP body that the host's own HTTP parser
 * decoded (no chunk framing): a request's (`request`: a TR-069 Inform,
 * cwmp.manufacturer and cwmp.oui, its sender the client) or a response's,
 * of status `status` (http.response_body, and an ONVIF GetDeviceInformation
 * answer, onvif.device, its sender the server). Only the first
 * EMB_HTTP_BODY_HEAD bytes are read, as the engine's own flows read a body;
 * hand them over once per message, when that many have come or the body
 * ended.
 */
int emb_engine_match_http_body(emb_engine_t *engine, const emb_facts_t *facts, bool request,
                               int status, const uint8_t *body, size_t len, emb_match_cb cb,
                               void *userdata);

/*
 * The same for the Ethernet source address of a direction of a flow (the
 * `mac` key: an IEEE prefix names the interface's maker), as the engine reads
 * it at each direction's first packet: the rules it raises, the device being
 * that address (device_protocol "ethernet", device_host and the value its
 * text "AA:BB:CC:DD:EE:FF"). A host asks once per direction of a flow.
 */
int emb_engine_match_mac(emb_engine_t *engine, const emb_facts_t *facts, const uint8_t mac[6],
                         emb_match_cb cb, void *userdata);
/* False when no `mac` rule can hold on `mac` (no prefix of the pack begins
 * it): a bit test and a short search, for a host to ask before the call above. */
bool emb_engine_mac_may_match(const emb_engine_t *engine, const uint8_t mac[6]);

/* How far one TCP stream direction has been scanned for payload patterns
 * (emb_engine_match_stream); zero it at the direction's start. */
typedef struct {
    uint64_t scanned;       /* bytes of the stream scanned so far */
    uint32_t start_scanned; /* bytes from its start the anchored patterns saw */
    bool done;              /* past the stream depth: nothing more to scan */
} emb_stream_scan_t;

/* The bytes before st->scanned a host must give again with the next stretch
 * of a stream (the end of what it gave last, up to this many): what a
 * pattern may span across the two, and while the stream is short, its whole
 * start for the anchored patterns; at most the stream depth. 0 when the rules
 * have no payload pattern. */
size_t emb_engine_stream_lookback(const emb_engine_t *engine);

/* The rules the payload patterns raise on a stretch of one TCP stream
 * direction that a host reassembled (Suricata's raw stream): `data` holds
 * its bytes from stream offset `offset` (0: the direction's first byte), and
 * begins at most emb_engine_stream_lookback() bytes before st->scanned, or
 * at it. As `embargo scan`: only the first stream_depth bytes (then
 * st->done), `^` is the stream's first byte, a pattern is found across two
 * stretches; the rules' ip and port conditions hold on the facts'
 * endpoints (their field values are not read). A gap (offset past
 * st->scanned) loses what it skipped. */
int emb_engine_match_stream(emb_engine_t *engine, const emb_facts_t *facts, emb_stream_scan_t *st,
                            const uint8_t *data, size_t len, uint64_t offset, emb_match_cb cb,
                            void *userdata);

/*
 * DNS attribution of a host's connection (docs/flows.md): the rules whose
 * names resolved, in a DNS answer to `facts->client` seen no later than `ts`,
 * to `facts->server` (only the endpoints of `facts` are read). Call it once
 * per connection, at its first client message, and only when that message
 * named no server (no SNI, no Host): a connection that names its server is
 * judged by that name, so a shared CDN address is never blamed on a vendor.
 * An address that answered for unrelated domains is a shared edge and
 * attributes nothing. Matches are reported as by emb_engine_match, field
 * "dns.attribution", value the name that resolved; confidence low unless the
 * address is also in the vendor's own ranges. The answers are those this
 * engine learned (emb_engine_process, emb_engine_feed), or any engine sharing
 * its table (cfg.shared). 0, or EMB_ECANCELED if `cb` asked to stop.
 */
int emb_engine_attribute(emb_engine_t *engine, const emb_facts_t *facts, int64_t ts_sec,
                         uint32_t ts_usec, emb_match_cb cb, void *userdata);

/*
 * False when emb_engine_attribute with the same endpoints and time would
 * report nothing: no answer learned so far, seen no later than `ts`, gave
 * `facts->server` to `facts->client`. Cheaper than the attribution (a
 * lookup, no round): a host can ask it before working out whether a
 * connection named its server (an Encrypted Client Hello's outer SNI does
 * not), when that work only matters for an attribution. With a table
 * shared by engines that read in parallel, "so far" holds only once every
 * one of them has read past `ts`.
 */
bool emb_engine_may_attribute(emb_engine_t *engine, const emb_facts_t *facts, int64_t ts_sec,
                              uint32_t ts_usec);

/*
 * Whether the first bytes a connection's client sent, p[0, n), may still
 * begin a message that names its server: a TLS record (the ClientHello's
 * SNI) or an HTTP request line (the Host that follows). False once they
 * cannot, whatever their length: the connection names no server, and an
 * attribution speaks for it (docs/flows.md, "DNS attribution"). True for
 * n == 0. The test embargo's own flows decide their protocol by.
 */
bool emb_bytes_may_name_server(const uint8_t *p, size_t n);

/*
 * The JSON text of the EVE `alert` object for `match` (action, gid,
 * signature_id, rev, signature, category, severity, metadata, references,
 * context.embargo), NUL-terminated, malloc'd: the caller frees it. NULL when
 * out of memory.
 */
char *emb_match_alert_json(const emb_engine_t *engine, const emb_match_t *match);

/*
 * The same text, byte for byte, written into out[0..cap) without its NUL and
 * without allocating: each rule's constant part (all but context.embargo's
 * field and value) is rendered once per engine, at the rule's first alert, and
 * copied after. For a host that writes an alert per record into a buffer it
 * reuses. Returns the length of the whole text, also when it is more than
 * `cap` (then out holds only a prefix: grow it and call again); 0 when out of
 * memory or when `match` did not come from this engine. It fills the engine's
 * cache: call it as emb_engine_match, from one thread at a time.
 */
size_t emb_match_alert_write(emb_engine_t *engine, const emb_match_t *match, char *out, size_t cap);

/*
 * `len` bytes as a JSON string, quotes included, as embargo's EVE records
 * write a value: UTF-8 kept, every byte read as Latin-1 when the whole is not
 * UTF-8. Returns the length of the whole text, also when it is more than `cap`
 * (then out holds only a prefix); no NUL is written.
 */
size_t emb_json_string(const void *value, size_t len, char *out, size_t cap);

/*
 * Renders now what emb_match_alert_write renders at each rule's first alert
 * (the constant text of every rule at its own confidence), so that no alert
 * on the packet path has to: for a host that builds its engines before the
 * traffic. The low-confidence variant of an ip/port rule reported low is
 * still rendered at its first use. Then as emb_match_alert_write: one thread
 * at a time. 0, EMB_EINVAL (no engine) or EMB_ENOMEM.
 */
int emb_engine_prepare_alerts(emb_engine_t *engine);

typedef struct {
    uint64_t packets;
    uint64_t bytes;
    uint64_t truncated;      /* shorter than its headers say (snaplen or cut) */
    uint64_t invalid;        /* headers that cannot be right */
    uint64_t unsupported;    /* link, network or tunnel types/versions not decoded */
    uint64_t fragments;      /* IP fragments seen */
    uint64_t reassembled;    /* IP datagrams put back together */
    uint64_t defrag_dropped; /* datagrams dropped unfinished (timeout, eviction, invalid)
                              * or still unfinished */
    uint64_t tunnels;        /* packets decapsulated, inspected or not (see decode.c) */
    uint64_t tcp_segments;   /* segments that added bytes to a stream */
    uint64_t stream_gaps;    /* segments held beyond a gap (out of order) */
    uint64_t stream_overlaps;
    uint64_t stream_memcap_refused; /* streams inspected per packet for want of memory */
    size_t stream_mem_peak;         /* bytes */
    uint64_t quic_initials;
    uint64_t tls_certificates;
    uint64_t http_responses;
    uint64_t device_messages;  /* messages read for what a device says of itself */
    uint64_t attributions;     /* alerts raised by DNS attribution */
    uint64_t flows;            /* flows created */
    uint64_t flows_evicted;    /* dropped from a full table before timing out */
    uint64_t flows_reused;     /* TCP connections that reused an old one's tuple */
    uint64_t flows_reoriented; /* client and server swapped on a message's evidence */
    uint64_t tcp_midstream;    /* TCP connections picked up without their SYN */
    uint64_t dns_parsed;
    uint64_t tls_client_hellos;
    uint64_t http_requests;
    uint64_t alerts;
    uint64_t alerts_suppressed; /* repeats of a rule on a flow, not written */
    uint64_t alerts_excepted;   /* alerts written, marked as covered by an exception */
    /* A live host's capture counters (pcap_stats), which the host fills in; with
     * `live_capture` set, the stats record carries them as stats.capture. */
    bool live_capture;
    uint64_t kernel_packets, kernel_drops, kernel_ifdrops;
} emb_stats_t;

void emb_engine_stats(const emb_engine_t *engine, emb_stats_t *out);

/*
 * Makes `engine` consult `x` (NULL: none) for every alert it writes: an alert
 * whose flow client is in an exception's host, whose vendor, channel and sid
 * equal those the exception gives, and whose packet time is on or before the
 * exception's expiry day (UTC), is written with alert.context.embargo.excepted
 * and counted in stats.alerts_excepted. The engine does not own `x`, which
 * must outlive it (or the next call). Resets the expired counts. 0 or EMB_ENOMEM.
 */
int emb_engine_set_exceptions(emb_engine_t *engine, const emb_exceptions_t *x);

/*
 * How many alerts exception i would have covered but for its expiry, on this
 * engine (each engine counts its own: with several, sum them). 0 out of range.
 */
uint64_t emb_engine_exception_expired(const emb_engine_t *engine, size_t i);

/*
 * The flow_id (as written in EVE) of the flow of the last packet
 * emb_engine_process handled, or 0 when that packet had none: not TCP or UDP,
 * an IP fragment of a datagram still incomplete, undecodable. Flow ids derive
 * from the number (pcap_cnt) of the packet that created the flow, so another
 * engine fed the same packets gives the same ids.
 */
uint64_t emb_engine_last_flow_id(const emb_engine_t *engine);

/* Adds every counter of `src` to `dst` (peaks are added too: an upper bound). */
void emb_stats_add(emb_stats_t *dst, const emb_stats_t *src);

/* As emb_engine_stats_json, for counters summed over several engines. */
char *emb_stats_json(const emb_stats_t *stats, int64_t ts_sec, uint32_t ts_usec, uint64_t uptime_s);

/*
 * Where a packet goes when one packet stream is spread over several engines,
 * each inspecting its share and seeing every packet (embargo scan -j N,
 * docs/flows.md "Placement across workers"):
 *   shard: a hash of the packet's two innermost IP addresses, whichever way it
 *          goes, so both directions of a flow, and every IP fragment of its
 *          datagrams, meet in one engine; 0 for a packet that is not IP;
 *   dns:   the packet may carry DNS (UDP or TCP port 53) or is an IP fragment
 *          (whose ports are known only once reassembled). A flow's DNS lookup
 *          and the connection after it usually land in different engines: an
 *          engine gives the packets of its share to emb_engine_process, the
 *          others' DNS ones to emb_engine_feed, and the rest to
 *          emb_engine_skip. Then every engine's attribution table learns
 *          every answer in stream order, as one engine's would, with no
 *          engine ever waiting for another.
 * One decode; emb_packet_shard is the shard alone.
 */
typedef struct {
    uint32_t shard;
    bool dns;
} emb_place_t;
void emb_packet_place(const emb_packet_t *pkt, emb_place_t *out);
uint32_t emb_packet_shard(const emb_packet_t *pkt);

/*
 * A packet of another engine's share that may carry DNS (emb_place_t.dns):
 * inspected only to learn its DNS answers for attribution, by a second set of
 * flows and fragments the engine keeps for the purpose. It raises no alert
 * and changes no counter of emb_engine_stats. Returns 0 or a negative code.
 */
int emb_engine_feed(emb_engine_t *engine, const emb_packet_t *pkt);

/*
 * A DNS attribution table that engines in several threads share, locked by
 * stripe (64 locks; lock k guards the sets whose index is k modulo 64), for
 * hosts whose workers each see only their share of the packets (the kernel
 * spreading a live capture, an IDS's threads): an answer seen by one worker
 * then attributes the connection another one sees. Which of two answers that
 * race comes first depends on the threads: use emb_packet_place and
 * emb_engine_feed instead when every worker sees every packet. Create it with
 * the engines' configuration (its attrib_* settings size the table: 432
 * bytes an entry, 7 MiB at the default 16,384, all touched here so that no
 * page of it is first faulted in by a packet worker), set cfg.shared for
 * each engine, free it after the engines. An engine holds the one or two
 * stripes of the address it looks up or learns until it turns to another
 * address or emb_engine_process returns, so an alert callback must not wait
 * for another engine. Engines that share a table are reloaded together, none
 * of them processing packets meanwhile, all with the same new pack: the
 * table is renumbered for it once.
 */
typedef struct emb_shared emb_shared_t;
int emb_shared_new(const emb_config_t *cfg, emb_shared_t **out);
void emb_shared_free(emb_shared_t *shared);

/*
 * A packet of the stream that another engine inspects: this engine only
 * learns its time (flows expire by the latest time seen). Cheap: nothing is
 * decoded.
 */
void emb_engine_skip(emb_engine_t *engine, const emb_packet_t *pkt);

/*
 * The engine's counters as one EVE `stats` record (Suricata's layout where a
 * counter has a place in it: decoder, flow, tcp, detect), timestamped
 * ts_sec.ts_usec, NUL-terminated, no newline, malloc'd: the caller frees it.
 * `uptime_s` is what the host counts as its run time. NULL when out of memory.
 */
char *emb_engine_stats_json(const emb_engine_t *engine, int64_t ts_sec, uint32_t ts_usec,
                            uint64_t uptime_s);

#ifdef __cplusplus
}
#endif
#endif /* EMBARGO_H */
