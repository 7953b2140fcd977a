#!/bin/sh
# A generation under Server::Starter, for bench/reload.sh:
#   start_server --port=127.0.0.1:PORT -- bench/reload-starter.sh HELLO STARTUP_MS
# Server::Starter passes its socket as SERVER_STARTER_PORT=ADDR=FD; the same
# zcluster-hello binary, as its own primary with 2 workers, takes it as
# systemd's LISTEN_FDS at fd 3.
fd=${SERVER_STARTER_PORT##*=}
[ "$fd" = 3 ] || eval "exec 3<&$fd $fd<&-"
LISTEN_FDS=1 LISTEN_PID=$$ exec "$1" --cluster 2 --startup-delay "$2"
