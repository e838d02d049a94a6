/*
 * The pack as a Zeek Intel framework file (export-zeek.c).
 */
#ifndef EMB_PACK_TOOLS_EXPORT_ZEEK_H
#define EMB_PACK_TOOLS_EXPORT_ZEEK_H

#include "pack-tools/export-writer.h"

/* Writes the Intel file through X; returns X->rc. */
int emb__export_zeek(exp_t *X);

#endif /* EMB_PACK_TOOLS_EXPORT_ZEEK_H */
