/*
 * embargo.so's entry point for Suricata 8 while plugin.c (the Suricata 7 EVE
 * filetype) is built for Suricata 7 only: the plugin's Init registers the
 * `embargo` detection keyword (detect-sc8.c). Once plugin.c builds for
 * Suricata 8 it calls EmbargoSc8Register() from its own Init and this file goes.
 */
#include "suricata-common.h"
#include "suricata-plugin.h"

#include "detect-sc8.h"

#include <embargo/embargo.h>

static const SCPlugin embargo_plugin = {
    .version = SC_API_VERSION,
    .suricata_version = SC_PACKAGE_VERSION,
    .name = "embargo",
    .plugin_version = EMB_VERSION_STRING,
    .license = "NOASSERTION", /* the project has not chosen a licence yet */
    .author = "embargo",
    .Init = EmbargoSc8Register,
};

__attribute__((visibility("default"))) const SCPlugin *SCPluginRegister(void);
const SCPlugin *SCPluginRegister(void) {
    return &embargo_plugin;
}
