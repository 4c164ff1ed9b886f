from pipeline.identity import archive_prefix, doc_id_for, file_name_for, next_piece_numbers


def test_archive_numbers_continue_after_the_highest() -> None:
    prefix = archive_prefix(2023, "参保登记", 1)
    assert prefix == "2023-参保登记-001"
    existing = ["2023-参保登记-001-0001", "2023-参保登记-001-0007", "2023-养老待遇-001-0009"]
    assert next_piece_numbers(prefix, existing, 2) == ["2023-参保登记-001-0008", "2023-参保登记-001-0009"]


def test_file_names_are_unique_and_safe() -> None:
    taken: set[str] = set()
    first = file_name_for(2023, "参保登记", "11010519491231002X", "个人注册登记表", taken)
    taken.add(first)
    second = file_name_for(2023, "参保登记", "11010519491231002X", "个人注册登记表", taken)
    assert first == "2023-参保登记-11010519491231002X-个人注册登记表.pdf"
    assert second == "2023-参保登记-11010519491231002X-个人注册登记表-2.pdf"
    assert "/" not in file_name_for(2023, None, None, "a/b c", set())


def test_doc_ids_are_deterministic() -> None:
    assert doc_id_for("f1", 3) == doc_id_for("f1", 3) != doc_id_for("f1", 4)
