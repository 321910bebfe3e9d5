"""CI formats: JUnit XML (``--junit-xml FILE``) and the GitHub Actions step summary.

``run``, ``replay`` and ``check`` write one JUnit test case per item (per fixture for
``check``), the item's explanation as the failure message, to the file ``--junit-xml``
names; when ``$GITHUB_STEP_SUMMARY`` is set they append a Markdown summary to it. The
documents are built here from the records (no I/O); :func:`write_junit` and
:func:`append_step_summary` write them through :mod:`awaken_eval._io.atomic`.

The JUnit document follows the layout CI servers read (Jenkins, GitLab, GitHub
reporters): ``<testsuites>`` holding one ``<testsuite>`` with ``<properties>``, then
``<testcase name classname time>`` elements, a failing one holding
``<failure message type>`` with the full explanation as its text.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import attrs

from awaken_eval._analysis.explain import explain_item, item_label
from awaken_eval._records.comparison import DiffEntry, DiffSummary, SampledDiffSummary
from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.runs import EvalRun, EvalRunItem
from awaken_eval.cli._errors import CliError

__all__ = [
    "STEP_SUMMARY_ENV",
    "Case",
    "append_step_summary",
    "check_cases",
    "item_cases",
    "junit_xml",
    "markdown_summary",
    "report_cases",
    "report_run",
    "write_junit",
]

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
"""The environment variable GitHub Actions sets to the step summary file."""

_SUMMARY_ROWS = 50
"""Failing items listed in the Markdown summary (the rest are counted)."""

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/F)."""


@attrs.frozen(kw_only=True)
class Case:
    """One JUnit test case.

    Attributes:
        name: The item (``fixture [model] #sample``).
        classname: The suite it belongs to (the dataset).
        seconds: How long it took.
        message: The failure message (one line), or ``None`` when it passed.
        failure_type: The failure's type (the failure kinds), when it failed.
        text: The full explanation, when it failed.
    """

    name: str
    classname: str
    seconds: float = 0.0
    message: str | None = None
    failure_type: str = ""
    text: str = ""


def _seconds(report: ReplayReport) -> float:
    millis = report.elapsed_ms or report.session_duration_ms
    return millis / 1000


def _explained(target: ReplayReport | EvalRunItem) -> tuple[str, str, str]:
    """``(message, type, text)`` of a failing report: first summary, kinds, all lines."""
    explanations = explain_item(target)
    lines: list[str] = []
    for explanation in explanations:
        lines.append(f"- {explanation.summary}")
        lines.extend(f"  {detail}" for detail in explanation.details)
    kinds = ", ".join(dict.fromkeys(explanation.kind for explanation in explanations))
    first = explanations[0].summary if explanations else "failed"
    more = len(explanations) - 1
    message = first if more <= 0 else f"{first} (and {more} more)"
    return message, kinds, "\n".join(lines)


def item_cases(targets: Sequence[ReplayReport | EvalRunItem], suite: str) -> list[Case]:
    """One case per report or run item; a failing one carries its explanation."""
    cases = []
    for target in targets:
        report = target.report if isinstance(target, EvalRunItem) else target
        case = Case(name=item_label(target), classname=suite, seconds=_seconds(report))
        if not report.passed:
            message, kinds, text = _explained(target)
            case = attrs.evolve(case, message=message, failure_type=kinds, text=text)
        cases.append(case)
    return cases


def _entry_label(entry: DiffEntry) -> str:
    label = entry.fixture_id
    if entry.cell is not None and entry.cell.model_id is not None:
        label += f" [{entry.cell.model_id}]"
    if entry.sample_index is not None:
        label += f" #{entry.sample_index}"
    return label


