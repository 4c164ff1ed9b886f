"""ElasticsearchIndex through the real `elasticsearch` 9 client against a recorded-response server."""

from __future__ import annotations

import copy
import socket
from datetime import date
from typing import Any

import pytest
from es_mapping_rules import mapping_errors
from es_recorded_server import EsRecordedServer

from pipeline.errors import ExitCode, IndexError_
from pipeline.search import open_search
from pipeline.search.base import SearchDoc
from pipeline.search.elasticsearch_index import ElasticsearchIndex, _safe_url
from pipeline.settings import Settings
from schemas.models import ArchiveRecord, DocumentStatus

INDEX = "dangan-test"
COMPAT = "application/vnd.elasticsearch+json; compatible-with=9"


def _doc(rid: str, name: str, title: str, form_id: str, day: date, person_id: str, unit: str) -> SearchDoc:
    record = ArchiveRecord(
        record_id=rid,
        doc_id="d-" + rid,
        archive_no=f"{day.year}-YL-0001-{rid[1:].zfill(4)}",
        person_id=person_id,
        title=title,
        form_date=day,
        insurance_type="养老保险",
    )
    return SearchDoc.from_record(
        record,
        form_id=form_id,
        status=DocumentStatus.ACCEPTED,
        text=f"{title}\n姓名 {name} 性别 男\n单位名称 {unit}\n公民身份号码 {person_id}",
        fields={"name": name, "unit_name": unit, "id_number": person_id, "blank": None},
    )


DOCS = [
    _doc("r1", "张三", "城镇职工基本养老保险参保登记表", "yl_cbdj", date(2019, 3, 4), "11010519491231002X",
         "北京市朝阳区宏达建材有限公司"),
    _doc("r2", "李四", "失业保险金申领登记表", "sy_sqdj", date(2020, 7, 15), "440524188001010014",
         "汕头市龙湖区华侨公司"),
    _doc("r3", "欧阳娜娜", "工伤认定申请表", "gs_rdsq", date(2018, 11, 2), "11010519491231002X",
         "北京市海淀区某研究所"),
]  # fmt: skip


def _index(srv: EsRecordedServer, **kw: Any) -> ElasticsearchIndex:
    return ElasticsearchIndex(srv.url, INDEX, max_retries=0, **kw)


def test_mapping_is_what_a_cluster_accepts() -> None:
    body = ElasticsearchIndex("http://127.0.0.1:9", INDEX).index_body()
    assert mapping_errors(body) == []
    props = body["mappings"]["properties"]
    assert body["mappings"]["dynamic"] == "strict"
    for name in ("title", "fields_text", "meta_text", "text"):
        assert props[name]["type"] == "text" and props[name]["analyzer"] == "cjk"
    for name in ("record_id", "form_id", "archive_no", "person_id", "id_numbers"):
        assert props[name] == {"type": "keyword"}
    assert props["form_date"]["type"] == "date" and props["year"] == {"type": "integer"}


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("mappings", "properties", "text", "analyzer"), "ik_smart", "analyzer [ik_smart] has not been configured"),
        (("mappings", "properties", "title", "analyser"), "cjk", "unknown parameter [analyser]"),
        (("mappings", "properties", "year", "type"), "string", "No handler for type [string]"),
        (("mappings", "properties", "form_date", "format"), "yyyy-MM-dd||chinese", "Invalid format"),
        (("mappings", "dynamic"), "yes", "Unknown value [yes]"),
        (("settings", "index", "number_of_shard"), 1, "unknown setting [index.number_of_shard]"),
        (("mappings", "properties", "fields", "enabled"), "no", "only [true] or [false]"),
    ],
)
def test_mapping_rules_catch_what_a_cluster_refuses(path: tuple[str, ...], value: Any, reason: str) -> None:
    body = copy.deepcopy(ElasticsearchIndex("http://127.0.0.1:9", INDEX).index_body())
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    errors = mapping_errors(body)
    assert any(reason in e for e in errors), errors


