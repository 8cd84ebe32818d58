"""Proof that a page or endpoint runs the same number of SQL queries whatever the row count.

``assert_constant_queries`` renders once with a few rows and once with many, and fails with
both lists of queries side by side when the counts differ (the usual cause is an N+1: a
relation read per row that the query in ``queries.py`` did not join or prefetch).

    def test_services_list_runs_constant_queries(client, department):
        assert_constant_queries(
            lambda: client.get("/api/v1/services/?page_size=100"),
            lambda n: ServiceFactory.create_batch(n, department=department),
        )
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

__all__ = ["assert_constant_queries", "capture_queries"]


def capture_queries(call: Callable[[], Any], using: str = DEFAULT_DB_ALIAS):
    """Run ``call`` and return its result with the SQL it ran, as a list of strings."""
    with CaptureQueriesContext(connections[using]) as context:
        result = call()
    return result, [query["sql"] for query in context.captured_queries]


def _listing(queries: list[str]) -> str:
    return "\n".join(f"  {number:>3}. {sql}" for number, sql in enumerate(queries, 1))


def assert_constant_queries(
    client_call: Callable[[], Any],
    make_rows: Callable[[int], Any],
    *,
    small: int = 5,
    large: int = 50,
    status: int | None = 200,
    check: Callable[[Any, int], Any] | None = None,
    max_queries: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Assert that ``client_call`` runs as many queries with ``large`` rows as with ``small``.

    ``make_rows(n)`` adds ``n`` more rows of whatever the page lists; it is called with
    ``small`` first and then with ``large - small``. ``client_call()`` makes the request and
    returns the response. A first, uncounted call warms whatever is cached once per process
    (content types, compiled templates), so only the per-request cost is compared.

    ``status`` (default 200) is checked on every response, so two error pages are never
    compared with each other; ``check(response, rows)``, if given, can assert that the rows
    really were on the page. ``max_queries`` adds an absolute ceiling. Returns the count.
    """
    assert 0 < small < large, "small must be positive and less than large"
    make_rows(small)
    warm = client_call()
    _check_status(warm, status, "warm-up")

    small_response, small_queries = capture_queries(client_call, using)
    _check_status(small_response, status, f"{small} rows")
    make_rows(large - small)
    large_response, large_queries = capture_queries(client_call, using)
    _check_status(large_response, status, f"{large} rows")

    if check is not None:
        check(small_response, small)
        check(large_response, large)

    if len(small_queries) != len(large_queries):
        diff = "\n".join(
            difflib.unified_diff(
                small_queries,
                large_queries,
                fromfile=f"{small} rows",
                tofile=f"{large} rows",
                lineterm="",
                n=1,
            )
        )
        pytest.fail(
            f"query count grows with the rows: {len(small_queries)} queries with {small} rows, "
            f"{len(large_queries)} with {large}.\n\n"
            f"With {small} rows:\n{_listing(small_queries)}\n\n"
            f"With {large} rows:\n{_listing(large_queries)}\n\n"
            f"Difference:\n{diff}",
            pytrace=False,
        )
    if max_queries is not None and len(large_queries) > max_queries:
        pytest.fail(
            f"{len(large_queries)} queries, more than the budget of {max_queries}:\n"
            f"{_listing(large_queries)}",
            pytrace=False,
        )
    print(f"query budget: {len(large_queries)} queries with {small} or {large} rows")
    return len(large_queries)


def _check_status(response: Any, status: int | None, when: str) -> None:
    if status is None:
        return
    actual = getattr(response, "status_code", None)
    if actual != status:
        body = getattr(response, "content", b"")[:500]
        pytest.fail(f"{when}: expected HTTP {status}, got {actual}: {body!r}", pytrace=False)
