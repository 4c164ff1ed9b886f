"""The checks an Elasticsearch 8/9 cluster makes on a create-index body, for tests without a cluster.

A subset, but the subset that bites: unknown mapping parameters, unknown field types, analyzers
that a default distribution does not ship (smartcn, ik_* need plugins), unknown index settings,
bad `dynamic` values and date formats. Messages follow the cluster's wording.
"""

from __future__ import annotations

import re
from typing import Any

BUILTIN_ANALYZERS = frozenset(
    {
        "standard", "simple", "whitespace", "stop", "keyword", "pattern", "fingerprint",
        "arabic", "armenian", "basque", "bengali", "brazilian", "bulgarian", "catalan", "cjk",
        "czech", "danish", "dutch", "english", "estonian", "finnish", "french", "galician",
        "german", "greek", "hindi", "hungarian", "indonesian", "irish", "italian", "latvian",
        "lithuanian", "norwegian", "persian", "portuguese", "romanian", "russian", "serbian",
        "sorani", "spanish", "swedish", "turkish", "thai",
    }
)  # fmt: skip
BUILTIN_NORMALIZERS = frozenset({"lowercase"})

_COMMON = {"type", "meta", "copy_to"}
_SCRIPTABLE = {"on_script_error", "script"}
_NUMERIC = _COMMON | _SCRIPTABLE | {
    "coerce", "doc_values", "ignore_malformed", "index", "null_value", "store",
    "time_series_dimension", "time_series_metric",
}  # fmt: skip
FIELD_PARAMS: dict[str, set[str]] = {
    "text": _COMMON | {
        "analyzer", "search_analyzer", "search_quote_analyzer", "fields", "index", "index_options",
        "index_prefixes", "index_phrases", "norms", "position_increment_gap", "store", "similarity",
        "term_vector", "fielddata", "fielddata_frequency_filter", "eager_global_ordinals",
    },
    "match_only_text": _COMMON | {"fields"},
    "keyword": _COMMON | _SCRIPTABLE | {
        "doc_values", "eager_global_ordinals", "fields", "ignore_above", "index", "index_options",
        "norms", "null_value", "store", "similarity", "normalizer", "split_queries_on_whitespace",
        "time_series_dimension",
    },
    "date": _COMMON | _SCRIPTABLE | {
        "doc_values", "format", "locale", "ignore_malformed", "index", "null_value", "store",
    },
    "boolean": _COMMON | _SCRIPTABLE | {"doc_values", "index", "null_value", "store", "ignore_malformed"},
    "object": {"type", "properties", "dynamic", "enabled", "subobjects"},
    "nested": {"type", "properties", "dynamic", "include_in_parent", "include_in_root"},
    "flattened": {
        "type", "depth_limit", "doc_values", "eager_global_ordinals", "ignore_above", "index",
        "index_options", "null_value", "similarity", "split_queries_on_whitespace",
    },
    **{t: _NUMERIC for t in ("long", "integer", "short", "byte", "double", "float", "half_float")},
    "scaled_float": _NUMERIC | {"scaling_factor"},
}  # fmt: skip
BUILTIN_DATE_FORMATS = frozenset(
    {
        "epoch_millis", "epoch_second", "date_optional_time", "strict_date_optional_time",
        "strict_date_optional_time_nanos", "basic_date", "basic_date_time", "date", "strict_date",
        "date_time", "strict_date_time", "date_time_no_millis", "strict_date_time_no_millis",
        "year", "strict_year", "year_month", "strict_year_month", "year_month_day",
        "strict_year_month_day",
    }
)  # fmt: skip
INDEX_SETTINGS = {
    "number_of_shards", "number_of_replicas", "refresh_interval", "max_result_window",
    "analysis", "codec", "auto_expand_replicas",
}  # fmt: skip
MAPPING_ROOT = {
    "dynamic", "properties", "_source", "_meta", "_routing", "date_detection", "numeric_detection",
    "dynamic_templates", "dynamic_date_formats", "subobjects",
}  # fmt: skip
_DYNAMIC = (True, False, "true", "false", "strict", "runtime")
_CUSTOM_DATE = re.compile(r"^[yMdHhmsSXZuTe'\-:./ ]+$")


