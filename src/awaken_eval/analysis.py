"""Analysis of finished runs: baseline checks, diffs, sampled diffs, pass@k.

Every function here is pure: it takes records and returns records.
"""

from __future__ import annotations

from awaken_eval._analysis.baseline import *
from awaken_eval._analysis.diff import *
from awaken_eval._analysis.sampled import *
from awaken_eval._analysis.stats import *
from awaken_eval._records.comparison import *
from awaken_eval._records.runs import *

__all__ = [
    "ADHOC_DATASET_ID",
    "DRIFT_FIELDS",
    "LIVE_DRIFT_FIELDS",
    "BaselineCheck",
    "DatasetPassAtK",
    "DiffEntry",
    "DiffSummary",
    "Drift",
    "DriftPolicy",
    "FisherPValues",
    "Fixed",
    "GroupCounts",
    "GroupPassRate",
    "MissingFromNew",
    "NewRunMeta",
    "NewlyAdded",
    "Regression",
    "SampledDiffEntry",
    "SampledDiffSummary",
    "SampledFlaky",
    "SampledImproved",
    "SampledMissingFromNew",
    "SampledNewlyAdded",
    "SampledRegression",
    "SampledUnchanged",
    "StillFailing",
    "Unchanged",
    "aggregate_samples",
    "dataset_pass_at_k",
    "dataset_pass_hat_k",
    "diff_against_baseline",
    "diff_against_baseline_checked",
    "diff_eval_items",
    "diff_eval_items_checked",
    "diff_sampled",
    "fisher_one_sided",
    "group_counts",
    "normal_quantile",
    "pass_at_k",
    "pass_hat_k",
    "validate_baseline",
    "wilson_interval",
]
