"""Container health check: exit 0 when the service on ``<host>:<port>`` answers /livez with 200.

Usage: ``python /opt/tuneloop/livez.py <port>``. The host is the address the service binds:
``TUNELOOP_HTTP_HOST``, where ``auto`` (the image's default, see entrypoint.sh) is the
container's own address and ``0.0.0.0`` or nothing is 127.0.0.1. /livez answers 503 when the
service's own checks (NATS, database) fail, which marks the container unhealthy.
"""

import os
import socket
import sys
import urllib.error
import urllib.request


def service_host() -> str:
    host = os.environ.get("TUNELOOP_HTTP_HOST", "auto")
    if host == "auto":
        return socket.gethostbyname(socket.gethostname())
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return host


def main() -> int:
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("usage: livez.py <port>", file=sys.stderr)
        return 2
    url = f"http://{service_host()}:{sys.argv[1]}/livez"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
