"""A step applied to its jobs, and each outcome recorded in the catalogue: the run loop, written once.

The embedded runner (`pipeline.run`) and the Airflow tasks (`pipeline.tasks`) both go through here.
They differ in one thing only, what an error of our own means (`OwnErrors`); bad input is the same
everywhere: the item is set aside with its reason and the batch goes on.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from typing import Generic, TypeVar

from pipeline.context import RunContext
from pipeline.errors import BadInputError
from pipeline.jobs import Job
from pipeline.store import CatalogueStore

log = logging.getLogger(__name__)

J = TypeVar("J", bound=Job)
W = TypeVar("W")
R = TypeVar("R")


class OwnErrors(StrEnum):
    """What an error that is not bad input (a crash, an engine or disk fault) does to the run."""

    SET_ASIDE = "set_aside"
    """Embedded: the item is recorded as failed and the batch goes on; the next run retries it."""
    RAISE = "raise"
    """Airflow: the error fails the task, so Airflow's retries (and its failure report) apply."""


class Step(ABC, Generic[J, W, R]):
    """A stage over items: `load` reads each job's input from the catalogue, `run` does the work
    (in a worker process, without the catalogue), `save` records the result or the error."""

    label: str

    @abstractmethod
    def load(self, store: CatalogueStore, ctx: RunContext, jobs: Sequence[J]) -> list[tuple[J, W]]:
        """Each job with its input; a job whose input is no longer in the catalogue is dropped."""

    @abstractmethod
    def run(self, ctx: RunContext, work: W) -> R: ...

    @abstractmethod
    def save(self, store: CatalogueStore, ctx: RunContext, job: J, outcome: R | Exception) -> None: ...


def attempt(step: Step[J, W, R], ctx: RunContext, work: W) -> R | Exception:
    """The step's result, or the error it raised: one item's failure is that item's outcome."""
    try:
        return step.run(ctx, work)
    except Exception as e:
        return e


def record_outcome(
    store: CatalogueStore, ctx: RunContext, step: Step[J, W, R], job: J, outcome: R | Exception, own: OwnErrors
) -> None:
    """Save `outcome`; under `OwnErrors.RAISE` an error that is not bad input is raised instead."""
    if isinstance(outcome, Exception) and not isinstance(outcome, BadInputError) and own is OwnErrors.RAISE:
        log.error("%s failed on %s: %s: %s", step.label, job, type(outcome).__name__, outcome)
        raise outcome
    step.save(store, ctx, job, outcome)


def apply_step(store: CatalogueStore, ctx: RunContext, step: Step[J, W, R], jobs: Sequence[J], own: OwnErrors) -> int:
    """Run `step` on each job in this process and record each outcome; returns how many ran."""
    loaded = step.load(store, ctx, jobs)
    for job, work in loaded:
        outcome: R | Exception = attempt(step, ctx, work)
        record_outcome(store, ctx, step, job, outcome, own)
    return len(loaded)
