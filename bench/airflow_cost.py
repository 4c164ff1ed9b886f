"""Airflow's own cost per page, and a projection of what 16 workers deliver.

    .venv/bin/python bench/airflow_cost.py [--docs 6] [--seed 4711] [--engine rapidocr] [--sim-workers 16]

Back to back on the same synthetic batch (seed below 90000), each into a fresh PostgreSQL catalogue:
1. the embedded runner with one worker process: wall time T_e;
2. a real local stack (scripts/airflow-local.sh's, one Celery worker with one slot, `ocr` pool 1):
   dangan_backlog triggered over REST, wall time T_a from trigger to success, every task instance's
   queue wait and duration from the API, and the CPU seconds the central components (scheduler,
   api-server, dag-processor) and the worker spent meanwhile.
Airflow's cost per page is (T_a - T_e) / pages, per task (T_a - T_e) / tasks.

The projection to N workers on N machines uses only what was measured:
- per worker, the one-slot run's pages per second (its per-task overhead travels with each worker);
- the central components: CPU seconds per task, against 2 dedicated cores (a typical scheduler host);
- the catalogue database: N simulated workers (processes) each replaying a recognition task's writes
  (open the store, save a chunk of real page results, read them back) at once against PostgreSQL,
  pages per second in all against what N workers need;
- the one-batch serial part (plan, assemble, number, finish run once per batch): Amdahl's law for one
  batch; a backlog runs many batches at once, which hides it.
Speed-up(N) = the smallest of those limits. The machine is shared and noisy: figures are ratios from
one run. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

from pipeline.ingest.discover import batch_id_for
from pipeline.run import ingest_batch
from pipeline.settings import OcrSettings, Settings
from pipeline.stack import LocalStack, StackConfig
from pipeline.store import open_store
from schemas.models import Batch, FileStatus, PageResult, SourceFile
from synth import generate_batch

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
CENTRAL = ("scheduler", "api-server", "dag-processor")
MAPPED = ("recognise_pages", "archive_records")
CENTRAL_CORES = 2


def _admin() -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True)


def _fresh_db(name: str) -> str:
    with _admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return PG + name


def _drop_db(name: str) -> None:
    with _admin() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _cpu(pid: int | None) -> float:
    """CPU seconds of a process, its live descendants and the children they reaped."""
    if pid is None:
        return 0.0
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _embedded(batch: Path, root: Path, engine: str, db: str) -> float:
    settings = Settings(home=root / "embedded", db_url=_fresh_db(db), ocr=OcrSettings(engine=engine), workers=1)
    started = time.perf_counter()
    summary = ingest_batch(batch, settings, show_progress=False)
    assert not summary.failed, summary.failed
    return time.perf_counter() - started


def _on_airflow(batch: Path, root: Path, engine: str, name: str) -> dict[str, Any]:
    cfg = StackConfig(
        name=name, state_dir=root / "stack", dangan_home=root / "airflow-home", drop_dir=root / "drop",
        workers=1, worker_concurrency=1, ocr_slots=1, ocr_engine=engine,
    )  # fmt: skip
    stack = LocalStack(cfg)
    try:
        stack.up()
        api = stack.api()
        api.set_paused("dangan_backlog", False)
        time.sleep(5)  # let start-up work settle before measuring
        pids = {c: stack.pid(c) for c in (*CENTRAL, "worker-1")}
        cpu0 = {c: _cpu(p) for c, p in pids.items()}
        started = time.perf_counter()
        run = api.trigger("dangan_backlog", {"batch_dir": str(batch)})
        done = api.wait("dangan_backlog", run.run_id, 3600, poll=0.5)
        wall = time.perf_counter() - started
        cpu = {c: _cpu(p) - cpu0[c] for c, p in pids.items()}
        assert done.state == "success", api.tasks("dangan_backlog", run.run_id)
        tis = _task_times(stack, run.run_id)
        return {"wall": wall, "cpu": cpu, "tasks": tis}
    finally:
        stack.down(drop_databases=True)


def _task_times(stack: LocalStack, run_id: str) -> list[dict[str, Any]]:
    """(task_id, queued→start wait, duration) of every task instance that ran, from the metadata DB."""
    with psycopg.connect(host=stack.cfg.pg_host, user=stack.cfg.pg_user, dbname=stack.cfg.airflow_db) as conn:
        rows = conn.execute(
            "SELECT task_id, EXTRACT(EPOCH FROM start_date - queued_dttm), EXTRACT(EPOCH FROM end_date - start_date)"
            " FROM task_instance WHERE run_id = %s AND start_date IS NOT NULL",
            (run_id,),
        ).fetchall()
    return [{"task_id": t, "wait": float(w or 0), "duration": float(d or 0)} for t, w, d in rows]


def _replay_writes(db_url: str, pages: list[dict[str, Any]], rounds: int, worker: int, out: Any) -> None:
    """One simulated worker: `rounds` recognition tasks' catalogue traffic, each in its own store."""
    results = [PageResult.model_validate(p) for p in pages]
    saved = 0
    started = time.perf_counter()
    for n in range(rounds):
        store = open_store(db_url)
        try:
            batch_id = f"sim{worker}-{n}"
            file_id = uuid.uuid4().hex
            store.upsert_batch(Batch(batch_id=batch_id, root=f"/sim/{batch_id}", created_at=datetime.now(UTC)))
            store.upsert_source_file(
                SourceFile(file_id=file_id, batch_id=batch_id, rel_path="sim.pdf", size=1, sha256="0" * 64,
                           page_count=len(results), status=FileStatus.PENDING)
            )  # fmt: skip
            for no, page in enumerate(results, start=1):
                ref = page.page.model_copy(update={"file_id": file_id, "page_no": no})
                store.save_page(batch_id, page.model_copy(update={"page": ref}))
                saved += 1
            assert len(store.pages(file_id)) == len(results)
        finally:
            store.close()
    out.put((saved, time.perf_counter() - started))