def check_cases(
    summary: DiffSummary, new: Mapping[str, ReplayReport], suite: str = "check"
) -> list[Case]:
    """One case per diff entry of ``check``: a blocking entry fails, explained."""
    cases = []
    for entry in summary.entries:
        case = Case(name=_entry_label(entry), classname=suite)
        report = new.get(entry.fixture_id)
        if report is not None:
            case = attrs.evolve(case, seconds=_seconds(report))
        if entry.blocking:
            if report is not None and not report.passed:
                message, _, text = _explained(report)
                message = f"{entry.kind}: {message}"
            else:
                message = text = f"{entry.kind} against the baseline"
            case = attrs.evolve(case, message=message, failure_type=entry.kind, text=text)
        cases.append(case)
    return cases


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _timestamp(epoch_secs: int | None) -> str:
    moment = datetime.now(UTC) if epoch_secs is None else datetime.fromtimestamp(epoch_secs, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def junit_xml(
    cases: Sequence[Case],
    *,
    suite: str,
    properties: Mapping[str, str] | None = None,
    started_at_secs: int | None = None,
) -> str:
    """The JUnit XML document of ``cases`` (one ``testsuite`` named ``suite``)."""
    failures = sum(case.message is not None for case in cases)
    seconds = f"{sum(case.seconds for case in cases):.3f}"
    totals = {"tests": str(len(cases)), "failures": str(failures), "errors": "0"}
    root = ET.Element("testsuites", {"name": "awaken-eval", **totals, "time": seconds})
    suite_element = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _clean(suite),
            **totals,
            "skipped": "0",
            "time": seconds,
            "timestamp": _timestamp(started_at_secs),
        },
    )
    if properties:
        holder = ET.SubElement(suite_element, "properties")
        for name, value in properties.items():
            ET.SubElement(holder, "property", {"name": _clean(name), "value": _clean(value)})
    for case in cases:
        element = ET.SubElement(
            suite_element,
            "testcase",
            {
                "name": _clean(case.name),
                "classname": _clean(case.classname),
                "time": f"{case.seconds:.3f}",
            },
        )
        if case.message is not None:
            failure = ET.SubElement(
                element,
                "failure",
                {"message": _clean(case.message), "type": _clean(case.failure_type)},
            )
            failure.text = _clean(case.text)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def write_junit(path: str, document: str) -> None:
    """Write the JUnit document to ``path`` atomically (parent directories created).

    Raises:
        CliError: when the file cannot be written.
    """
    from awaken_eval._io.atomic import write_text_atomic  # noqa: PLC0415

    try:
        write_text_atomic(Path(path), document)
    except OSError as exc:
        msg = f"--junit-xml {path}: {exc}"
        raise CliError(msg) from None


# -- the GitHub step summary -------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown_summary(
    title: str,
    cases: Sequence[Case],
    *,
    diff: DiffSummary | SampledDiffSummary | None = None,
) -> str:
    """A Markdown summary: the title, the counts, the failing cases with their reasons."""
    failing = [case for case in cases if case.message is not None]
    passed = len(cases) - len(failing)
    verdict = "✅" if not failing and (diff is None or diff.is_clean) else "❌"
    lines = [f"### {verdict} {_cell(title)}", ""]
    lines.append(f"**{len(cases)} items: {passed} passed, {len(failing)} failed**")
    if diff is not None:
        kinds: dict[str, int] = {}
        for entry in diff.entries:
            kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
        shown = ", ".join(f"{count} {kind}" for kind, count in kinds.items()) or "no items"
        state = "clean" if diff.is_clean else "**blocking**"
        lines.extend(["", f"Against the baseline ({state}): {shown}"])
    if failing:
        lines.extend(["", "| item | why |", "| --- | --- |"])
        lines.extend(
            f"| {_cell(case.name)} | {_cell(case.message or '')} |"
            for case in failing[:_SUMMARY_ROWS]
        )
        if len(failing) > _SUMMARY_ROWS:
            lines.extend(["", f"… and {len(failing) - _SUMMARY_ROWS} more failing items."])
    return "\n".join(lines) + "\n\n"


def append_step_summary(markdown: str) -> None:
    """Append ``markdown`` to ``$GITHUB_STEP_SUMMARY`` when it is set (else nothing).

    Raises:
        CliError: when the file cannot be written.
    """
    target = os.environ.get(STEP_SUMMARY_ENV)
    if not target:
        return
    from awaken_eval._io.atomic import append_text  # noqa: PLC0415

    try:
        append_text(target, markdown)
    except OSError as exc:
        msg = f"${STEP_SUMMARY_ENV} {target}: {exc}"
        raise CliError(msg) from None


def report_cases(
    cases: Sequence[Case],
    *,
    junit_path: str | None,
    suite: str,
    title: str,
    properties: Mapping[str, str] | None = None,
    started_at_secs: int | None = None,
    diff: DiffSummary | SampledDiffSummary | None = None,
) -> None:
    """Write the JUnit file (when asked) and append the step summary (when set)."""
    if junit_path is not None:
        document = junit_xml(
            cases, suite=suite, properties=properties, started_at_secs=started_at_secs
        )
        write_junit(junit_path, document)
    append_step_summary(markdown_summary(title, cases, diff=diff))


def report_run(
    run: EvalRun, *, junit_path: str | None, diff: DiffSummary | SampledDiffSummary | None
) -> None:
    """The CI outputs of ``run``: one case per item, the run's identity as properties."""
    properties = {
        "run_id": run.id,
        "dataset_id": run.dataset_id,
        "dataset_revision": str(run.dataset_revision),
        "execution_mode": run.execution_mode.value,
    }
    report_cases(
        item_cases(run.items, run.dataset_id),
        junit_path=junit_path,
        suite=run.dataset_id,
        title=f"awaken-eval run {run.id} ({run.dataset_id}, {run.execution_mode.value})",
        properties=properties,
        started_at_secs=run.started_at_secs,
        diff=diff,
    )
