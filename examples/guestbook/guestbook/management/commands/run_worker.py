"""The worker process: `python manage.py run_worker` (processes.worker in profile.yml)."""

import logging
import os
import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections

from guestbook import jobs

log = logging.getLogger("guestbook.worker")
# The exec liveness probe (guestbook.worker_alive) reads this file's age.
HEARTBEAT = Path(os.environ.get("GUESTBOOK_WORKER_HEARTBEAT", "/tmp/guestbook-worker.alive"))


class Command(BaseCommand):
    help = "Run queued jobs until SIGTERM; the job in progress is finished first."

    def handle(self, *args, **options):
        from django.conf import settings

        if not settings.REDIS_URL:
            raise CommandError("REDIS_URL is not set: the worker needs the queue (redis: true).")
        stopping = []

        def stop(signum, frame):
            # Only a flag: the job in progress (and its sleep, retried by Python) runs on.
            log.info("signal %s: stopping after the current job", signum)
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        redis = jobs.redis_client()
        recovered = 0
        while redis.lmove(jobs.PROCESSING, jobs.QUEUE, "LEFT", "RIGHT") is not None:
            recovered += 1
        log.info("worker started; %d job(s) of a stopped worker put back", recovered)
        while not stopping:
            HEARTBEAT.touch()
            payload = redis.blmove(jobs.QUEUE, jobs.PROCESSING, 1, "RIGHT", "LEFT")
            if payload is None:
                continue
            started = time.monotonic()
            log.info("job started: %s", payload.decode())
            close_old_connections()
            try:
                jobs.run(payload)
            except Exception:
                # A failing job is kept for a person to look at, not retried forever.
                log.exception("job failed: %s", payload.decode())
                redis.lpush("guestbook:failed", payload)
            redis.lrem(jobs.PROCESSING, 1, payload)
            log.info("job done in %.1f s: %s", time.monotonic() - started, payload.decode())
        connections.close_all()
        log.info("worker stopped")
