"""gunicorn settings for onebox: `gunicorn -c gunicorn.conf.py`.

Environment: PORT (8000), WEB_CONCURRENCY (2 workers), GUNICORN_TIMEOUT (60 s),
GUNICORN_MAX_REQUESTS (1000) and GUNICORN_MAX_REQUESTS_JITTER (100).
"""

import gc
import json
import os

from gunicorn import util

wsgi_app = "onebox.wsgi:application"
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# Import Django and build the segmenter once in the master (onebox/wsgi.py does that on
# import); forked workers share those pages instead of each loading their own copy.
preload_app = True

# Workers touch a heartbeat file every few seconds: keep it in RAM, not on the container's
# (possibly read-only, possibly slow overlay) filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Recycle workers now and then so slow leaks cannot grow without bound; the jitter keeps
# them from all restarting at once. A new worker forks from the preloaded master: no reload.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "100"))

# Long enough for the largest word-list import (ONEBOX_MAX_IMPORT_BYTES).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"


def pre_fork(server, worker):
    # Move everything loaded so far out of the garbage collector's reach, so collections in
    # the workers do not write to (and so un-share) the pages inherited from the master.
    gc.freeze()


# gunicorn answers some malformed requests itself, before the app sees them: a request line
# over limit_request_line (414), headers over limit_request_field_size or too many (431), a
# request line or header it cannot parse (400). Its page is HTML; the API answers JSON
# always, and a browser shows JSON well enough, so every such answer is JSON. gunicorn's
# workers call util.write_error through the module, so replacing it here (in the master,
# before the fork) covers every worker; tests/test_live.py checks that it still does.
def write_json_error(sock, status_int, reason, mesg):
    body = json.dumps({"error": f"{reason}: {mesg}"}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_json_error
