/*
 * The device keys' inspection (devices.c), called by inspect.c. Each returns
 * 0 or the error of the round (EMB_EHS, EMB_ECANCELED).
 */
#ifndef EMB_DETECT_DEVICES_H
#define EMB_DETECT_DEVICES_H

#include "detect/state.h"

/* A SIP message over TCP or UDP, request (req) or response (resp), starting at p. */
int emb__device_sip(emb_engine_t *e, const uint8_t *p, const emb_http_request_t *req,
                    const emb_http_response_t *resp);
/* The head of the response in e->resp, starting at p (its status line). */
int emb__device_response(emb_engine_t *e, const uint8_t *p);
/* The first body_len bytes of the body of the response in e->resp. */
int emb__device_response_body(emb_engine_t *e, const uint8_t *body, size_t body_len);
/* True when the first n bytes of a body (of `body` bytes, -1 unsized) are enough
 * to look at: EMB_BODY_HEAD of a sized one, a chunked one's size line, or any
 * bytes of an unsized one. */
bool emb__device_body_ready(const uint8_t *b, size_t n, int64_t body, bool chunked);
/* The first bytes of an HTTP request's body (a TR-069 Inform). */
int emb__device_request_body(emb_engine_t *e, const emb_http_request_t *req, const uint8_t *body,
                             size_t body_len);
/* A UDP payload that is neither DNS nor QUIC. */
int emb__device_datagram(emb_engine_t *e, const uint8_t *p, size_t len);
/* The head of an RTSP or SIP message whole at the start of a TCP segment's
 * payload (a host's segments, not the engine's stream). */
int emb__device_segment(emb_engine_t *e, const uint8_t *p, size_t len);
/* The Ethernet source of the current packet's direction, once per flow. */
int emb__device_mac(emb_engine_t *e);

#endif /* EMB_DETECT_DEVICES_H */
