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
 * computes JA4 for every TLS client); `packet_duties`: the keyword's packet
 * prefilter, on every packet of a rule group that has a rule of ours, feeds
 * DNS answers to the worker's engine (EmbargoSc8TxFeedDns) and says how far
 * the worker has read (EmbargoSc8WorkerRead), instead of a flow callback;
 * `pass_flows`: it passes a flow in which the rules have nothing left to
 * find, when they are the only rules loaded (embargo.pass-settled-flows);
 * `datagrams`: the pack has device keys a UDP datagram gives (SSDP, SIP,
 * DHCP, SNMP, DHIP, SADP, WS-Discovery), which the packet prefilter reads
 * from each datagram with the engine's own parsers (Suricata's give none of
 * them) for the rules of such keys, put behind it by EmbargoSc8TxFlowSetup;
 * `macs`: the pack has `mac` prefixes, read the same way from the Ethernet
 * source of each direction's first packet; `payload_ports` (NULL: none), the
 * UDP server ports of the pack's payload patterns (a bit each,
 * emb_rules_payload_ports): the first datagrams of each direction of a flow
 * on one are scanned for them, and the flow is not passed before;
 * `segments`: the pack has device keys of an RTSP or SIP message's head
 * (rtsp.server, sip.user_agent), read from the first data segments of each
 * direction of a TCP flow (Suricata parses no RTSP, and gives no SIP header);
 * `bodies`: the pack has device keys of HTTP bodies, of requests (cwmp.*:
 * BODY_REQUEST) or responses (onvif.device, http.response_body:
 * BODY_RESPONSE): Suricata is asked to keep those bodies, and their first
 * bytes are read (detect-sc8-read.c, EmbargoSc8HttpBodies).
 * False when Suricata refused. */
#define BODY_REQUEST 1u
#define BODY_RESPONSE 2u
bool EmbargoSc8TxRegister(int keyword_id, bool ja4, bool packet_duties, bool pass_flows,
                          bool datagrams, bool macs, bool segments, uint8_t bodies,
                          const uint8_t *payload_ports);

/* Puts the keyword of `s` (its parsed `d`) on the transaction list, as the
 * rule's prefilter. 0, or -1 when Suricata refused. */
int EmbargoSc8TxSetup(DetectEngineCtx *de_ctx, Signature *s, EmbargoSc8Data *d);

/* Puts a rule of addresses and ports alone (`d`, on the packet list as `sm`)
 * behind the keyword's packet prefilter: Suricata evaluates it only on the
 * packet where its flow first shows it is a conversation (a TCP handshake,
 * UDP both ways) and the flow's endpoints raise it; a rule of datagrams'
 * device keys, on the datagram whose keys raise it. */
void EmbargoSc8TxFlowSetup(DetectEngineCtx *de_ctx, Signature *s, SigMatch *sm, EmbargoSc8Data *d);

/* The keyword of a rule of addresses and ports alone on packet `p`: 1 when
 * the packet prefilter raised the rule `d` asks for on it, with the alert's
 * context given to `s`, once per flow. */
int EmbargoSc8TxFlowMatch(DetectEngineThreadCtx *det_ctx, Packet *p, const Signature *s,
                          const EmbargoSc8Data *d);

/* A packet from port 53, to the worker's engine, which learns the addresses
 * its DNS answers give (for attribution) and reports nothing. */
void EmbargoSc8TxFeedDns(ThreadVars *tv, const Packet *p);

#endif /* EMBARGO_DETECT_SC8_TX_H */
