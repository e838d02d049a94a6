/*
 * Passing settled flows (sc8-pass.c): the transactions mode's flows in which
 * its rules have nothing left to find stop being inspected.
 */
#ifndef EMBARGO_SC8_PASS_H
#define EMBARGO_SC8_PASS_H

#include <stdbool.h>
#include <stdint.h>

/* Sets it up: which readers of detect-sc8-tx.c's READERS (a bit each) read
 * TLS, and which read a client's first message. With several workers, the
 * packets of passed flows still move the worker's watermark. */
void EmbargoSc8PassInit(uint32_t tls_readers, uint32_t client_first);

/* Stops Suricata's detection on `f` if nothing is left to find in it, its
 * rules of addresses and ports aside: the caller has decided those. */
void EmbargoSc8PassSettled(Flow *f);

#endif /* EMBARGO_SC8_PASS_H */
