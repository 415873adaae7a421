"""Benchmark of the onebox app: `cd app && python bench/bench.py` (not a test).

Starts its own PostgreSQL (as the tests do) and gunicorn with the real gunicorn.conf.py
(2 preloaded workers), then prints:

- pure segmentation time (the floor) for jieba and rjieba, their load time and memory;
- enrich latency (client and server side) and throughput for 300/3,000/30,000-char pages;
- the naive pattern of the original system, one lookup request per word of a page;
- cold start to ready (/readyz answers 200);
- memory: PSS summed over the gunicorn master and its 2 workers;
- last, a table of the server time beside the in-process floor (segmentation + the fastest
  lookup, a dict in memory, or the app's memory-mapped dictionary + JSON encoding of the
  same answer) and their ratio, for 300, 3,000 and 30,000 characters.
"""

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(APP_DIR))

from tmp_postgres import TempPostgres  # noqa: E402

from bench.textgen import chinese_page  # noqa: E402

SIZES = (300, 3_000, 30_000)


def pss_kb(pid: int | str) -> int:
    """Proportional set size: shared pages are split between the processes sharing them."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError(f"no Pss in /proc/{pid}/smaps_rollup")


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # The command name may hold spaces; the parent pid follows its ")".
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


# --- segmenters, in fresh processes so that memory is theirs alone ---------------------------

_SEGMENTER_PROBE = r"""
import json, statistics, sys, time
sys.path.insert(0, {app!r})
import django
django.setup()
from bench.bench import pss_kb
from bench.textgen import chinese_page
from reader import segmenter
pages = {{n: chinese_page(n) for n in {sizes!r}}}
before = pss_kb("self")
started = time.perf_counter()
segmenter.load({backend!r})
loaded = time.perf_counter() - started
after = pss_kb("self")
result = {{"load_s": loaded, "pss_kb": after - before, "cut_ms": {{}}, "tokens": {{}}}}
for n, page in pages.items():
    runs = 3 if n >= 30000 else 20
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        tokens = segmenter.segment(page)
        times.append(time.perf_counter() - t)
    result["cut_ms"][n] = statistics.median(times) * 1000
    result["tokens"][n] = tokens
print(json.dumps(result, ensure_ascii=False))
"""


def probe_segmenter(backend: str, env: dict) -> dict:
    code = _SEGMENTER_PROBE.format(app=str(APP_DIR), sizes=SIZES, backend=backend)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=APP_DIR,
        env={**env, "ONEBOX_SEGMENTER": backend},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


# --- the in-process floor: what an enrich must do at least, with no HTTP, Django or database --

_FLOOR_PROBE = r"""
import json, statistics, sys, time
sys.path.insert(0, {app!r})
import django
django.setup()
from bench.textgen import chinese_page
from reader import dictmap, segmenter
from reader.lookup import has_han
from reader.models import Headword
segmenter.load()
mapped = dictmap.load()
# The fastest lookup there is: a dict in this process's memory (81 MB; not shared by
# workers, which is why the app uses the map instead).
in_memory = {{form: entries.encode() for form, entries in
             Headword.objects.values_list("form", "entries_json").iterator(chunk_size=20000)}}

def answer(page, get):
    segments = [segmenter.segment(page)]
    unique = {{t for t in segments[0] if has_han(t)}}
    parts = []
    for word in unique:
        entries = get(word)
        parts.append(json.dumps(word, ensure_ascii=False) + ':{{"status":"unknown","entries":'
                     + (entries.decode() if entries is not None else "[]") + "}}")
    return ('{{"segments":' + json.dumps(segments, ensure_ascii=False) + ',"words":{{'
            + ",".join(parts) + "}}}}")

result = {{}}
for n in {sizes!r}:
    page = chinese_page(n)
    for name, get in (("dict", in_memory.get), ("map", mapped.get)):
        runs = 5 if n >= 30000 else 30
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            answer(page, get)
            times.append(time.perf_counter() - t)
        result.setdefault(str(n), {{}})[name] = statistics.median(times) * 1000
