/*
 * Passing settled flows (sc8-pass.c): the transactions mode's flows in which
 * its rules have nothing left to find stop being inspected.
 */
#ifndef EMBARGO_SC8_PASS_H
#define EMBARGO_SC8_PASS_H

#include <stdbool.h>
#include <stdint.h>

/* Sets it up: which readers of detect-sc8-tx.c's READERS (a bit each) read
 * TLS, which QUIC, and which read a client's first message; `datagrams`: datagrams'
 * device keys are read (UDP flows on the ports devices announce themselves
 * on are then never passed); `macs`: `mac` prefixes are read (the first
 * packet of a passed flow's reply is inspected when its sender's may match);
 * `segments`: RTSP and SIP heads are read from the first TCP segments of
 * each direction, and a SIP flow, or one Suricata did not recognise on
 * RTSP's or SIP's port, is not passed before they came;
 * `payload_ports` (NULL: none): UDP server ports,
 * a bit each, whose flows' first `payload_datagrams` datagrams each way are
 * scanned for payload patterns (not passed before); a flow callback marks
 * the packets of passed flows and, with several workers, moves the worker's
 * watermark past them. Before the threads start. */
void EmbargoSc8PassInit(uint32_t tls_readers, uint32_t quic_readers, uint32_t client_first,
                        bool datagrams, bool macs, bool segments, const uint8_t *payload_ports,
                        uint32_t payload_datagrams);

/* Stops Suricata's detection on `f` if nothing is left to find in it, its
 * rules of addresses and ports aside: the caller has decided those. */
void EmbargoSc8PassSettled(Flow *f);

/* A rule set with embargo's rules is being built (a start, a reload), and
 * whether it passes flows: the packets of flows passed under it skip
 * Suricata's detection. */
void EmbargoSc8PassRules(const DetectEngineCtx *de_ctx, bool passing);
/* The rule set of that version is being freed: it no longer passes flows. */
void EmbargoSc8PassRulesFreed(uint32_t version);

#endif /* EMBARGO_SC8_PASS_H */
