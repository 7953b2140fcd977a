/* The PROXY protocol header, v1 and v2: what a balancer in front of the
 * fleet says about the client (doc/proxy-protocol.txt of HAProxy). */
#ifndef ZC_PROXY_H
#define ZC_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/handoff.h"

/* The longest PROXY header we read: v2's 16 bytes plus its TLVs, which we
 * skip, bounded well below the 64 KiB the format allows. */
#define ZC__PROXY_MAX (16 + 1024)
#define ZC__PROXY_MAX_TEXT "1040"  /* for messages; checked in proxy.c */

/* A parsed PROXY header. */
struct zc__proxy {
    bool local;             /* v2 LOCAL, v1 UNKNOWN, or an address family
                               we do not carry: use the socket's own */
    char client[ZC__ADDR_TEXT], server[ZC__ADDR_TEXT];
    unsigned client_port, server_port;
};

/*
 * Parses a PROXY protocol header (v1 text or v2 binary) at the start of
 * buf[0..len). Returns the header's length when it is complete and valid;
 * 0 when it is a valid beginning and more bytes are needed; -EBADMSG with
 * *why when it is not a PROXY header or breaks the format. Pure.
 */
int zc__proxy_parse(const uint8_t *buf, size_t len, struct zc__proxy *ret,
                    const char **why);

#endif
