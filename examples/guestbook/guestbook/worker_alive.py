"""The worker's exec liveness probe: `python -m guestbook.worker_alive`.

Alive when the worker's loop touched its heartbeat file in the last GUESTBOOK_WORKER_STALE
seconds (default 120: longer than any job). No Django import: the probe runs every few
seconds and must stay cheap.
"""

import os
import sys
import time

HEARTBEAT = os.environ.get("GUESTBOOK_WORKER_HEARTBEAT", "/tmp/guestbook-worker.alive")

try:
    age = time.time() - os.stat(HEARTBEAT).st_mtime
except FileNotFoundError:
    sys.exit("no heartbeat yet")
limit = float(os.environ.get("GUESTBOOK_WORKER_STALE", "120"))
sys.exit(0 if age < limit else f"heartbeat {age:.0f} s old (limit {limit:.0f} s)")
