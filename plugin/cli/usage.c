/*
 * The command's name for messages and the help of every subcommand, each
 * agreeing with docs/embargo.1 (tests/install/check-help-man.py checks).
 */
#include "cli.h"

#include <stdio.h>

const char *prog = "embargo";

static const char synopsis[] =
    "usage: embargo scan [-r RULES] [-o EVE] [-j N] [--append|--force] [-q] [--max-flows N]\n"
    "                    [--evidence DIR] [--exceptions FILE] [--inventory DB]\n"
    "                    [--scope WHO] [--restricts WHAT] [--proposed] PCAP...\n"
    "       embargo live -i IFACE [-r RULES] [-o EVE] [-f BPF] [-j N] [--append|--force]\n"
    "                    [-q] [--max-flows N] [--exceptions FILE] [--pid-file FILE]\n"
    "                    [--inventory DB [--sensor NAME]] [--scope WHO] [--restricts WHAT]\n"
    "                    [--proposed]\n"
    "       embargo report [--format text|json|csv|html] [-o OUT] [--force] [-q]\n"
    "                      [--from DB [--since DAY] [--sensor NAME]] [EVE...]\n"
    "       embargo rules check [--strict] [RULES]\n"
    "       embargo rules export --format suricata|suricata-plugin|zeek-intel\n"
    "                            [--action alert|drop] [--scope WHO] [--restricts WHAT]\n"
    "                            [--proposed] [RULES]\n"
    "       embargo rules manifest|verify|update|rollback|diff ... (embargo rules --help)\n"
    "       embargo inventory add --db DB [--sensor NAME] EVE...\n"
    "       embargo inventory coverage --db DB [--sensor NAME]\n"
    "       embargo inventory prune --db DB --older-than DAYSd\n"
    "       embargo --version | --help (-h) | COMMAND --help\n";

static const char engine_opts[] =
    "  -r, --rules RULES  rule file or directory of *.yaml (default: the shipped pack)\n"
    "  -o, --output EVE   where alerts go; '-' for standard output (default: eve.json)\n"
    "      --append       add to EVE if it holds earlier results\n"
    "      --force        replace EVE if it holds earlier results (without either,\n"
    "                     a file that is not empty is refused)\n"
    "  -q, --quiet        no summary on standard error\n"
    "      --max-flows N  flows tracked at once (default 65536); the oldest is evicted\n"
    "      --stream-depth BYTES  bytes reassembled per TCP direction (default 16384)\n"
    "      --stream-memcap MIB   memory for all reassembly buffers (default 64)\n"
    "      --exceptions FILE  the site's accepted alerts (host, vendor/channel/sid,\n"
    "                     reason, owner, expires): still written, marked excepted\n"
    "      --scope WHO    only the bans that bind WHO: federal, federal-contractors or\n"
    "                     state:XX (and those that bind all); default: every ban\n"
    "      --restricts WHAT  only the bans that restrict one of WHAT: sale, updates,\n"
    "                     use, procurement, new-authorization (comma-separated)\n"
    "      --proposed     proposed bans too (default: only those in force)\n";

static const char footer[] =
    "\n"
    "Exit status: 0 nothing found, 1 alerts written (report: alerts listed), 2 error.\n"
    "Environment: EMBARGO_RULES overrides the default rule pack location;\n"
    "EMBARGO_CACHE_DIR (default ~/.cache/embargo) holds compiled rule databases.\n"
    "See embargo(1).\n";

static void scan_opts(FILE *f) {
    fprintf(f,
            "scan: read pcap/pcapng files, write one EVE alert line per rule and flow.\n"
            "%s"
            "  -j, --threads N    worker threads, each inspecting its share of the flows;\n"
            "                     the output is the same for every N\n"
            "      --no-cache     compile the rules even if a cached copy is there\n"
            "      --inventory DB also keep the alerts in the inventory database, read\n"
            "                     from EVE at the end (embargo inventory --help)\n"
            "      --sensor NAME  the sensor's name there (default: the host name)\n"
            "      --evidence DIR for each alerting flow, its packets up to its last alert\n"
            "                     as DIR/FLOW_ID.pcap (at most 10000 packets per flow,\n"
            "                     256 MiB in all; DIR is created if missing)\n"
            "      --progress, --no-progress  progress line on a terminal (default: on a "
            "terminal)\n",
            engine_opts);
}

