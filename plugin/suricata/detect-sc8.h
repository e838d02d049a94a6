/*
 * The Suricata 8 detection part of embargo.so (detect-sc8.c): the `embargo`
 * keyword and its configuration, in the mode `embargo.mode` names: the
 * transactions mode (detect-sc8-tx.c, the default) matches the fields of the
 * transactions Suricata parsed; the packets mode runs embargo's own engine
 * on every packet (docs/suricata.md). Built only against Suricata 8's
 * installed headers (CMake SURICATA8_CONFIG).
 */
#ifndef EMBARGO_DETECT_SC8_H
#define EMBARGO_DETECT_SC8_H

/*
 * Registers everything from the plugin's Init (SCPlugin.Init): loads the pack
 * named by `embargo.rules` in suricata.yaml (else $EMBARGO_RULES, else the
 * installed pack), compiles it once into `embargo.cache-dir`, and registers
 * the storage, the callbacks and the `embargo` keyword. On a pack that does
 * not load it logs why and Suricata stops (FatalError), as for a rule file
 * that does not parse.
 */
void EmbargoSc8Register(void);

#endif /* EMBARGO_DETECT_SC8_H */
