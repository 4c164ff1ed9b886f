"""Production search: Elasticsearch 9 through the official client, built-in `cjk` analyzer.

The mapping is strict and explicit so a record can never grow fields by accident, and uses only
what a default Elasticsearch distribution ships (no analysis plugins to install).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch
from elasticsearch.helpers import BulkIndexError, bulk

from pipeline.errors import IndexError_
from pipeline.search.base import (
    HIT_END,
    HIT_START,
    SearchBackend,
    SearchDoc,
    SearchHit,
    mask_id,
    normalize_id,
    parse_query,
)

log = logging.getLogger(__name__)

_TEXT = {"type": "text", "analyzer": "cjk"}
_KEYWORD = {"type": "keyword"}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "record_id": _KEYWORD,
        "doc_id": _KEYWORD,
        "archive_no": _KEYWORD,
        "form_id": _KEYWORD,
        "status": _KEYWORD,
        "person_id": _KEYWORD,
        "id_numbers": _KEYWORD,
        "category": _KEYWORD,
        "insurance_type": _KEYWORD,
        "business_step": _KEYWORD,
        "title": {
            "type": "text",
            "analyzer": "cjk",
            "fields": {"raw": {"type": "keyword", "ignore_above": 512}},
        },
        "fields_text": _TEXT,
        "meta_text": _TEXT,
        "text": _TEXT,
        "form_date": {"type": "date", "format": "strict_date"},
        "year": {"type": "integer"},
        # Kept for display only; the values are searchable through fields_text.
        "fields": {"type": "object", "enabled": False},
    },
}

TEXT_FIELDS = ("title^5", "fields_text^3", "meta_text^2", "text")
_HIT_SOURCE = ["record_id", "archive_no", "title", "form_id", "person_id", "form_date"]
_SNIPPET_ORDER = ("text", "fields_text", "meta_text", "title")
_SNIPPET_CHARS = 60


class ElasticsearchIndex(SearchBackend):
    def __init__(
        self,
        url: str,
        index_name: str,
        client: Elasticsearch | None = None,
        *,
        shards: int = 1,
        replicas: int = 0,
        request_timeout: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        self.url = url
        self.index_name = index_name
        self.shards = shards
        self.replicas = replicas
        self.client = client or Elasticsearch(
            url, request_timeout=request_timeout, max_retries=max_retries, retry_on_timeout=True
        )
        self._ensured = False

    def _error(self, action: str, e: Exception) -> IndexError_:
        detail = getattr(e, "message", None) or str(e)
        return IndexError_(
            f"Elasticsearch at {_safe_url(self.url)} failed to {action} "
            f"(index {self.index_name!r}): {detail}; "
            "check DANGAN_ES_URL and that the cluster is up and green or yellow"
        )

    # -- index lifecycle -----------------------------------------------------------------------

    def index_body(self) -> dict[str, Any]:
        return {
            "settings": {"index": {"number_of_shards": self.shards, "number_of_replicas": self.replicas}},
            "mappings": MAPPINGS,
        }

    def server_version(self) -> str:
        try:
            info = self.client.info()
        except (ApiError, TransportError) as e:
            raise self._error("answer", e) from e
        return str(info["version"]["number"])

    def ensure_index(self) -> bool:
        """Create the index with our mapping unless it exists; True when this call created it."""
        if self._ensured:
            return False
        version = self.server_version()
        if int(version.split(".")[0]) < 9:
            raise IndexError_(
                f"Elasticsearch at {_safe_url(self.url)} is version {version}; the client speaks to 9.x only"
            )
        try:
            if self.client.indices.exists(index=self.index_name):
                self._ensured = True
                return False
            body = self.index_body()
            self.client.indices.create(index=self.index_name, settings=body["settings"], mappings=body["mappings"])
        except ApiError as e:
            # Another worker created it between our check and our create: that is success.
            if _error_type(e) == "resource_already_exists_exception":
                self._ensured = True
                return False
            raise self._error("create the index", e) from e
        except TransportError as e:
            raise self._error("create the index", e) from e
        self._ensured = True
        log.info("created Elasticsearch index %s on %s (server %s)", self.index_name, _safe_url(self.url), version)
        return True

    # -- writing -------------------------------------------------------------------------------

    def index(self, docs: Iterable[SearchDoc]) -> int:
        self.ensure_index()
        actions = ({"_index": self.index_name, "_id": d.record_id, "_source": _source(d)} for d in docs)
        return self._bulk(actions, "index records", refresh=True)

    def delete(self, record_ids: Iterable[str]) -> int:
        self.ensure_index()
        actions = ({"_op_type": "delete", "_index": self.index_name, "_id": rid} for rid in record_ids)
        # A delete of an id the index never had answers 404; it is not an error here.
        # Those count as not done, so the total is what was really removed.
        return self._bulk(actions, "delete records", refresh=True, ignore_status=(404,))

    def _bulk(
        self,
        actions: Iterator[dict[str, Any]],
        what: str,
        *,
        refresh: bool,
        ignore_status: tuple[int, ...] = (),
    ) -> int:
        try:
            ok, _ = bulk(self.client, actions, ignore_status=ignore_status, raise_on_error=True, stats_only=True)
            if refresh and ok:
                # One refresh after the whole batch: searchable at once without a refresh per chunk.
                self.client.indices.refresh(index=self.index_name)
        except BulkIndexError as e:
            failed = [_item_id(item) for item in e.errors]
            raise self._error(what, ValueError(f"{len(failed)} items failed, first ids {failed[:5]}")) from e
        except (ApiError, TransportError) as e:
            raise self._error(what, e) from e
        return ok

    def clear(self) -> None:
        # Dropping and recreating also applies a changed mapping on the next rebuild.
        try:
            self.client.indices.delete(index=self.index_name, ignore_unavailable=True)
        except (ApiError, TransportError) as e:
            raise self._error("delete the index", e) from e
        self._ensured = False
        self.ensure_index()

    def count(self) -> int:
        try:
            return int(self.client.count(index=self.index_name)["count"])
        except (ApiError, TransportError) as e:
            raise self._error("count records", e) from e

    def close(self) -> None:
        self.client.close()

    # -- reading -------------------------------------------------------------------------------

    def search_body(
        self,
        query: str | None = None,
        *,
        id_number: str | None = None,
        form: str | None = None,
        year: int | None = None,
        limit: int = 20,
    ) -> dict[str, Any]:
        """The request body `search` sends; public so its shape can be checked."""
        parsed = parse_query(query)
        ids = list(parsed.id_numbers)
        if id_number and id_number.strip():
            ids.append(normalize_id(id_number))
        must: list[dict[str, Any]] = []
        if parsed.terms:
            must.append(
                {
                    "multi_match": {
                        "query": " ".join(parsed.terms),
                        "fields": list(TEXT_FIELDS),
                        "type": "best_fields",
                        "analyzer": "cjk",
                        # Every cjk bigram of the query must be present, as a person typing
                        # a name expects; OR would match any record sharing one character pair.
                        "operator": "and",
                    }
                }
            )
        filters: list[dict[str, Any]] = [{"term": {"id_numbers": value}} for value in ids]
        if form and form.strip():
            filters.append(
                {
                    "bool": {
                        "should": [
                            {"term": {"form_id": form.strip()}},
                            {"match_phrase": {"title": {"query": form.strip(), "analyzer": "cjk"}}},
                        ],
                        "minimum_should_match": 1,
                    }
                }
            )
        if year is not None:
            filters.append({"term": {"year": year}})
        body: dict[str, Any] = {
            "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
            "size": max(0, limit),
            "_source": _HIT_SOURCE,
            "highlight": {
                "pre_tags": [HIT_START],
                "post_tags": [HIT_END],
                "fragment_size": _SNIPPET_CHARS,
                "number_of_fragments": 1,
                "fields": {
                    # Only the OCR text falls back to its start when nothing in it matched.
                    "text": {"no_match_size": _SNIPPET_CHARS},
                    "fields_text": {},
                    "meta_text": {},
                    "title": {},
                },
            },
        }
        if not parsed.terms:
            body["sort"] = [
                {"form_date": {"order": "desc", "missing": "_last"}},
                {"record_id": {"order": "asc"}},
            ]
        return body

    def search(
        self,
        query: str | None = None,
        *,
        id_number: str | None = None,
        form: str | None = None,
        year: int | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        body = self.search_body(query, id_number=id_number, form=form, year=year, limit=limit)
        try:
            resp = self.client.search(
                index=self.index_name,
                query=body["query"],
                size=body["size"],
                source=body["_source"],
                highlight=body["highlight"],
                sort=body.get("sort"),
            )
        except (ApiError, TransportError) as e:
            raise self._error("search", e) from e
        hits = resp["hits"]["hits"]
        log.debug(
            "es search id=%s form=%s year=%s -> %d hits",
            mask_id(normalize_id(id_number)) if id_number else None,
            form,
            year,
            len(hits),
        )
        return [_hit(h) for h in hits]


def _source(doc: SearchDoc) -> dict[str, Any]:
    return {
        "record_id": doc.record_id,
        "doc_id": doc.doc_id,
        "archive_no": doc.archive_no,
        "form_id": doc.form_id,
        "status": doc.status.value,
        "person_id": doc.person_id,
        "id_numbers": doc.id_numbers,
        "category": doc.category,
        "insurance_type": doc.insurance_type,
        "business_step": doc.business_step,
        "title": doc.title,
        "fields_text": doc.fields_text,
        "meta_text": doc.meta_text,
        "text": doc.text,
        "form_date": doc.form_date.isoformat() if doc.form_date else None,
        "year": doc.year,
        "fields": doc.fields,
    }


def _hit(raw: dict[str, Any]) -> SearchHit:
    src = raw.get("_source", {})
    highlight = raw.get("highlight", {})
    snippet = next((highlight[f][0] for f in _SNIPPET_ORDER if highlight.get(f)), "")
    score = raw.get("_score")
    return SearchHit(
        record_id=src.get("record_id", raw["_id"]),
        archive_no=src["archive_no"],
        title=src["title"],
        form_id=src.get("form_id"),
        person_id=src.get("person_id"),
        form_date=src.get("form_date"),
        score=float(score) if score is not None else 0.0,
        snippet=snippet,
    )


def _error_type(e: ApiError) -> str | None:
    body = e.body if isinstance(e.body, dict) else {}
    error = body.get("error")
    return error.get("type") if isinstance(error, dict) else None


def _item_id(item: dict[str, Any]) -> str:
    for op in item.values():
        if isinstance(op, dict) and "_id" in op:
            return str(op["_id"])
    return "?"


def _safe_url(url: str) -> str:
    """The URL without a password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"