static void live_opts(FILE *f) {
    fprintf(f,
            "live: capture on an interface with libpcap and alert as scan does.\n"
            "  -i, --interface IFACE  the interface to capture on (required)\n"
            "  -f, --filter BPF   a capture filter in tcpdump syntax, e.g. 'not port 22'\n"
            "  -j, --threads N    capture threads; the kernel spreads the packets over\n"
            "                     them by flow (Linux PACKET_FANOUT)\n"
            "      --pid-file FILE  write the process id there (for rules update --reload)\n"
            "      --inventory DB  also keep each alert in the inventory database as it is\n"
            "                     written (committed every second; embargo inventory --help)\n"
            "      --sensor NAME  the sensor's name there (default: the host name)\n"
            "      --stats-interval SEC  a stats record in EVE every SEC seconds (default 60;\n"
            "                     0: at the end only), with the kernel's capture counters\n"
            "%s"
            "  Signals: SIGUSR1 prints capture and engine statistics; SIGUSR2 reloads the\n"
            "  rules (kept as they were if the new pack has errors); SIGHUP reopens EVE\n"
            "  (logrotate); SIGINT or SIGTERM stops, prints statistics and closes EVE.\n",
            engine_opts);
}

static void report_opts(FILE *f) {
    fprintf(f, "report: the compliance inventory from eve.json files ('-': standard input).\n"
               "  -f, --format FMT   text (default), json, csv or html (one self-contained page)\n"
               "  -o, --output OUT   where the report goes (default: standard output)\n"
               "      --force        replace OUT if it holds an earlier report\n"
               "  -q, --quiet        no summary on standard error\n"
               "      --from DB      the alerts of the inventory database (embargo inventory)\n"
               "      --since DAY    with --from: only alerts from that day (YYYY-MM-DD) on\n"
               "      --sensor NAME  with --from: only that sensor's alerts\n"
               "  Reads embargo's alerts (alert.metadata.vendor or alert.context.embargo) from\n"
               "  embargo scan, embargo live or Suricata with the plugin; other records are\n"
               "  skipped, lines that are not JSON are counted and named as file:line.\n");
}

static void rules_opts(FILE *f) {
    fprintf(f, "rules check: validate and compile a pack (default: the shipped pack) and\n"
               "  print its vendors, rules per channel and indicators per field.\n"
               "      --strict       the linter's warnings are errors (exit 2)\n"
               "rules export: the pack as rules for another engine, on standard output.\n"
               "      --format FMT   suricata (Suricata 7 rules), suricata-plugin (Suricata 8\n"
               "                     with embargo.so) or zeek-intel (a Zeek Intel file)\n"
               "      --action ACT   alert (default) or drop, for suricata-plugin (IPS)\n"
               "      --scope, --restricts, --proposed  only the rules of vendors with a ban\n"
               "                     that applies, as for scan\n"
               "rules manifest DIR: write DIR/pack.yaml (every rule file and its SHA-256).\n"
               "      --version V --expires DATE  the pack's version (MAJOR.MINOR.PATCH) and\n"
               "                     the day it goes stale; --name N, --released DATE and\n"
               "                     --min-engine V (default: this engine) as needed\n"
               "rules verify DIR: check DIR/pack.yaml.sig (Ed25519) against the trusted keys,\n"
               "  the engine version and every file's hash.\n"
               "      --keys DIR     trusted public keys, *.pem (default: share/embargo/keys)\n"
               "rules update: fetch, verify, compile and install a pack; nothing changes\n"
               "  unless every step passes (exit 0 updated, 1 already current, 2 error).\n"
               "      --from SRC     https:// or file:// URL, or a directory, of the pack\n"
               "      --dest STORE   the pack store (default /var/lib/embargo/packs): the pack\n"
               "                     goes to STORE/VERSION, STORE/current points at it and\n"
               "                     STORE/previous at the one before\n"
               "      --keys DIR     trusted public keys (as for verify)\n"
               "      --ca-file FILE certificates to trust for https:// (default: the system's)\n"
               "      --reload PIDFILE  then send SIGUSR2 to that process (embargo live)\n"
               "rules rollback [--dest STORE] [--reload PIDFILE]: STORE/current back to the\n"
               "  previous pack.\n"
               "rules diff OLD NEW [--format text|json]: rules and indicators added, removed\n"
               "  and changed, per vendor and channel.\n");
}

