"""Pure validation rules shared by the CLI, the service and the stores (spec §2.7 to 2.13).

Every function returns normally when its rule holds and raises an
:class:`~awaken_eval.errors.InvalidRequest` (status 400) whose message contains the
substrings the reference's tests pin.
"""

from __future__ import annotations

from collections.abc import Iterable

from awaken_eval.errors import DuplicateItemKeys
from awaken_eval.outcomes import ReplayReport
from awaken_eval.runs import EvalRunItem, ItemKey

__all__ = ["validate_unique_item_keys", "validate_unique_report_keys"]


def validate_unique_report_keys(reports: Iterable[ReplayReport]) -> None:
    """Check that no two reports share a ``fixture_id``.

    Raises:
        DuplicateItemKeys: naming the first repeated id (``duplicate report fixture_id: <id>``).
    """
    seen: set[str] = set()
    for report in reports:
        if report.fixture_id in seen:
            msg = f"duplicate report fixture_id: {report.fixture_id}"
            raise DuplicateItemKeys(msg)
        seen.add(report.fixture_id)


def validate_unique_item_keys(items: Iterable[EvalRunItem]) -> None:
    """Check that no two items share an item key (fixture, cell, sample index).

    An absent cell and a cell without model are the same key component.

    Raises:
        DuplicateItemKeys: describing the first repeated key
            (``duplicate eval-run item key: fixture 'a', model 'm', sample 0``).
    """
    seen: set[ItemKey] = set()
    for item in items:
        key = item.key
        if key in seen:
            msg = f"duplicate eval-run item key: {key.describe()}"
            raise DuplicateItemKeys(msg)
        seen.add(key)
