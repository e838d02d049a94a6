/*
 * State that several engines share when each inspects its share of one packet
 * stream (embargo scan -j N): the DNS attribution table, and the order in
 * which the engines may use it (docs/flows.md, "Workers").
 */
#ifndef EMB_SHARED_H
#define EMB_SHARED_H

#include "detect/attrib.h"
#include "embargo/embargo.h"

#include <stdint.h>

/* Worker `index` has finished every packet numbered below `pcap_cnt`. */
void emb__shared_progress(emb_shared_t *s, unsigned index, uint64_t pcap_cnt);

/* The table the engines share; owned by `s`. */
emb_attrib_t *emb__shared_attrib(emb_shared_t *s);

/* Worker `index` is done with packet `pcap_cnt` and every one before it. */
void emb__shared_skip(emb_shared_t *s, unsigned index, uint64_t pcap_cnt);

/*
 * Returns once every other worker has finished all its packets numbered below
 * `pcap_cnt`, after publishing that worker `index` has done the same, with the
 * turn held (emb__shared_end_turn gives it back, when the packet is done).
 * Called before the first use of the table at packet `pcap_cnt`: uses then
 * happen in packet order whatever the threads do, as with one engine.
 */
void emb__shared_wait(emb_shared_t *s, unsigned index, uint64_t pcap_cnt);
void emb__shared_end_turn(emb_shared_t *s);

#endif
