"""Container health check for the web service: GET /healthz (database and broker) must answer 200.

Standard library only (the image has no curl). The Host header is the first ALLOWED_HOSTS entry,
since Django answers 400 to any other host; X-Forwarded-Proto says HTTPS, as the TLS proxy in front
would, so that SECURE_SSL_REDIRECT does not answer with a redirect.
"""

import os
import sys
import urllib.request

host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
if not host or "*" in host:
    host = "localhost"
request = urllib.request.Request(
    f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # 503 (a part down), refused, timeout: all unhealthy
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