def mapping_errors(body: dict[str, Any]) -> list[str]:
    """Every reason a cluster would refuse this create-index body; empty when it would accept it."""
    errors: list[str] = []
    for key in body:
        if key not in ("settings", "mappings", "aliases"):
            errors.append(f"unknown key [{key}] for create index")
    settings = _flatten_index_settings(body.get("settings", {}))
    custom_analyzers = set(settings.get("analysis", {}).get("analyzer", {}))
    for key, value in settings.items():
        if key not in INDEX_SETTINGS:
            errors.append(f"unknown setting [index.{key}] please check that any required plugins are installed")
        elif key in ("number_of_shards", "number_of_replicas"):
            low = 1 if key == "number_of_shards" else 0
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                errors.append(f"Failed to parse value [{value}] for setting [index.{key}] must be >= {low}")
    mappings = body.get("mappings", {})
    for key in mappings:
        if key not in MAPPING_ROOT:
            errors.append(f"Root mapping definition has unsupported parameters: [{key}]")
    if "dynamic" in mappings and mappings["dynamic"] not in _DYNAMIC:
        errors.append(f"Unknown value [{mappings['dynamic']}] for setting [dynamic]")
    errors.extend(_properties_errors(mappings.get("properties", {}), BUILTIN_ANALYZERS | custom_analyzers))
    return errors


def _flatten_index_settings(settings: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if key == "index" and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key.removeprefix("index.")] = value
    return flat


def _properties_errors(properties: dict[str, Any], analyzers: set[str] | frozenset[str], prefix: str = "") -> list[str]:
    errors: list[str] = []
    for name, spec in properties.items():
        path = prefix + name
        if not isinstance(spec, dict):
            errors.append(f"Expected map for property [fields] on field [{path}] but got {spec!r}")
            continue
        ftype = spec.get("type", "object" if "properties" in spec else None)
        if ftype is None:
            errors.append(f"No type specified for field [{path}]")
            continue
        allowed = FIELD_PARAMS.get(ftype)
        if allowed is None:
            errors.append(f"No handler for type [{ftype}] declared on field [{path}]")
            continue
        for param in spec:
            if param not in allowed:
                errors.append(f"unknown parameter [{param}] on mapper [{path}] of type [{ftype}]")
        for param in ("analyzer", "search_analyzer", "search_quote_analyzer"):
            if param in spec and spec[param] not in analyzers:
                errors.append(f"analyzer [{spec[param]}] has not been configured in mappings")
        if "normalizer" in spec and spec["normalizer"] not in BUILTIN_NORMALIZERS:
            errors.append(f"normalizer [{spec['normalizer']}] not found for field [{path}]")
        for param in ("index", "store", "doc_values", "enabled", "norms", "coerce", "ignore_malformed"):
            if param in spec and not isinstance(spec[param], bool):
                errors.append(f"Failed to parse value [{spec[param]}] as only [true] or [false] are allowed.")
        if "ignore_above" in spec and (not isinstance(spec["ignore_above"], int) or spec["ignore_above"] < 0):
            errors.append(f"[ignore_above] must be positive, got [{spec['ignore_above']}]")
        if "format" in spec:
            for fmt in str(spec["format"]).split("||"):
                if fmt not in BUILTIN_DATE_FORMATS and not _CUSTOM_DATE.match(fmt):
                    errors.append(f"Invalid format: [{spec['format']}]: Unknown pattern letter")
        if "dynamic" in spec and spec["dynamic"] not in _DYNAMIC:
            errors.append(f"Unknown value [{spec['dynamic']}] for setting [dynamic] on [{path}]")
        if isinstance(spec.get("fields"), dict):
            for sub, subspec in spec["fields"].items():
                if isinstance(subspec, dict) and "properties" in subspec:
                    errors.append(f"Field [{sub}] of multi-field [{path}] cannot have properties")
            errors.extend(_properties_errors(spec["fields"], analyzers, path + "."))
        if isinstance(spec.get("properties"), dict):
            errors.extend(_properties_errors(spec["properties"], analyzers, path + "."))
    return errors
