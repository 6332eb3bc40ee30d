"""A real job-queue library end to end: Python RQ enqueues jobs (MULTI/EXEC pipelines, lists,
sorted-set registries, hashes) and a separate `rq worker` process runs them (BLPOP-style
dequeue, Pub/Sub command channel, WATCH-protected state changes), including a failing job
that must land in the failed registry.  Passes against redis-server too.

RQ is pinned to 1.11.1, the last release that keeps results in hashes: later releases store
them in Redis Streams (Apus's Streams issue). scripts/test installs it in .build-compat/rq.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_queue.py -q
"""

import os
import subprocess
import sys
import textwrap

import pytest
import redis

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))
RQ_PATH = os.environ.get(
    "RQ_PATH", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".build-compat", "rq"))
sys.path.insert(0, RQ_PATH)

from rq import Queue  # noqa: E402
from rq.job import JobStatus  # noqa: E402


@pytest.fixture
def jobs_module(tmp_path):
    (tmp_path / "apus_jobs.py").write_text(textwrap.dedent("""
        import redis

        def add(a, b):
            return a + b

        def count_words(text):
            return {w: text.split().count(w) for w in set(text.split())}

        def fail():
            raise ValueError("boom")
    """))
    sys.path.insert(0, str(tmp_path))
    import apus_jobs
    yield apus_jobs, tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("apus_jobs", None)


def test_rq_worker_processes_jobs(jobs_module):
    module, path = jobs_module
    r = redis.Redis(host=HOST, port=PORT)
    r.flushall()
    q = Queue("apus", connection=r)
    jobs = [q.enqueue(module.add, i, i * 2) for i in range(25)]
    words = q.enqueue(module.count_words, "to be or not to be")
    bad = q.enqueue(module.fail)
    assert len(q) == 27

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([RQ_PATH, str(path), os.environ.get("PYTHONPATH", "")]))
    worker = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", f"redis://{HOST}:{PORT}", "apus"],
        env=env, cwd=str(path), capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr

    for i, job in enumerate(jobs):
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED
        assert job.result == i * 3
    words.refresh()
    assert words.result == {"to": 2, "be": 2, "or": 1, "not": 1}
    bad.refresh()
    assert bad.get_status() == JobStatus.FAILED
    assert "ValueError: boom" in bad.exc_info
    assert len(q) == 0
    assert q.failed_job_registry.get_job_ids() == [bad.id]
    assert q.finished_job_registry.count == 26
    r.close()
