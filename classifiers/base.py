"""The classifier interface: every form-type classifier returns a `Classification`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from schemas.models import Classification, OcrPage


class FormClassifier(ABC):
    """Names the form a document's first page shows.

    A classifier SHALL return `label=None` rather than guess when the page matches no known form;
    its confidence SHALL be the probability that the label is right, so thresholds mean the same
    thing for every classifier.
    """

    kind: ClassVar[str]

    @property
    @abstractmethod
    def model_version(self) -> str: ...

    @abstractmethod
    def classify(self, page: OcrPage) -> Classification: ...
