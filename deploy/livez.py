"""Container health check: exit 0 when the service on ``127.0.0.1:<port>`` answers /livez with 200.

Usage: ``python /opt/tuneloop/livez.py <port>``. /livez answers 503 when the service's own
checks (NATS, database) fail, which marks the container unhealthy.
"""

import sys
import urllib.error
import urllib.request


def main() -> int:
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("usage: livez.py <port>", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{sys.argv[1]}/livez"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
