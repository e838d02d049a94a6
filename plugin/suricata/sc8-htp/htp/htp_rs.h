/*
 * Suricata 8's app-layer-htp.h, installed with its headers, includes the C
 * header of its HTTP/1 parser (rust/htp), which is generated at build time
 * and not installed. detect-sc8-read.c needs app-layer-htp.h for the layout
 * of a transaction's bodies (HtpTxUserData), which it must take from the
 * Suricata it is built against; of the parser's header that file needs only
 * these names, as pointers. The parser's functions the plugin calls are
 * declared in detect-sc8-read.c.
 */
#ifndef EMBARGO_SC8_HTP_RS_H
#define EMBARGO_SC8_HTP_RS_H

typedef struct htp_cfg_t htp_cfg_t;
typedef struct htp_connp_t htp_connp_t;
typedef struct htp_conn_t htp_conn_t;
typedef struct htp_tx_t htp_tx_t;

#endif /* EMBARGO_SC8_HTP_RS_H */
