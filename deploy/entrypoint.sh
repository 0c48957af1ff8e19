#!/bin/sh
# Entrypoint of the tuneloop image: `tuneloop "$@"`.
#
# A service tells the others where its HTTP API is by the address it binds. Binding 0.0.0.0
# would advertise an address no other container can use, so TUNELOOP_HTTP_HOST=auto (the
# image's default) binds the container's own address instead, found from its host name.
set -eu
if [ "${TUNELOOP_HTTP_HOST:-auto}" = "auto" ]; then
  TUNELOOP_HTTP_HOST="$(python -c 'import socket; print(socket.gethostbyname(socket.gethostname()))')"
  export TUNELOOP_HTTP_HOST
fi
exec tuneloop "$@"
