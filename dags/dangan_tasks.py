"""The tasks both DAGs run once they know their batch folder; each is one call into `pipeline.tasks`.

Not a DAG itself (listed in .airflowignore): the DAG files import it from the bundle folder, which
Airflow puts on sys.path. `pipeline` is imported inside each task, so parsing stays cheap. `run_id`
comes from the task context: the plan records the run under Airflow's id, the summary reads it back.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import task

# A re-run maps over nothing (every page already recognised); the steps after it must still run.
AFTER_MAPPED = "none_failed"


@task
def plan_pages(batch_dir: str, run_id: str | None = None) -> list[list[dict[str, Any]]]:
    from pipeline.tasks import plan_pages as run

    return run(batch_dir, str(run_id))


@task(pool="ocr")
def recognise_pages(batch_dir: str, jobs: list[dict[str, Any]]) -> int:
    from pipeline.tasks import recognise_pages as run

    return run(batch_dir, jobs)


@task(trigger_rule=AFTER_MAPPED)
def assemble_documents(batch_dir: str) -> int:
    from pipeline.tasks import assemble_documents as run

    return run(batch_dir)


@task
def number_records(batch_dir: str) -> list[list[dict[str, Any]]]:
    from pipeline.tasks import number_records as run

    return run(batch_dir)


@task(pool="ocr")
def archive_records(batch_dir: str, jobs: list[dict[str, Any]]) -> int:
    from pipeline.tasks import archive_records as run

    return run(batch_dir, jobs)


@task(trigger_rule=AFTER_MAPPED)
def finish_batch(batch_dir: str, run_id: str | None = None) -> dict[str, Any]:
    from pipeline.tasks import finish_batch as run

    return run(batch_dir, str(run_id))


def ingest_folder(folder: Any) -> None:
    """Pages fan out over the `ocr` pool, then documents, record numbers, PDF/A (fanned out again), finish.

    `folder` is the upstream task's XComArg; each task receives the folder's path at run time.
    """
    pages = recognise_pages.partial(batch_dir=folder).expand(jobs=plan_pages(folder))
    numbered = number_records(folder)
    pages >> assemble_documents(folder) >> numbered
    archive_records.partial(batch_dir=folder).expand(jobs=numbered) >> finish_batch(folder)