void usage(FILE *f) {
    fputs(synopsis, f);
    fputs("\nFinds traffic of banned vendors' software and devices (Kaspersky, ...) in\n"
          "packet captures or on an interface, writes Suricata EVE JSON alerts, and builds\n"
          "a compliance inventory from them.\n\n",
          f);
    scan_opts(f);
    fputc('\n', f);
    live_opts(f);
    fputc('\n', f);
    report_opts(f);
    fputc('\n', f);
    rules_opts(f);
    fputs(footer, f);
}

void usage_scan(FILE *f) {
    fputs("usage: embargo scan [-r RULES] [-o EVE] [-j N] [--append|--force] [-q] [--max-flows N]\n"
          "                    [--evidence DIR] [--exceptions FILE] [--inventory DB [--sensor "
          "NAME]]\n"
          "                    [--scope WHO] [--restricts WHAT] [--proposed] PCAP...\n\n",
          f);
    scan_opts(f);
    fputs(footer, f);
}

void usage_live(FILE *f) {
    fputs("usage: embargo live -i IFACE [-r RULES] [-o EVE] [-f BPF] [-j N] [--append|--force]\n"
          "                    [-q] [--max-flows N] [--exceptions FILE] [--pid-file FILE]\n"
          "                    [--scope WHO] [--restricts WHAT] [--proposed]\n\n",
          f);
    live_opts(f);
    fputs(footer, f);
}

void usage_report(FILE *f) {
    fputs("usage: embargo report [--format text|json|csv|html] [-o OUT] [--force] [-q]\n"
          "                      [--from DB [--since DAY] [--sensor NAME]] [EVE...]\n\n",
          f);
    report_opts(f);
    fputs(footer, f);
}

void usage_rules(FILE *f) {
    fputs("usage: embargo rules check [--strict] [RULES]\n"
          "       embargo rules export --format suricata|suricata-plugin|zeek-intel\n"
          "                            [--action alert|drop] [--scope WHO] [--restricts WHAT]\n"
          "                            [--proposed] [RULES]\n"
          "       embargo rules manifest DIR --version V --expires DATE\n"
          "       embargo rules verify DIR [--keys DIR]\n"
          "       embargo rules update --from URL|DIR [--dest STORE] [--keys DIR]\n"
          "                            [--ca-file FILE] [--reload PIDFILE]\n"
          "       embargo rules rollback [--dest STORE] [--reload PIDFILE]\n"
          "       embargo rules diff OLD NEW [--format text|json]\n\n",
          f);
    rules_opts(f);
    fputs(footer, f);
}

void usage_inventory(FILE *f) {
    fputs("usage: embargo inventory add --db DB [--sensor NAME] [-q] EVE...\n"
          "       embargo inventory coverage --db DB [--sensor NAME]\n"
          "       embargo inventory prune --db DB --older-than DAYSd\n\n"
          "inventory add: the alerts of eve.json files into the inventory database, each file\n"
          "  from where its last ingestion stopped (a rotated or cut file from its start);\n"
          "  ingesting a file again adds nothing twice.\n"
          "      --db DB        a SQLite file (created), or a PostgreSQL connection string\n"
          "                     (postgresql://... or 'host=... dbname=...')\n"
          "      --sensor NAME  the sensor the files come from (default: the host name)\n"
          "  -q, --quiet        no line per file on standard error\n"
          "  Stats records (embargo's, Suricata's) are kept too: they say the sensor watched.\n"
          "inventory coverage: per sensor and day, the stats records kept: when the sensor\n"
          "  was watching, the packets it saw and the kernel's drops.\n"
          "inventory prune: forget the alerts and stats records older than DAYS days.\n"
          "      --older-than DAYSd  e.g. 400d\n"
          "embargo report --from DB [--since DAY] [--sensor NAME] reads the inventory.\n",
          f);
    fputs(footer, f);
}
