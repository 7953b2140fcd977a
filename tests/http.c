/* A minimal HTTP/1.1 client for the tests, with timeouts on every call. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"

static void set_timeouts(int fd)
{
    struct timeval tv = { .tv_sec = 5 };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int connect_to(int port, const char *unix_path)
{
    struct sockaddr_in in = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t) port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = socket(unix_path ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd == -1)
        return -1;
    set_timeouts(fd);
    if (unix_path)
        snprintf(un.sun_path, sizeof(un.sun_path), "%s", unix_path);
    if (unix_path ? connect(fd, (struct sockaddr *) &un, sizeof(un))
                  : connect(fd, (struct sockaddr *) &in, sizeof(in))) {
        close(fd);
        return -1;
    }
    return fd;
}

int zt_http_connect(int port)
{
    return connect_to(port, NULL);
}

static const char *find_header(const char *head, const char *name)
{
    size_t n = strlen(name);

    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, name, n) == 0 && l[2 + n] == ':')
            return l + 3 + n;
    return NULL;
}

/* Reads one response: the head, then Content-Length bytes of body. */
static int read_response(int fd, struct zt_resp *r)
{
    char buf[4096];
    size_t len = 0;
    const char *end = NULL, *v;
    long body;

    memset(r, 0, sizeof(*r));
    r->pid = -1;
    r->slot = -1;
    while (!end) {
        ssize_t n = recv(fd, buf + len, 1, 0);     /* byte by byte: no overread */

        if (n <= 0 || ++len == sizeof(buf) - 1)
            return 0;
        buf[len] = '\0';
        end = len >= 4 ? strstr(buf + len - 4, "\r\n\r\n") : NULL;
    }
    snprintf(r->head, sizeof(r->head), "%.*s", (int) sizeof(r->head) - 1, buf);
    if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1)
        return 0;
    if ((v = find_header(buf, "X-Worker-Pid")))
        r->pid = atol(v);
    if ((v = find_header(buf, "X-Worker-Slot")))
        r->slot = atoi(v);
    v = find_header(buf, "Connection");
    r->closing = v && strstr(v, "close");
    v = find_header(buf, "Content-Length");
    for (body = v ? atol(v) : 0; body > 0;) {
        ssize_t n = recv(fd, buf, body < (long) sizeof(buf) ? (size_t) body : sizeof(buf), 0);

        if (n <= 0)
            return 0;
        body -= n;
    }
    return r->status;
}

int zt_http_request(int fd, struct zt_resp *r)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";

    if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t) sizeof(req) - 1) {
        memset(r, 0, sizeof(*r));
        return 0;
    }
    return read_response(fd, r);
}

int zt_http_read(int fd, struct zt_resp *r)
{
    return read_response(fd, r);
}

int zt_http_get(int port, const char *unix_path, struct zt_resp *r)
{
    static const char req[] =
        "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    int fd = connect_to(port, unix_path), status = 0;

    memset(r, 0, sizeof(*r));
    if (fd < 0)
        return 0;
    if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t) sizeof(req) - 1)
        status = read_response(fd, r);
    close(fd);
    return status;
}

/* Sends req as it is and reads until the server closes (5 s at most).
 * Returns the status, 0 if nothing came; *body points into buf. */
int zt_http_raw(int port, const char *req, size_t len, char *buf, size_t size,
               const char **body)
{
    int fd = connect_to(port, NULL), status = 0;
    size_t n = 0;
    ssize_t r;

    ASSERT(fd >= 0);
    if (len)
        ASSERT_EQ(send(fd, req, len, MSG_NOSIGNAL), (ssize_t) len);
    while (n < size - 1 && (r = recv(fd, buf + n, size - 1 - n, 0)) > 0)
        n += (size_t) r;
    buf[n] = '\0';
    close(fd);
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        status = 0;
    if (body) {
        const char *b = strstr(buf, "\r\n\r\n");

        *body = b ? b + 4 : buf + n;
    }
    return status;
}

/* GET path with Connection: close. */
int zt_http_fetch(int port, const char *path, char *buf, size_t size,
                  const char **body)
{
    char req[256];

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             path);
    return zt_http_raw(port, req, strlen(req), buf, size, body);
}

/* The value of the sample whose text before the value is key; NAN if
 * none. */
double zt_sample(const char *body, const char *key)
{
    size_t k = strlen(key);

    for (const char *l = body; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (strncmp(l, key, k) == 0 && l[k] == ' ')
            return strtod(l + k + 1, NULL);
    return NAN;
}

double zt_metric(int mport, const char *key)
{
    static char buf[256 * 1024];
    const char *body;

    ASSERT_EQ(zt_http_fetch(mport, "/metrics", buf, sizeof(buf), &body), 200);
    return zt_sample(body, key);
}

int zt_unix_connect(const char *path)
{
    int fd = connect_to(0, path);

    ASSERT(fd >= 0);
    return fd;
}

/* Sends req on a unix socket, reads until EOF (or the socket timeout:
 * give "Connection: close");
 * returns the bytes read, buf NUL-terminated. */
size_t zt_unix_raw(const char *path, const char *req, char *buf, size_t size)
{
    int fd = zt_unix_connect(path);
    size_t n = 0, len = strlen(req);
    ssize_t r;

    ASSERT_EQ(send(fd, req, len, MSG_NOSIGNAL), (ssize_t) len);
    while (n < size - 1 && (r = recv(fd, buf + n, size - 1 - n, 0)) > 0)
        n += (size_t) r;
    buf[n] = '\0';
    close(fd);
    return n;
}

/* 200 keep-alive connections opened one by one, all before the first
 * request, over 4 slots: how many each slot answered. */
void zt_keepalive_spread(int port, int n, int *per_slot, int slots)
{
    struct zt_resp r;
    int fds[512];

    ASSERT(n <= 512);
    for (int i = 0; i < n; i++)
        ASSERT((fds[i] = zt_http_connect(port)) >= 0);
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(zt_http_request(fds[i], &r), 200);
        ASSERT(r.slot >= 0 && r.slot < slots);
        per_slot[r.slot]++;
        close(fds[i]);
    }
}

int zt_http_read_all(const int *fds, int n)
{
    int answered = 0;

    for (int i = 0; i < n; i++) {
        struct zt_resp r;

        answered += zt_http_read(fds[i], &r) == 200;
        close(fds[i]);
    }
    return answered;
}

void zt_http_send_all(int port, int *fds, int n)
{
    static const char req[] =
        "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

    for (int i = 0; i < n; i++) {
        fds[i] = zt_http_connect(port);
        ASSERT(fds[i] >= 0);
        ASSERT(send(fds[i], req, sizeof(req) - 1, MSG_NOSIGNAL) ==
               (ssize_t) sizeof(req) - 1);
    }
}
