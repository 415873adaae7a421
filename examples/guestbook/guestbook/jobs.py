"""Background jobs: a reliable queue in Redis (REDIS_URL), one job kind: count an entry's words.

Why not a library: the queue is four Redis commands, and this shape loses no job however the
worker stops. A worker takes a job with BLMOVE from `guestbook:jobs` into
`guestbook:processing` and removes it from there only when the job is done:
- SIGTERM (a rollout, `kubectl delete`): the current job is finished, then the worker exits;
- SIGKILL (OOM, the grace period ran out, a node crash): the job stays in `processing`, and
  the next worker moves it back to the queue when it starts.
The profile runs one worker (Recreate), so whatever is in `processing` at start belongs to a
dead worker. A job may so run twice: jobs must be idempotent (counting words is).
Without REDIS_URL a job runs in the request (development, tests).
"""

import json
import logging
import os
import time

from django.conf import settings
from django.db import transaction

from .models import Entry

QUEUE = "guestbook:jobs"
PROCESSING = "guestbook:processing"
log = logging.getLogger(__name__)


def redis_client():
    import redis  # only where a queue is configured

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=10, health_check_interval=30)


def count_words(entry_id: int) -> None:
    # Test-only: the container test slows jobs down to stop a worker in the middle of one.
    time.sleep(float(os.environ.get("GUESTBOOK_JOB_SECONDS", "0")))
    entry = Entry.objects.filter(pk=entry_id).first()
    if entry is None:
        return  # deleted meanwhile: nothing to count
    entry.words = len(entry.message.split())
    entry.save(update_fields=["words"])


def enqueue_count_words(entry_id: int) -> None:
    """Queue the job once the entry is committed (so that the worker can read it)."""
    if not settings.REDIS_URL:
        transaction.on_commit(lambda: count_words(entry_id))
        return
    payload = json.dumps({"job": "count_words", "entry_id": entry_id})
    transaction.on_commit(lambda: redis_client().lpush(QUEUE, payload))


def run(payload: bytes) -> None:
    job = json.loads(payload)
    if job.get("job") != "count_words":
        raise ValueError(f"unknown job {job!r}")
    count_words(int(job["entry_id"]))
