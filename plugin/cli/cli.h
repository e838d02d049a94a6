/*
 * What the `embargo` command's files share: exit codes, option parsing and
 * the loading of rules and engines with their messages.
 */
#ifndef EMB_CLI_H
#define EMB_CLI_H

#include "embargo/embargo.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_CLEAN 0
#define EXIT_ALERTS 1
#define EXIT_ERROR 2

extern const char *prog;

void usage(FILE *f);

/* The shipped rule pack: $EMBARGO_RULES, the source tree from the build tree,
 * ../share/embargo/rules next to the binary, or the configured install path. */
const char *default_rules(void);

/* Where compiled rule databases are cached: $EMBARGO_CACHE_DIR,
 * $XDG_CACHE_HOME/embargo or ~/.cache/embargo, created if needed; NULL when
 * there is no such place. */
const char *default_cache_dir(void);

/* Loads rules, printing every diagnostic; NULL on error. */
emb_rules_t *load_rules(const char *path);

/* Builds an engine (cfg may be NULL), printing why not; NULL on error. */
emb_engine_t *build_engine(const emb_rules_t *rules, const emb_config_t *cfg, const char *path);

/* Parses a whole number in [min, max] for option `opt`; prints why not. */
bool parse_number(const char *s, unsigned long long min, unsigned long long max,
                  unsigned long long *out, const char *opt);

/*
 * The engine options scan and live share (--max-flows 'F', --stream-depth 'D',
 * --stream-memcap 'M'): 1 when `c` was one and went into cfg, 0 when it is not
 * one of them, -1 (after printing why) when its value is bad.
 */
int engine_option(int c, const char *arg, emb_config_t *cfg);

int cmd_scan(int argc, char **argv);
int cmd_rules(int argc, char **argv);

/* ---- shared by scan, live and report (additions for live/report/--version) ---- */

/* Per-subcommand help, each agreeing with docs/embargo.1. */
void usage_scan(FILE *f);
void usage_live(FILE *f);
void usage_report(FILE *f);
void usage_rules(FILE *f);
/* `rules manifest|verify|update|rollback|diff` (cmd-pack.c); argv[0] is the
 * action. -1 when `action` is none of them. */
int cmd_rules_pack(const char *action, int argc, char **argv);
void usage_inventory(FILE *f);
int cmd_inventory(int argc, char **argv);
/* Feeds the alerts of inventory `db` (of `sensor` when not NULL, from `since`,
 * microseconds) to the report; says why not and returns -1. */
struct report;
int report_from_db(struct report *r, const char *db, const char *sensor, int64_t since);
/* scan/live --inventory: the new alerts of EVE file `path` into `db` (sensor:
 * --sensor, else the host name); says why not and returns -1. */
const char *default_sensor(void);
int inventory_ingest(const char *db, const char *sensor, const char *path, bool quiet);

/* A classic pcap file read in large blocks, records used in place (capfile.c). */
typedef struct capset capset_t;
typedef struct capshare capshare_t;
typedef struct {
    int fd;
    uint8_t *buf;
    size_t pos, end; /* the records not yet handed out: buf[pos..end) */
    size_t offset;   /* bytes read from the file */
    bool eof, swapped, nano;
    uint32_t snaplen;
    uint64_t records; /* handed out */
    /* Read with other workers (capfile_open_shared): buf is a block of
     * theirs, walked by its index; a record across two blocks is copied into
     * scratch. */
    capset_t *set;
    capshare_t *share;
    unsigned worker;
    uint64_t block;
    struct capslot *slot;
    size_t next_rec; /* in the block's index */
    bool fresh;      /* the block was just reached: its index may not be built */
    uint8_t *scratch;
    emb_place_t place; /* of the record capfile_next gave */
} capfile_t;
typedef enum {
    CAPFILE_OK,        /* a record */
    CAPFILE_END,       /* the file ended after a whole record */
    CAPFILE_HAND_OVER, /* libpcap must take over at the next record */
} capfile_rc_t;
/* Opens `path` when it is a classic pcap this reader takes (else false: read
 * it with libpcap from the start). */
bool capfile_open(const char *path, capfile_t *cf);
/*
 * The same for worker `worker` of the `nworkers` that all read the same list
 * of files, each inspecting its share of the records (emb_packet_place): the
 * file is read once, a block at a time, the reading and the placing shared
 * out between the workers. capfile_next then gives every record, with its
 * placement in cf->place, but the data (and caplen, len, microseconds) only
 * of those this worker inspects or that may carry DNS: for the others *data
 * is NULL and only the seconds are set. `file` is the index in the list,
 * `link` the file's EMB_LINK_*. A worker says when it is past a file
 * (capset_pass) or done with the list (capset_leave), whether it opened the
 * file or not, so that nobody waits for it.
 */
capset_t *capset_new(unsigned nworkers);
void capset_free(capset_t *set);
bool capfile_open_shared(capset_t *set, int file, const char *path, int link, unsigned worker,
                         capfile_t *cf);
void capset_pass(capset_t *set, unsigned worker, int file);
void capset_leave(capset_t *set, unsigned worker);
/* The next record, in libpcap's terms (microseconds), valid until the next call. */
capfile_rc_t capfile_next(capfile_t *cf, struct pcap_pkthdr *hdr, const uint8_t **data);
/* Where in the file the next record starts. */
long long capfile_tell(const capfile_t *cf);
void capfile_close(capfile_t *cf);