def test_index_search_delete_through_the_real_client() -> None:
    with EsRecordedServer("records") as srv:
        ix = _index(srv)
        assert ix.index(DOCS) == 3

        # The index is created once, with exactly our settings and mapping.
        (create,) = srv.find("PUT", f"/{INDEX}")
        assert create.json() == ix.index_body()
        assert create.headers["content-type"] == COMPAT
        (bulk,) = srv.find("PUT", "/_bulk")
        lines = bulk.ndjson()
        assert bulk.headers["content-type"] == "application/vnd.elasticsearch+x-ndjson; compatible-with=9"
        assert [line for line in lines[0::2]] == [{"index": {"_index": INDEX, "_id": d.record_id}} for d in DOCS]
        first = lines[1]
        assert first["person_id"] == "11010519491231002X"
        assert first["id_numbers"] == ["11010519491231002X"]
        assert first["form_date"] == "2019-03-04" and first["year"] == 2019
        assert first["fields"] == {"name": "张三", "unit_name": "北京市朝阳区宏达建材有限公司",
                                   "id_number": "11010519491231002X"}  # fmt: skip
        assert "张三" in first["fields_text"] and "2019-YL-0001-0001" in first["meta_text"]
        assert set(first) <= set(ix.index_body()["mappings"]["properties"])
        assert len(srv.find("POST", f"/{INDEX}/_refresh")) == 1

        # Same ids again: the same documents are replaced, nothing new is created.
        assert ix.index(DOCS) == 3
        assert len(srv.find("PUT", f"/{INDEX}")) == 1 and len(srv.find("GET", "/")) == 1
        second = srv.find("PUT", "/_bulk")[1].ndjson()
        assert [a["index"]["_id"] for a in second[0::2]] == ["r1", "r2", "r3"]
        assert ix.count() == 3

        hits = ix.search("张三")
        assert [h.record_id for h in hits] == ["r1"]
        assert hits[0].person_id == "11010519491231002X"
        assert hits[0].snippet.startswith("姓名 【张三】")
        assert hits[0].score == pytest.approx(2.8716645)
        body = srv.find("POST", f"/{INDEX}/_search")[0].json()
        assert body["query"]["bool"]["must"] == [
            {"multi_match": {"query": "张三", "fields": ["title^5", "fields_text^3", "meta_text^2", "text"],
                             "type": "best_fields", "analyzer": "cjk", "operator": "and"}}
        ]  # fmt: skip
        assert body["query"]["bool"]["filter"] == []
        assert body["size"] == 20 and body["_source"][0] == "record_id"
        assert body["highlight"]["pre_tags"] == ["【"] and "text" in body["highlight"]["fields"]

        hits = ix.search(form="参保登记", year=2019, limit=5)
        assert [h.record_id for h in hits] == ["r1"] and hits[0].score == 0.0
        assert hits[0].form_date == date(2019, 3, 4)
        body = srv.find("POST", f"/{INDEX}/_search")[1].json()
        assert body["query"]["bool"]["must"] == [{"match_all": {}}]
        assert body["query"]["bool"]["filter"] == [
            {"bool": {"should": [{"term": {"form_id": "参保登记"}},
                                 {"match_phrase": {"title": {"query": "参保登记", "analyzer": "cjk"}}}],
                      "minimum_should_match": 1}},
            {"term": {"year": 2019}},
        ]  # fmt: skip
        assert body["size"] == 5 and body["sort"][0] == {"form_date": {"order": "desc", "missing": "_last"}}

        # An ID number typed as free text is an exact filter, not analysed text.
        hits = ix.search("11010519491231002x")
        assert hits[0].person_id == "11010519491231002X"
        body = srv.find("POST", f"/{INDEX}/_search")[2].json()
        assert body["query"]["bool"]["filter"] == [{"term": {"id_numbers": "11010519491231002X"}}]
        assert body["query"]["bool"]["must"] == [{"match_all": {}}]

        assert ix.search("不存在的人", id_number="440524188001010014") == []
        body = srv.find("POST", f"/{INDEX}/_search")[3].json()
        assert body["query"]["bool"]["filter"] == [{"term": {"id_numbers": "440524188001010014"}}]

        assert ix.delete(["r3", "r404"]) == 1
        actions = srv.find("PUT", "/_bulk")[2].ndjson()
        assert actions == [{"delete": {"_index": INDEX, "_id": "r3"}}, {"delete": {"_index": INDEX, "_id": "r404"}}]
        assert ix.count() == 2

        assert srv.unmatched == []
        assert all(r.headers["accept"] == COMPAT for r in srv.requests)
        ix.close()


