"""limit/offset paging as VMAPI answers it."""

from __future__ import annotations

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.paging import paginate

ITEMS = list(range(2500))


def test_default_page_is_the_first_thousand() -> None:
    page, headers = paginate(ITEMS, {})
    assert page == ITEMS[:1000]
    assert headers == {"x-query-limit": "1000", "x-resource-count": "1000"}


def test_limit_and_offset_from_query_strings() -> None:
    page, headers = paginate(ITEMS, {"limit": "3", "offset": "2498"})
    assert page == [2498, 2499]
    assert headers == {"x-query-limit": "3", "x-resource-count": "2"}


def test_json_numbers_are_accepted() -> None:
    page, _ = paginate(ITEMS, {"limit": 2, "offset": 10})
    assert page == [10, 11]


def test_offset_past_the_end_gives_an_empty_page() -> None:
    page, headers = paginate(ITEMS[:5], {"offset": "50"})
    assert page == []
    assert headers["x-resource-count"] == "0"


def test_custom_default_limit() -> None:
    page, headers = paginate(ITEMS, {}, default_limit=25)
    assert len(page) == 25
    assert headers["x-query-limit"] == "25"


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "1.5", 0, True])
def test_limit_outside_range_is_validation_failed(limit: object) -> None:
    with pytest.raises(EmulatorError) as caught:
        paginate(ITEMS, {"limit": limit})
    error = caught.value
    assert (error.status, error.code, error.message) == (
        409,
        "ValidationFailed",
        "Invalid Parameters",
    )
    body = error.render_body()
    assert body["code"] == "ValidationFailed"
    assert [e["field"] for e in body["errors"]] == ["limit"]


def test_every_bad_field_is_listed() -> None:
    with pytest.raises(EmulatorError) as caught:
        paginate(ITEMS, {"limit": "5000", "offset": "-3"})
    fields = [e["field"] for e in caught.value.render_body()["errors"]]
    assert fields == ["limit", "offset"]
