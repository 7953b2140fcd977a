/*
 * Sticky sessions: the primary accepts, picks a slot from the client's
 * address, and hands the connection to that slot's worker over its link
 * (docs/protocol.md, "Sticky sessions"). The pure parts (address text,
 * the PROXY header, the hand-off record) are here for the unit tests and
 * the fuzz target.
 */
#ifndef ZC_STICKY_H
#define ZC_STICKY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for any address text we make: INET6_ADDRSTRLEN, '%', an interface
 * name or a number. */
#define ZC__ADDR_TEXT 64
/* The longest PROXY header we read: v2's 16 bytes plus its TLVs, which we
 * skip, bounded well below the 64 KiB the format allows. */
#define ZC__PROXY_MAX (16 + 1024)
/* A hand-off record: "LISTENER CLIENT PORT SERVER PORT\n". */
#define ZC__CONN_LINE (4 * 8 + 2 * ZC__ADDR_TEXT)

struct zc_primary;
struct slot;
struct worker;

/*
 * The text Node gives as socket.remoteAddress for sa: dotted quad for
 * AF_INET, RFC 5952 form for AF_INET6 (so "::ffff:1.2.3.4" for a mapped
 * IPv4 client), with "%scope" for a scoped link-local address; "" for
 * AF_UNIX and anything else. Writes buf[ZC__ADDR_TEXT], sets *port (0 if
 * none) and returns the length.
 */
size_t zc__sticky_addr_text(const struct sockaddr *sa, char *buf, unsigned *port);

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

/* One hand-off record, newline-terminated, into line[ZC__CONN_LINE];
 * returns its length. client "" and server NULL are written as "-". */
size_t zc__conn_line(char *line, unsigned listener, const char *client,
                     unsigned client_port, const char *server,
                     unsigned server_port);

/* -- the primary's side (sticky.c), called from primary.c ---------------- */

/* Starts accepting on every listener. Returns 0 or -errno (logged). */
int zc__sticky_start(struct zc_primary *p);
/* Shutdown: stops accepting; closes what waits for a worker. */
void zc__sticky_stop(struct zc_primary *p);
/* Before the loop waits: frees what the batch was done with. */
void zc__sticky_before_poll(struct zc_primary *p);
/* Frees everything (teardown), closing what is left. */
void zc__sticky_free(struct zc_primary *p);
/* Slot s may now have a worker that takes connections (ready, linked,
 * or its link writable again): hand it what waits. */
void zc__sticky_kick(struct zc_primary *p, struct slot *s);
/* Slot s is being removed: what waits for it is hashed again over the
 * slots that remain. */
void zc__sticky_slot_removed(struct zc_primary *p, struct slot *s);
/* Sets up a new slot's fields (always: the fleet may not be sticky). */
void zc__sticky_slot_init(struct slot *s);

struct zc__sticky_stats {
    uint64_t handoffs;          /* connections handed to a worker */
    uint64_t rerouted;          /* to another slot than their own */
    uint64_t waiting;           /* in the slots' queues now */
    uint64_t closed_no_worker;  /* no slot could take them */
    uint64_t closed_proxy;      /* bad, late or missing PROXY header */
    uint64_t closed_shutdown;   /* still waiting when the fleet stopped */
    uint64_t accept_pauses;     /* out of fds or memory */
};
void zc__sticky_stats(const struct zc_primary *p, struct zc__sticky_stats *ret);

#endif
