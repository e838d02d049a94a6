/*
 * What the `embargo` command's files share: exit codes, option parsing and
 * the loading of rules and engines with their messages.
 */
#ifndef EMB_CLI_H
#define EMB_CLI_H

#include "embargo/embargo.h"

#include <stdbool.h>
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

int cmd_scan(int argc, char **argv);
int cmd_rules(int argc, char **argv);

#endif /* EMB_CLI_H */