print(json.dumps(result))
"""


def probe_floor(backend: str, env: dict) -> dict:
    code = _FLOOR_PROBE.format(app=str(APP_DIR), sizes=SIZES)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=APP_DIR,
        env={**env, "ONEBOX_SEGMENTER": backend},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- HTTP -----------------------------------------------------------------------------------


class Client:
    """One keep-alive connection, as the extension's fetch() would have."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            # As the ingress would set it; the app redirects plain HTTP otherwise.
            "X-Forwarded-Proto": "https",
            "Host": "localhost",
        }

    def post(self, path: str, payload: dict) -> tuple[float, dict, bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        started = time.perf_counter()
        self.conn.request("POST", path, body, self.headers)
        response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {data[:200]!r}")
        timing = {}
        for part in (response.getheader("Server-Timing") or "").split(","):
            name, _, dur = part.strip().partition(";dur=")
            if dur:
                timing[name] = float(dur) / 1000
        return elapsed, timing, data


def wait_ready(port: int, deadline: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("gunicorn did not become ready")


def start_gunicorn(env: dict, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=APP_DIR,
            env={**env, "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        wait_ready(port, time.perf_counter() + 60)
    except RuntimeError:
        stop(proc)
        sys.exit(f"gunicorn did not become ready; its log:\n{log.read_text()[-3000:]}")
    return proc, time.perf_counter() - started


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def latency(client: Client, page: str, runs: int) -> dict:
    client.post("/api/v1/enrich", {"texts": [page]})  # warm the worker and the DB cache
    clients, segments, lookups, auths, apps, words = [], [], [], [], [], 0
    for _ in range(runs):
        elapsed, timing, data = client.post("/api/v1/enrich", {"texts": [page]})
        clients.append(elapsed)
        segments.append(timing["segment"])
        lookups.append(timing["lookup"])
        auths.append(timing["auth"])
        apps.append(timing["app"])
        words = len(json.loads(data)["words"])
    return {
        "client_p50": statistics.median(clients),
        "client_p95": sorted(clients)[int(len(clients) * 0.95) - 1],
        "app_p50": statistics.median(apps),
        "segment_p50": statistics.median(segments),
        "lookup_p50": statistics.median(lookups),
        "auth_p50": statistics.median(auths),
        "words": words,
        "bytes": len(data),
    }


def throughput(port: int, token: str, page: str, threads: int, seconds: float) -> float:
    done = []
    stop_at = time.perf_counter() + seconds

    def worker():
        client = Client(port, token)
        count = 0
        while time.perf_counter() < stop_at:
            client.post("/api/v1/enrich", {"texts": [page]})
            count += 1
        done.append(count)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="per throughput run")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients")
    parser.add_argument("--backends", nargs="+", default=["rjieba", "jieba"])
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with TempPostgres() as pg:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONEBOX_"))},
            "DJANGO_SETTINGS_MODULE": "onebox.settings",
            "DATABASE_URL": pg.url(),
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            # The dictionary map goes with the throwaway database.
            "ONEBOX_DICTIONARY_DIR": str(pg.dir),
        }
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=APP_DIR, env=env, check=True)
        started = time.perf_counter()
        subprocess.run([*manage, "load_dictionary"], cwd=APP_DIR, env=env, check=True)
        print(f"load_dictionary (full CC-CEDICT + HSK): {time.perf_counter() - started:.1f} s")
        token = subprocess.run(
            [*manage, "shell", "-c",
             "from django.contrib.auth.models import User; from reader.models import ApiToken;"
             "print(ApiToken.issue(User.objects.create_user('bench', password='x'))[1])"],
            cwd=APP_DIR, env=env, check=True, capture_output=True, text=True,
        ).stdout.split()[-1]  # fmt: skip

        # Segmenters alone.
        print("\n== segmenters (each in a fresh process) ==")
        probes = {backend: probe_segmenter(backend, env) for backend in ("jieba", "rjieba")}
        for backend, p in probes.items():
            cuts = ", ".join(f"{n:,} chars {p['cut_ms'][str(n)]:.2f} ms" for n in SIZES)
            print(
                f"{backend:7} load {p['load_s']:.2f} s, +{p['pss_kb'] / 1024:.0f} MB PSS; "
                f"segment {cuts}"
            )
        same = all(probes["jieba"]["tokens"][str(n)] == probes["rjieba"]["tokens"][str(n)]
                   for n in SIZES)  # fmt: skip
        ratio = probes["jieba"]["cut_ms"]["3000"] / probes["rjieba"]["cut_ms"]["3000"]
        print(f"identical tokens: {same}; rjieba is {ratio:.1f}x faster on 3,000 chars")

        results = {}
        table = []
        for backend in args.backends:
            # Probed before and after the server runs; the faster of the two counts, as
            # other load on the machine only ever slows a probe down.
            floors = [probe_floor(backend, env)]
            port = int(pg.port) + 1000 + len(results)
            print(f"\n== gunicorn, 2 preloaded workers, ONEBOX_SEGMENTER={backend} ==")
            log = pg.dir / f"gunicorn-{backend}.log"
            proc, cold = start_gunicorn({**env, "ONEBOX_SEGMENTER": backend}, port, log)
            try:
                print(f"cold start to ready: {cold:.2f} s")
                client = Client(port, token)
                rows = {}
                for n in SIZES:
                    page = chinese_page(n)
                    r = latency(client, page, runs=10 if n >= 30_000 else 40)
                    r["rps"] = throughput(port, token, page, args.threads, args.seconds)
                    r["floor"] = probes[backend]["cut_ms"][str(n)] / 1000
                    rows[n] = r
                    print(
                        f"{n:>6,} chars: {r['words']:5} words, {r['bytes'] / 1024:6.0f} KiB | "
                        f"client p50 {ms(r['client_p50'])} p95 {ms(r['client_p95'])} | "
                        f"server {ms(r['app_p50'])} = auth {ms(r['auth_p50'])} + segment "
                        f"{ms(r['segment_p50'])} + lookup {ms(r['lookup_p50'])} + rest | "
                        f"floor {ms(r['floor'])} | {r['rps']:6.1f} req/s "
                        f"({args.threads} clients)"
                    )
                for n, r in rows.items():
                    table.append((backend, n, r))
                r3 = rows[3000]
                print(
                    f"3,000 chars: server time / pure segmentation = "
                    f"{r3['app_p50'] / r3['segment_p50']:.1f}x with the segmentation timed in "
                    f"the same requests, {r3['app_p50'] / r3['floor']:.1f}x against the "
                    f"separate floor (target <= 2x)"
                )

                if backend == "rjieba":
                    # The original pattern: one request per word of the page.
                    tokens = [t for t in probes[backend]["tokens"]["3000"] if t.strip()]
                    started = time.perf_counter()
                    for word in tokens:
                        client.post("/api/v1/lookup", {"words": [word]})
                    naive = time.perf_counter() - started
                    print(
                        f"naive, one lookup request per word: {len(tokens)} requests, "
                        f"{naive:.2f} s for a 3,000-char page vs {r3['client_p50'] * 1000:.1f} ms "
                        f"for one enrich ({naive / r3['client_p50']:.0f}x)"
                    )

                pids = [proc.pid, *children(proc.pid)]
                total = sum(pss_kb(pid) for pid in pids)
                detail = ", ".join(f"{pss_kb(pid) / 1024:.0f}" for pid in pids)
                print(f"PSS master + {len(pids) - 1} workers: {total / 1024:.0f} MB ({detail} MB)"
                      f" (target < 150 MB)")  # fmt: skip
                results[backend] = {"cold_s": cold, "pss_mb": total / 1024, "rows": rows}
            finally:
                stop(proc)
            floors.append(probe_floor(backend, env))
            for n, r in rows.items():
                r["floor_dict"] = min(f[str(n)]["dict"] for f in floors) / 1000
                r["floor_map"] = min(f[str(n)]["map"] for f in floors) / 1000

        print(
            "\n== server time against the in-process floor (segmentation + the fastest lookup"
            " + JSON of the same answer) =="
        )
        print(
            f"{'segmenter':9} {'chars':>6} | {'server p50':>10} | {'floor (dict)':>12} "
            f"{'ratio':>6} | {'floor (map)':>11} {'ratio':>6} | of the server time: auth, "
            "segment, lookup"
        )
        for backend, n, r in table:
            print(
                f"{backend:9} {n:>6,} | {r['app_p50'] * 1000:8.2f} ms | "
                f"{r['floor_dict'] * 1000:9.2f} ms {r['app_p50'] / r['floor_dict']:5.2f}x | "
                f"{r['floor_map'] * 1000:8.2f} ms {r['app_p50'] / r['floor_map']:5.2f}x | "
                f"{r['auth_p50'] * 1000:.2f}, {r['segment_p50'] * 1000:.2f}, "
                f"{r['lookup_p50'] * 1000:.2f} ms"
            )
        for backend, result in results.items():
            print(
                f"{backend}: cold start {result['cold_s']:.2f} s (target < 5 s), "
                f"PSS master + 2 workers {result['pss_mb']:.0f} MB (target < 150 MB)"
            )


if __name__ == "__main__":
    main()
