"""Choose and build an OCR engine by kind.

Built-in engines and third-party ones (entry point group `dangan.ocr_engines`, name = kind, value =
`module:EngineClass`) load the same way: the module is imported only when its engine is built, so
choosing Tesseract never pays for onnxruntime. Third-party engines load only when explicitly allowed.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import threading

from pipeline.errors import ConfigError, MissingDependencyError
from pipeline.ocr.base import OcrEngine, OcrOptions
from pipeline.settings import OcrSettings, get_settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "dangan.ocr_engines"

BUILTIN_ENGINES: dict[str, str] = {
    "rapidocr": "pipeline.ocr.rapidocr_engine:RapidOcrEngine",
    "tesseract": "pipeline.ocr.tesseract_engine:TesseractOcrEngine",
    "null": "pipeline.ocr.null_engine:NullOcrEngine",
}

_cache_lock = threading.Lock()
_cache: dict[tuple[int, str, str], OcrEngine] = {}


def _external_engines() -> dict[str, str]:
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known_kinds(allow_external: bool = False) -> list[str]:
    kinds = set(BUILTIN_ENGINES)
    if allow_external:
        kinds |= set(_external_engines())
    return sorted(kinds)


def _load(kind: str, target: str) -> type[OcrEngine]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise MissingDependencyError(
            f"OCR engine '{kind}' needs module {module_name}, which failed to import ({e}); "
            "install the package that provides it"
        ) from e
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, OcrEngine)):
        raise ConfigError(f"OCR engine '{kind}' points at {target}, which is not an OcrEngine subclass; fix the plugin")
    if cls.options_type.kind != kind:
        raise ConfigError(
            f"OCR engine '{kind}' at {target} declares options kind '{cls.options_type.kind}'; "
            "the entry point name must equal the options kind"
        )
    return cls


def engine_class(kind: str, allow_external: bool = False) -> type[OcrEngine]:
    """The engine class for `kind`; ConfigError (listing the known kinds) when there is none."""
    if kind in BUILTIN_ENGINES:
        return _load(kind, BUILTIN_ENGINES[kind])
    if allow_external:
        externals = _external_engines()
        if kind in externals:
            log.info("loading external OCR engine %s from %s", kind, externals[kind])
            return _load(kind, externals[kind])
    hint = (
        "" if allow_external else " (external engines are off; set DANGAN_OCR__EXTERNAL_ENGINES=true to load plugins)"
    )
    raise ConfigError(f"unknown OCR engine kind '{kind}'; known kinds: {', '.join(known_kinds(allow_external))}{hint}")


def _resolve(options: OcrSettings | OcrOptions | None) -> tuple[str, OcrOptions | None, OcrSettings]:
    settings = get_settings().ocr if options is None or isinstance(options, OcrOptions) else options
    if isinstance(options, OcrOptions):
        return options.kind, options, settings
    return settings.engine, None, settings


def create_engine(options: OcrSettings | OcrOptions | None = None, *, allow_external: bool | None = None) -> OcrEngine:
    """A new engine. `options` is the `ocr` settings section (default: the process settings) or one
    engine's options model; the kind comes from `OcrSettings.engine` or the options' `kind`."""
    kind, engine_options, settings = _resolve(options)
    allowed = settings.external_engines if allow_external is None else allow_external
    cls = engine_class(kind, allowed)
    opts = engine_options if engine_options is not None else cls.options_type.from_settings(settings)
    if not isinstance(opts, cls.options_type):
        raise ConfigError(f"OCR engine '{kind}' takes {cls.options_type.__name__}, got {type(opts).__name__}")
    engine = cls(opts)
    log.info("OCR engine ready: %s", engine.version())
    return engine


def get_engine(options: OcrSettings | OcrOptions | None = None, *, allow_external: bool | None = None) -> OcrEngine:
    """The process's engine for these options, built once: models take seconds to load and hundreds of
    MB, so every page in a worker reuses one. Keyed by pid too, so a forked worker never shares its
    parent's onnxruntime sessions."""
    kind, engine_options, settings = _resolve(options)
    detail = engine_options.model_dump_json() if engine_options is not None else settings.model_dump_json()
    key = (os.getpid(), kind, f"{type(engine_options).__name__}:{detail}:{allow_external}")
    with _cache_lock:
        engine = _cache.get(key)
        if engine is None:
            engine = create_engine(options, allow_external=allow_external)
            _cache[key] = engine
        return engine


def clear_engine_cache() -> None:
    with _cache_lock:
        _cache.clear()
