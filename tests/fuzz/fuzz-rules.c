/*
 * libFuzzer target: the YAML rule loader. The input is written to a
 * temporary .yaml file (emb_rules_load takes a path) and loaded; a pack that
 * loads is also compiled into an engine, so the pattern translation and
 * Hyperscan compilation see fuzzed indicators. Everything is freed.
 */
#include <embargo/embargo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void cleanup(void) {
    if (path[0])
        unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/embargo-fuzz-rules-%ld.yaml", (long)getpid());
        atexit(cleanup);
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();

    emb_rules_t *rules = NULL;
    emb_diags_t *diags = NULL;
    if (emb_rules_load(path, &rules, &diags) == 0) {
        emb_rules_summary_t sum;
        emb_rules_summary(rules, &sum);
        for (size_t i = 0; i < sum.vendors; i++) {
            const char *id, *name;
            size_t n;
            (void)emb_rules_vendor(rules, i, &id, &name, &n);
        }
        emb_config_t cfg;
        emb_config_init(&cfg);
        cfg.max_flows = 16;
        emb_engine_t *e = NULL;
        emb_diags_t *ediags = NULL;
        if (emb_engine_new(rules, &cfg, &e, &ediags) == 0)
            emb_engine_free(e);
        emb_diags_free(ediags);
    } else {
        for (size_t i = 0; i < emb_diags_count(diags); i++)
            (void)strlen(emb_diags_message(diags, i));
    }
    emb_diags_free(diags);
    emb_rules_free(rules);
    return 0;
}
