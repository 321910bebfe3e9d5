"""The dataset bodies and responses survive the wire format (Hypothesis round trips)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awaken_eval import DatasetSpec, from_json, to_builtins, to_json
from awaken_eval.curate import CurationMode
from awaken_eval.records import DatasetSummary
from awaken_eval.service import (
    AppendFixtureRequest,
    CreateDatasetRequest,
    CurateItemRequest,
    DatasetListResponse,
    DatasetMeta,
    DatasetResponse,
    ImportDialogueRequest,
    ImportDialogueResponse,
    ImportTracesRequest,
    ImportTracesResponse,
    ReplaceDatasetRequest,
    parse_request,
)
from strategies import dataset_specs, expectations, fixtures, texts

U64 = st.integers(0, 2**64 - 1)
U32 = st.integers(0, 2**32 - 1)
MODES = st.sampled_from(CurationMode)
MAYBE_TEXT = st.none() | texts()
MAYBE_EXPECT = st.none() | expectations()

RECORDS: list[tuple[type[Any], st.SearchStrategy[Any]]] = [
    (CreateDatasetRequest, st.builds(CreateDatasetRequest, spec=dataset_specs(), id=MAYBE_TEXT)),
    (
        ReplaceDatasetRequest,
        st.builds(ReplaceDatasetRequest, expected_revision=U64, spec=dataset_specs()),
    ),
    (
        AppendFixtureRequest,
        st.builds(AppendFixtureRequest, fixture=fixtures(), expected_revision=U64),
    ),
    (
        CurateItemRequest,
        st.builds(
            CurateItemRequest,
            from_run_id=texts(),
            user_input=MAYBE_TEXT,
            fixture_id=MAYBE_TEXT,
            description=MAYBE_TEXT,
            allow_unused_provider_script=st.booleans(),
            provider_script_mode=MODES,
            expected=MAYBE_EXPECT,
            expect=MAYBE_EXPECT,
        ),
    ),
    (
        ImportTracesRequest,
        st.builds(
            ImportTracesRequest,
            expected_revision=U64,
            agent_id=MAYBE_TEXT,
            since_secs=st.none() | U64,
            max_count=st.none() | U32,
            skip_uncuratable=st.booleans(),
            provider_script_mode=MODES,
            expected=MAYBE_EXPECT,
            expect=MAYBE_EXPECT,
        ),
    ),
    (
        ImportDialogueRequest,
        st.builds(
            ImportDialogueRequest,
            expected_revision=U64,
            run_ids=st.lists(texts(), max_size=3).map(tuple),
            fixture_id=MAYBE_TEXT,
            description=MAYBE_TEXT,
            provider_script_mode=MODES,
            expected=MAYBE_EXPECT,
            expect=MAYBE_EXPECT,
        ),
    ),
    (
        DatasetResponse,
        st.builds(
            DatasetResponse,
            spec=dataset_specs(),
            meta=st.builds(DatasetMeta, revision=U64),
            unpinned=st.lists(texts(), max_size=2).map(tuple),
        ),
    ),
    (
        DatasetListResponse,
        st.builds(
            DatasetListResponse,
            datasets=st.lists(
                st.builds(
                    DatasetSummary,
                    id=texts(),
                    description=texts(),
                    fixture_count=U32,
                    revision=U64,
                ),
                max_size=3,
            ).map(tuple),
        ),
    ),
    (
        ImportTracesResponse,
        st.builds(
            ImportTracesResponse,
            imported_count=U32,
            skipped_count=U32,
            dataset_revision=U64,
            unpinned=st.lists(texts(), max_size=2).map(tuple),
        ),
    ),
    (
        ImportDialogueResponse,
        st.builds(
            ImportDialogueResponse,
            fixture_id=texts(),
            dataset_revision=U64,
            unpinned=st.lists(texts(), max_size=2).map(tuple),
        ),
    ),
]


@pytest.mark.parametrize(
    ("wire_type", "strategy"), RECORDS, ids=lambda v: getattr(v, "__name__", "")
)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_dataset_records_round_trip(
    wire_type: type[Any], strategy: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    value = data.draw(strategy)
    assert value == from_json(wire_type, to_json(value))
    assert value == parse_request(wire_type, to_builtins(value))


def test_revision_zero_and_the_counts_are_always_written() -> None:
    assert {"spec": {}, "meta": {"revision": 0}} == to_builtins(
        DatasetResponse(spec=DatasetSpec(), meta=DatasetMeta(revision=0))
    )
    assert {"imported_count": 0, "skipped_count": 0, "dataset_revision": 0} == to_builtins(
        ImportTracesResponse(imported_count=0, skipped_count=0, dataset_revision=0)
    )
