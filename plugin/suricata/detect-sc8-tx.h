/*
 * The transactions mode of the `embargo` keyword (detect-sc8-tx.c): matches
 * the DNS, TLS, HTTP and QUIC transactions Suricata 8 parsed.
 */
#ifndef EMBARGO_DETECT_SC8_TX_H
#define EMBARGO_DETECT_SC8_TX_H

#include <stdbool.h>

#include "sc8-state.h"

/* Registers the keyword's transaction list, prefilter and matcher on the
 * keyword `keyword_id`; `ja4`: the pack has JA4 indicators (Suricata then
 * computes JA4 for every TLS client). False when Suricata refused. */
bool EmbargoSc8TxRegister(int keyword_id, bool ja4);

/* Puts the keyword of `s` (its parsed `d`) on the transaction list, as the
 * rule's prefilter. 0, or -1 when Suricata refused. */
int EmbargoSc8TxSetup(DetectEngineCtx *de_ctx, Signature *s, EmbargoSc8Data *d);

/*
 * The rules of addresses and ports alone, for the flow of `p`, once it is a
 * conversation (a TCP handshake, UDP both ways): at most `max` into `hits`,
 * each with its evidence; 0 before that and after the first time. No packet
 * is decoded: the flow's endpoints are Suricata's.
 */
int EmbargoSc8TxFlowRules(ThreadVars *tv, Packet *p, EmbargoHit *hits, int max);

/* A packet from port 53, to the worker's engine, which learns the addresses
 * its DNS answers give (for attribution) and reports nothing. */
void EmbargoSc8TxFeedDns(ThreadVars *tv, const Packet *p);

#endif /* EMBARGO_DETECT_SC8_TX_H */