def test_existing_index_is_left_alone() -> None:
    with EsRecordedServer("existing_index") as srv:
        ix = _index(srv)
        assert ix.ensure_index() is False
        assert ix.ensure_index() is False
        assert ix.search("养老") == []
        assert srv.find("PUT", f"/{INDEX}") == [] and len(srv.find("HEAD", f"/{INDEX}")) == 1
        assert srv.unmatched == []


def test_index_created_by_another_worker_meanwhile_is_success() -> None:
    with EsRecordedServer("create_race") as srv:
        assert _index(srv).ensure_index() is False
        assert len(srv.find("PUT", f"/{INDEX}")) == 1


def test_a_failed_bulk_item_raises_naming_url_and_id() -> None:
    with EsRecordedServer("bulk_item_error") as srv:
        with pytest.raises(IndexError_) as err:
            _index(srv).index(DOCS[:2])
        assert srv.url in err.value.message and "r2" in err.value.message
        assert srv.find("POST", f"/{INDEX}/_refresh") == []
        assert err.value.exit_code is ExitCode.INDEX


def test_missing_index_error_names_url() -> None:
    with EsRecordedServer("missing_index") as srv:
        ix = _index(srv)
        with pytest.raises(IndexError_) as err:
            ix.search("张三")
        assert srv.url in err.value.message and "index_not_found_exception" in err.value.message
        with pytest.raises(IndexError_):
            ix.count()


def test_clear_drops_and_recreates_the_index() -> None:
    with EsRecordedServer("clear") as srv:
        ix = _index(srv)
        ix.clear()
        (delete,) = srv.find("DELETE", f"/{INDEX}")
        assert delete.query == {"ignore_unavailable": ["true"]}
        assert len(srv.find("PUT", f"/{INDEX}")) == 1
        assert ix.count() == 0
        assert srv.unmatched == []


def test_a_mapping_the_cluster_refuses_is_an_index_error() -> None:
    class PluginMapping(ElasticsearchIndex):
        def index_body(self) -> dict[str, Any]:
            body = super().index_body()
            body["mappings"]["properties"]["text"] = {"type": "text", "analyzer": "ik_max_word"}
            return body

    with EsRecordedServer("records") as srv:
        with pytest.raises(IndexError_) as err:
            PluginMapping(srv.url, INDEX, max_retries=0).ensure_index()
        assert "mapper_parsing_exception" in err.value.message


def test_unreachable_cluster_error_names_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    ix = ElasticsearchIndex(url, INDEX, max_retries=0, request_timeout=2)
    with pytest.raises(IndexError_) as err:
        ix.count()
    assert url in err.value.message and err.value.retryable


def test_open_search_chooses_elasticsearch(tmp_path) -> None:
    backend = open_search(
        Settings(home=tmp_path, search_backend="elasticsearch", es_url="http://127.0.0.1:9", es_index="x")
    )
    assert isinstance(backend, ElasticsearchIndex) and backend.index_name == "x"
    backend.close()


def test_password_never_in_messages() -> None:
    assert _safe_url("http://elastic:s3cret@es:9200") == "http://elastic:***@es:9200"
    assert _safe_url("http://es:9200") == "http://es:9200"
