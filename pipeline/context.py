"""The run context: the one place that builds artefact paths under DANGAN_HOME."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.ingest.names import name_bytes
from pipeline.settings import ArchiveImageSettings, DecideSettings, OcrSettings, Settings


class RunContext(BaseModel):
    """Frozen and picklable: it travels to worker processes and Airflow tasks as it is."""

    model_config = ConfigDict(frozen=True)

    home: Path
    batch_id: str
    batch_root: Path
    ocr: OcrSettings
    decide: DecideSettings
    archive_images: ArchiveImageSettings = ArchiveImageSettings()

    @classmethod
    def create(cls, settings: Settings, batch_id: str, batch_root: Path) -> RunContext:
        return cls(
            home=settings.home.resolve(),
            batch_id=batch_id,
            batch_root=batch_root.resolve(),
            ocr=settings.ocr,
            decide=settings.decide,
            archive_images=settings.archive_images,
        )

    def source_path(self, rel_path: str) -> Path:
        """The file on disk: `rel_path` is the escaped text form of its raw name (pipeline.ingest.names)."""
        return self.batch_root / os.fsdecode(name_bytes(rel_path))

    def page_image(self, file_id: str, page_no: int, suffix: str = ".png") -> Path:
        """The corrected page as stored (`suffix` names its encoding: .jpg, .tif or .png)."""
        return self.home / "work" / self.batch_id / file_id / f"{page_no:06d}_pp{suffix}"

    @property
    def archive_root(self) -> Path:
        return self.home / "archive"

    def archive_pdf(self, year: int, file_name: str) -> Path:
        return self.archive_root / str(year) / file_name