/* The engine's EMB_LINK_* for a libpcap DLT_* value; -1 when not decoded. */
int linktype_from_dlt(int dlt);

/*
 * What an output file that already holds something becomes. embargo never
 * replaces earlier results silently: without --append or --force, a regular
 * file that is not empty is refused (docs/cli.md says why).
 */
typedef enum { OUT_KEEP, OUT_APPEND, OUT_REPLACE } out_mode_t;

/* getopt_long's value for --force (no short option: -f is live's filter). */
#define OPT_FORCE 256
/* --exceptions FILE (scan, live): long only. */
#define OPT_EXCEPTIONS 257
/* --inventory DB and --sensor NAME of scan and live */
#define OPT_INVENTORY 258
#define OPT_SENSOR 259
/* --scope, --restricts, --proposed of scan and live (docs/rules.md, "Bans") */
#define OPT_SCOPE 260
#define OPT_RESTRICTS 261
#define OPT_PROPOSED 262
#define BAN_OPTIONS                                                                                \
    {"scope", required_argument, NULL, OPT_SCOPE},                                                 \
        {"restricts", required_argument, NULL, OPT_RESTRICTS}, {                                   \
        "proposed", no_argument, NULL, OPT_PROPOSED                                                \
    }

/* Takes one of the options above for every later load_rules; false for
 * another option. */
bool ban_option(int c, const char *arg);

/* Loads an exceptions file; prints every error and returns NULL on failure. */
emb_exceptions_t *load_exceptions(const char *path);
/* "embargo: file:line:col: exception expired DATE (reason) still matched N alerts"
 * for each exception i with counts[i] > 0. */
void print_expired_exceptions(const emb_exceptions_t *x, const uint64_t *counts);

/*
 * Opens `path` for writing under `mode` ("-": standard output); `hint` is
 * what the refusal suggests ("--append adds to it, --force replaces it").
 * Prints why and returns NULL when it cannot or may not.
 */
FILE *open_output(const char *path, out_mode_t mode, const char *hint);

/* Sets *mode from --append ('a') or --force (OPT_FORCE); false (after printing why)
 * when both are given. */
bool output_mode_option(int c, out_mode_t *mode);

/*
 * Where EVE alerts go: a file (new, appended to or replaced) or standard output,
 * each line flushed as written, plus a tally per vendor and channel. The
 * tally copies its strings, so it outlives the rules (live reloads them).
 */
#define EVE_OUT_MAX_TALLY 256
typedef struct {
    FILE *out;
    const char *name; /* for messages: the path, or "standard output" */
    bool write_failed;
    int write_errno;
    uint64_t written;
    struct {
        char vendor[64], channel[32];
        uint64_t n, excepted;
    } tally[EVE_OUT_MAX_TALLY];
    size_t ntally;
} eve_out_t;

/* Opens `path` ("-": standard output); prints why not and returns -1 on error. */
int eve_out_open(eve_out_t *o, const char *path, out_mode_t mode);
/* An emb_alert_cb (userdata: the eve_out_t): writes and flushes one line;
 * returns nonzero (stop) once a write failed. */
int eve_out_alert(const emb_alert_t *a, void *userdata);
/* After logrotate moved the file: opens the path again (appending) and closes
 * the old one; on failure says why and keeps writing the old one. */
int eve_out_reopen(eve_out_t *o);
/* Closes the file; prints the first write failure; 0 or -1. */
int eve_out_close(eve_out_t *o);
/* "  vendor  channel  n" lines on `f`. */
void eve_out_print_tally(const eve_out_t *o, FILE *f);

/*
 * The rule pack's version. The pack format has no version field, so one is
 * derived: "<rules>-<first 12 hex digits of SHA-256>" over every *.yaml file
 * of the pack in name order (its base name, a NUL, its bytes, a NUL). The
 * rule count needs the pack to load; on error returns -1 and sets buf to why.
 */
/* Prints each message of `d` on stderr; returns how many. */
size_t print_diags(const emb_diags_t *d);
int rules_pack_version(const char *path, char *buf, size_t size, size_t *nrules, size_t *nfiles);

/*
 * scan --evidence DIR (evidence.c): per alerting flow, its packets up to its
 * last alerting packet, written by a second pass to DIR/<flow_id>.pcap.
 */
typedef struct evidence evidence_t;
evidence_t *evidence_new(void);
void evidence_free(evidence_t *ev);
/* Notes an alert of flow `flow_id` (0: none) at packet `pcap_cnt`; false when out of memory. */
bool evidence_note(evidence_t *ev, uint64_t flow_id, uint64_t pcap_cnt);
bool evidence_merge(evidence_t *dst, const evidence_t *src);
size_t evidence_flows(const evidence_t *ev);
/* Creates DIR if missing (one level); -1 after printing why not. */
int evidence_prepare_dir(const char *dir);
/* The second pass over `files`; prints what was written (unless quiet) or why not; 0 or -1. */
int evidence_write(evidence_t *ev, const char *dir, char **files, int nfiles,
                   const emb_rules_t *rules, const emb_config_t *cfg, const char *rules_path,
                   bool quiet);

int cmd_live(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif /* EMB_CLI_H */
