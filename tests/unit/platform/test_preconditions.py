"""If-Match as RFC 9110 §13.1.1 reads it: ``*``, a list of tags, strong comparison."""

from __future__ import annotations

import pytest

from intake_service.platform.preconditions import (
    IfMatch,
    MalformedTag,
    as_version,
    etag,
    parse_if_match,
)


@pytest.mark.parametrize(
    ("header", "current", "matches"),
    [
        ('"3"', 3, True),
        ('"3"', 4, False),
        ('"2", "3"', 3, True),
        (' "2" ,"3" ', 2, True),
        ('W/"3"', 3, False),  # a weak tag never matches If-Match
        ("*", 17, True),
    ],
)
def test_a_header_matches_the_current_version(header: str, current: int, matches: bool) -> None:
    assert parse_if_match(header).matches(current) is matches


@pytest.mark.parametrize("header", ["3", '"abc"', "", " , ", '"3" "4"', '"1234567890"'])
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(MalformedTag):
        parse_if_match(header)


def test_as_version_names_the_current_version_or_none_ever() -> None:
    assert as_version(None, 5) is None
    assert as_version(4, 5) == 4
    assert as_version(IfMatch(versions=frozenset({5})), 5) == 5
    assert as_version(IfMatch(versions=frozenset({4})), 5) == 0  # never a version: stale
    assert as_version(IfMatch(any=True), 5) == 5
    assert etag(5) == '"5"'
