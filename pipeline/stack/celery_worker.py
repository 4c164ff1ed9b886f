"""Celery settings of the Airflow workers: Airflow's own, plus the pipeline imported once per worker.

Airflow runs each task in a process forked from a worker pool process (on Linux), so whatever the
worker imported before forking its pool is already there in every task. Importing `pipeline.tasks`
(the stages, OpenCV, ONNX Runtime, pikepdf) at worker start spares each task that import, which
costs seconds; engines and database connections are still made inside the task, after the fork.
deploy/airflow.env names this module in AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

log = logging.getLogger(__name__)

CELERY_CONFIG: dict[str, Any] = dict(DEFAULT_CELERY_CONFIG)
PRELOAD = ("pipeline.tasks",)


@worker_init.connect
def _preload(**_kwargs: Any) -> None:
    for module in PRELOAD:
        importlib.import_module(module)
    log.info("preloaded %s before forking the pool", ", ".join(PRELOAD))