def _contention(db_url: str, pages: list[dict[str, Any]], workers: int, rounds: int) -> float:
    """Pages per second the catalogue takes from `workers` simulated workers at once."""
    # Queue results are small: joining before reading them cannot block on a full pipe.
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_replay_writes, args=(db_url, pages, rounds, w, out)) for w in range(workers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode for p in procs):
        raise SystemExit(f"a simulated worker failed: exit codes {[p.exitcode for p in procs]}")
    answers = [out.get(timeout=10) for _ in procs]
    return sum(saved for saved, _s in answers) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=4711)
    parser.add_argument("--engine", default="rapidocr", choices=("rapidocr", "tesseract", "null"))
    parser.add_argument("--sim-workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="recognition tasks each simulated worker replays")
    args = parser.parse_args()
    tag = f"bench{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="airflow-cost-") as tmp:
        root = Path(tmp)
        batch = root / "batch"
        generate_batch(batch, args.docs, args.seed, "counter", workers=1)
        try:
            t_e = _embedded(batch, root, args.engine, f"{tag}_embedded")
            store = open_store(PG + f"{tag}_embedded")
            try:
                files = [f for f in store.source_files(batch_id_for(batch)) if f.status is FileStatus.DONE]
                page_results = [p for f in files for p in store.pages(f.file_id)]
            finally:
                store.close()
            pages = len(page_results)
            print(f"embedded: {pages} pages in {t_e:.1f} s", flush=True)
            airflow = _on_airflow(batch, root, args.engine, f"{tag}_stack")
            print(f"airflow: {json.dumps(airflow)}", flush=True)
            sim_db = _fresh_db(f"{tag}_sim")
            open_store(sim_db).close()
            chunk = [p.model_dump(mode="json") for p in page_results[:8]]
            one = _contention(sim_db, chunk, 1, args.rounds)
            many = _contention(sim_db, chunk, args.sim_workers, args.rounds)
        finally:
            for db in ("embedded", "sim"):
                _drop_db(f"{tag}_{db}")
    print(json.dumps(_report(args, pages, t_e, airflow, one, many), ensure_ascii=False))


def _report(
    args: argparse.Namespace, pages: int, t_e: float, airflow: dict[str, Any], one: float, many: float
) -> dict[str, Any]:
    n = args.sim_workers
    t_a = airflow["wall"]
    tasks = airflow["tasks"]
    central_cpu = sum(airflow["cpu"][c] for c in CENTRAL)
    serial = sum(t["duration"] + t["wait"] for t in tasks if t["task_id"] not in MAPPED)
    parallel = max(t_a - serial, 1e-9)
    per_worker_pages = pages / t_a
    per_worker_tasks = len(tasks) / t_a
    limits = {
        "workers": float(n),
        "central components (2 cores)": CENTRAL_CORES / (central_cpu / len(tasks)) / per_worker_tasks,
        "catalogue database": many / per_worker_pages,
        "one batch (Amdahl)": t_a / (serial + parallel / n),
    }
    backlog = min(v for k, v in limits.items() if k != "one batch (Amdahl)")
    report = {
        "pages": pages,
        "tasks": len(tasks),
        "embedded_s": round(t_e, 1),
        "airflow_s": round(t_a, 1),
        "airflow_over_embedded": round(t_a / t_e, 2),
        "airflow_cost_per_page_s": round((t_a - t_e) / pages, 2),
        "airflow_cost_per_task_s": round((t_a - t_e) / len(tasks), 2),
        "mean_queue_wait_s": round(sum(t["wait"] for t in tasks) / len(tasks), 2),
        "central_cpu_s_per_task": round(central_cpu / len(tasks), 3),
        "worker_cpu_s": round(airflow["cpu"]["worker-1"], 1),
        "catalogue_pages_per_s_1": round(one, 1),
        f"catalogue_pages_per_s_{n}": round(many, 1),
        "limits": {k: round(v, 1) for k, v in limits.items()},
        f"speedup_{n}_backlog": round(backlog, 1),
        "limited_by": min((v, k) for k, v in limits.items() if k != "one batch (Amdahl)")[1],
        f"speedup_{n}_one_batch": round(min(limits.values()), 1),
    }
    print(f"{'pages':<40}{pages}")
    for key, value in report.items():
        if key != "pages":
            print(f"{key:<40}{value}")
    return report


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
