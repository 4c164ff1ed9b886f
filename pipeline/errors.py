"""One exception class per cause, each with its exit code and a message that says how to fix it.

Exceptions become exit codes in exactly one place: `pipeline.cli`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    BAD_ARGS = 1
    INPUT_FILE = 2
    MISSING_DEPENDENCY = 3
    CONFIG = 4
    STORE = 5
    OCR = 6
    ARCHIVE = 7
    INDEX = 8
    DELIVERY = 9
    NOT_ACCEPTED = 10
    BATCH_BUSY = 11
    """Another run is ingesting the batch; nothing was done (`--wait` waits for it instead)."""
    RUN_INCOMPLETE = 12
    """The run went to its end, but items failed for a reason of ours (a disk full, a folder not writable,
    an engine fault): the summary names each; repair and run again, which retries exactly those."""
    CTRL_C = 130


class DanganError(Exception):
    exit_code: ExitCode = ExitCode.BAD_ARGS
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInputError(DanganError):
    """A source file that cannot be read as a scan; it is quarantined, the batch goes on."""

    exit_code = ExitCode.INPUT_FILE

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class EmptyFileError(BadInputError):
    pass


class EncryptedPdfError(BadInputError):
    pass


class CorruptFileError(BadInputError):
    pass


class UnsupportedFileError(BadInputError):
    pass


class DecompressionBombError(BadInputError):
    pass


class DegenerateFileError(BadInputError):
    """Readable, but no scan of a form: pages of a few pixels, an absurd page count."""


class MissingDependencyError(DanganError):
    exit_code = ExitCode.MISSING_DEPENDENCY


class ConfigError(DanganError):
    exit_code = ExitCode.CONFIG


class RegistryError(ConfigError):
    """The form registry data under schemas/ failed validation."""


class StoreError(DanganError):
    exit_code = ExitCode.STORE
    retryable = True


class OcrError(DanganError):
    exit_code = ExitCode.OCR
    retryable = True


class ArchiveError(DanganError):
    exit_code = ExitCode.ARCHIVE


class IndexError_(DanganError):
    exit_code = ExitCode.INDEX
    retryable = True


class StoreConflictError(StoreError):
    """The catalogue changed under the caller (a QC task taken by someone else, a document
    re-derived away); retrying the same call cannot help, reload and decide again."""

    retryable = False


class BatchBusyError(DanganError):
    """Another run holds the batch's lock (`pipeline.batch_lock`). Retryable: an Airflow task refused
    while an embedded run works on the batch is retried after the DAG's delay."""

    exit_code = ExitCode.BATCH_BUSY
    retryable = True


class RunIncompleteError(DanganError):
    """The run finished with failures of our own, each listed in its summary; nothing is lost, re-run to retry.

    Its own exit code rather than ARCHIVE's: the failures may be anywhere (page images, PDF/A, the engine)."""

    exit_code = ExitCode.RUN_INCOMPLETE


class DeliveryError(DanganError):
    """A batch cannot be delivered as it stands (documents still in review, a PDF/A missing or
    changed since it was catalogued); the message lists every reason."""

    exit_code = ExitCode.DELIVERY


class DeliveryRejected(DanganError):
    """The acceptance check found problems in a delivery package (each one is printed)."""

    exit_code = ExitCode.NOT_ACCEPTED


class NotPermittedError(DanganError):
    """The account may not do this (wrong role, disabled, or the rule needs someone else)."""

    exit_code = ExitCode.BAD_ARGS
