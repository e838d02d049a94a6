/*
 * Payload patterns on Suricata's reassembled TCP stream, in the transactions
 * mode of the Suricata 8 `embargo` keyword (detect-sc8-stream.c).
 */
#ifndef EMBARGO_DETECT_SC8_STREAM_H
#define EMBARGO_DETECT_SC8_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "embargo/embargo.h"

/* Sets it up for a pack whose payload patterns hold over TCP on the server
 * ports of `tcp_ports` (a bit each), or on every port (`any_port`); the
 * first `depth` bytes of each direction are read. Registers its flow and
 * thread storage: at the keyword's registration. False when Suricata
 * refused. Without it, nothing here does anything. */
bool EmbargoSc8StreamInit(const uint8_t tcp_ports[65536 / 8], bool any_port, uint64_t depth);

/* Whether EmbargoSc8StreamInit was called. */
bool EmbargoSc8StreamEnabled(void);

/* Marks a rule group that has the keyword's flow prefilter as reading the
 * raw stream (SIG_GROUP_HEAD_HAVERAWSTREAM): else detect.c switches the raw
 * stream off at each direction's first detection. */
void EmbargoSc8StreamGroup(SigGroupHead *sgh);

/* On a TCP packet whose detection has raw stream data (PKT_DETECT_HAS_STREAMDATA):
 * the direction's new stretch (from where the last detection left it) through
 * the payload patterns, the rules they raise to `cb`. `only_ours`: embargo's
 * rules are the only ones loaded, so a direction past the depth (or a TLS
 * direction past its ChangeCipherSpec) stops being kept as raw stream. */
void EmbargoSc8StreamScan(DetectEngineThreadCtx *det_ctx, Packet *p, emb_engine_t *e,
                          const emb_facts_t *facts, bool only_ours, emb_match_cb cb,
                          void *userdata);

/* Suricata stops keeping the raw stream of `f`, both ways: it is being
 * passed (sc8-pass.c: no detection would move the raw stream on, and its
 * segments would wait for that), or no payload pattern holds on its ports
 * and embargo's rules are the only ones loaded. */
void EmbargoSc8StreamRelease(Flow *f);

/* Whether a TCP flow's payload is still being read in either direction: such
 * a flow is not passed (sc8-pass.c, Settled). */
bool EmbargoSc8StreamPending(const Flow *f);

#endif /* EMBARGO_DETECT_SC8_STREAM_H */
