/*
 * Sticky hand-offs on the wire: the client address text, the spec's hash,
 * and the record each handed-off fd comes with in a "zc.conn" frame
 * (docs/protocol.md, "Sticky sessions").
 */
#ifndef ZC_HANDOFF_H
#define ZC_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "zcluster.h"

/* Room for any address text we make: INET6_ADDRSTRLEN, '%', an interface
 * name or a number. */
#define ZC__ADDR_TEXT 64
/* A hand-off record: "LISTENER CLIENT PORT SERVER PORT\n". */
#define ZC__CONN_LINE (4 * 8 + 2 * ZC__ADDR_TEXT)

/*
 * The text Node gives as socket.remoteAddress for sa: dotted quad for
 * AF_INET, RFC 5952 form for AF_INET6 (so "::ffff:1.2.3.4" for a mapped
 * IPv4 client), with "%scope" for a scoped link-local address; "" for
 * AF_UNIX and anything else. Writes buf[ZC__ADDR_TEXT], sets *port (0 if
 * none) and returns the length.
 */
size_t zc__handoff_addr_text(const struct sockaddr *sa, char *buf,
                             unsigned *port);

/* One hand-off record, newline-terminated, into line[ZC__CONN_LINE];
 * returns its length. client "" and server NULL are written as "-". */
size_t zc__handoff_line(char *line, unsigned listener, const char *client,
                        unsigned client_port, const char *server,
                        unsigned server_port);

/*
 * Parses one record at *p (up to end) into *c, its addresses copied into
 * client and server (each of size bytes; c points at them, c->server
 * NULL for "-"), and moves *p past it. Returns false, *p anywhere in the
 * record, when it does not parse: fields are single-space separated, the
 * numbers decimal up to 65535, the line ends with '\n'. Pure.
 */
bool zc__handoff_parse(const char **p, const char *end, zc_conn *c,
                       char *client, char *server, size_t size);

#endif
