"""The ten commands: their flags, help texts and where their handlers are.

Everything ``awaken-eval`` needs to parse its arguments and print help, and nothing
more: like :mod:`awaken_eval.cli._args` this module imports only the standard library.
Each command names its handler as ``module:function`` (:mod:`~awaken_eval.cli._offline`,
:mod:`~awaken_eval.cli._runs`, :mod:`~awaken_eval.cli._validate`), imported only when
the command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from awaken_eval.cli._args import (
    Command,
    Flag,
    choice,
    cli_error,
    did_you_mean,
    integer,
    positive_number,
    quoted,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from awaken_eval._records.expectations import Expectation


def _expectation(raw: str) -> Expectation:
    """``--expect-json``: parsed as soon as it is read (spec §5.3 step 1)."""
    from awaken_eval._records.expectations import Expectation  # noqa: PLC0415
    from awaken_eval._wire.converter import from_json  # noqa: PLC0415
    from awaken_eval.errors import InvalidInput  # noqa: PLC0415

    try:
        return from_json(Expectation, raw)
    except InvalidInput as exc:
        msg = f"--expect-json: {exc}"
        raise cli_error(msg) from None


_JUNIT = Flag(
    "--junit-xml",
    "FILE",
    "also write a JUnit XML report: one test case per item, failures explained",
)
_CI_DETAILS = (
    "When $GITHUB_STEP_SUMMARY is set, a Markdown summary (counts, failing items and\n"
    "why) is appended to that file."
)

# -- offline, file-based (the reference CLI's commands) ---------------------------------

REPLAY = Command(
    "replay",
    "Replay a fixture directory offline; write NDJSON reports.",
    handler="awaken_eval.cli._offline:replay",
    flags=(
        Flag(
            "--fixtures",
            "DIR",
            "fixture directory (or a dataset directory with fixtures/)",
            required=True,
        ),
        Flag(
            "--report",
            "FILE",
            "NDJSON report to write (parent directories are created)",
            required=True,
        ),
        _JUNIT,
    ),
    details=(
        "Exit status: 0 every fixture passed (or none matched), 1 a fixture failed,\n"
        "2 usage, loading or validation error (no report is written then).\n" + _CI_DETAILS
    ),
)

CHECK = Command(
    "check",
    "Diff a new NDJSON report against a baseline report.",
    handler="awaken_eval.cli._offline:check",
    flags=(
        Flag("--baseline", "FILE", "the baseline NDJSON report", required=True),
        Flag("--new", "FILE", "the new NDJSON report", required=True),
        _JUNIT,
    ),
    details=(
        "Prints a header line counting every class of entry (regressions, fixed, still\n"
        "failing, drift, missing, added, unchanged), then one line per fixture, a failing\n"
        "one explained. Exit status: 0 clean, 1 a blocking entry (regression, drift,\n"
        "missing, failing new fixture, worsened still-failing), 2 unreadable or invalid\n"
        "input. With --junit-xml a blocking entry is a failed test case.\n" + _CI_DETAILS
    ),
)

CURATE = Command(
    "curate",
    "Turn the trace of one agent run into a fixture.",
    handler="awaken_eval.cli._otlp:curate",
    flags=(
        Flag(
            "--trace-root",
            "DIR",
            "root of the file trace store (holds YYYY-MM/<run>.ndjson)",
        ),
        Flag("--run-id", "RUN", "the trace run to curate (also the fixture id)"),
        Flag("--otlp", "FILE", "read the trace from an OTLP JSON file instead"),
        Flag("--trace-id", "ID", "with --otlp: the OpenTelemetry trace holding the run"),
        Flag(
            "--out",
            "FILE",
            "fixture file to write (parent directories are created)",
            required=True,
        ),
        Flag(
            "--expect-final-contains",
            "TEXT",
            "phrase the final answer must contain (repeatable)",
            repeat=True,
        ),
        Flag("--expect-json", "JSON", "the expectation as JSON", convert=_expectation),
        Flag("--user-input", "TEXT", "the user message (default: recovered from the trace)"),
        Flag("--allow-unused", None, "tolerate provider-script events left unused on replay"),
    ),
    details=(
        "The trace is read from a file trace store (--trace-root and --run-id) or from\n"
        "an OTLP JSON file (--otlp and --trace-id; --run-id picks one agent run when the\n"
        "trace holds several). At least one expectation is required;\n"
        "--expect-final-contains values are appended to the final_answer_contains of\n"
        "--expect-json. A min_judge_score is rejected: offline replay cannot run a judge."
    ),
)


# -- datasets and stored runs ----------------------------------------------------------

DEFAULT_STORE = "sqlite:///.awaken-eval/runs.sqlite3"
"""The run store used when ``--store`` is not given (relative to the working directory)."""

DEFAULT_CONCURRENCY = 5
"""Units ``run`` executes at once when ``--concurrency`` is not given."""

DEFAULT_LIST_LIMIT = 20
"""Runs listed by ``runs list`` when ``--limit`` is not given."""

_PROVIDER_FLAGS = (
    Flag(
        "--max-connections",
        "N",
        "live: requests in flight per provider model, across the run (default 10)",
        convert=integer("--max-connections", minimum=1),
    ),
    Flag(
        "--max-retries",
        "N",
        "live: retries of a rate-limited or failed provider request (default 2)",
        convert=integer("--max-retries", minimum=0),
    ),
    Flag("--adaptive-concurrency", None, "live: halve a model's connections on 429"),
    Flag("--prices", "FILE", "live: token prices overriding the bundled table (JSON)"),
)
PROVIDER_FLAGS = (*(flag.name for flag in _PROVIDER_FLAGS), "--record")
"""The flags of provider models, live runs only."""

_STORE = Flag("--store", "URL", f"run store URL or path (default {DEFAULT_STORE})")
_JSON = Flag("--json", None, "print one JSON document instead of tables")
_STORE_DETAILS = (
    "Store URLs: sqlite:///relative.sqlite3, sqlite:////absolute.sqlite3,\n"
    "file:///absolute/dir, file:relative/dir, memory:, or a bare path (*.sqlite3,\n"
    "*.sqlite, *.db: SQLite; anything else: a directory of run files)."
)

RUN = Command(
    "run",
    "Run a dataset; store the run; diff it against a baseline.",
    handler="awaken_eval.cli._runs:run",
    positionals=("DATASET_DIR",),
    required_positionals=1,
    flags=(
        Flag(
            "--mode",
            "scripted|live",
            "scripted replay (default) or live models",
            convert=choice("--mode", ("scripted", "live")),
        ),
        Flag(
            "--models",
            "A,B",
            "live: comma-separated model ids, one matrix cell each (openai:MODEL, "
            "anthropic:MODEL, or ids your --executor knows)",
        ),
        Flag(
            "--samples",
            "N",
            "live: samples per (fixture, model) (default 1)",
            convert=integer("--samples", minimum=1),
        ),
        Flag(
            "--judge",
            "MODEL",
            "live: grade min_judge_score fixtures with this model (e.g. openai:gpt-4.1)",
        ),
        Flag("--rubric", "TEXT", "live: the judge's grading instructions"),
        Flag(
            "--revise-max-retries",
            "N",
            "live: let the agent revise an answer the judge failed, up to N times",
            convert=integer("--revise-max-retries", minimum=0),
        ),
        Flag("--replayer", "MODULE:FACTORY", "your agent: factory() returns a Replayer"),
        Flag(
            "--executor",
            "MODULE:FACTORY",
            "live: factory(model_id) returns the LlmExecutor of that model",
        ),
        _STORE,
        Flag("--baseline", "RUN_ID|latest", "diff against this stored run"),
        Flag(
            "--resume",
            "RUN_ID",
            "continue an interrupted (open) run: only its missing units run",
        ),
        Flag(
            "--max-walltime-secs",
            "S",
            "live: deadline of one cell in seconds (default 60)",
            convert=positive_number("--max-walltime-secs"),
        ),
        Flag(
            "--max-total-tokens",
            "N",
            "live: token budget of one cell",
            convert=integer("--max-total-tokens", minimum=1),
        ),
        Flag(
            "--concurrency",
            "N",
            f"units run at once (default {DEFAULT_CONCURRENCY})",
            convert=integer("--concurrency", minimum=1),
        ),
        Flag(
            "--ray",
            "local|auto|ray://HOST:PORT",
            "run the units on Ray actors (pip install 'awaken-eval[ray]')",
        ),
        Flag(
            "--ray-actors",
            "N",
            "with --ray: actors in the pool (default: the cluster's CPUs)",
            convert=integer("--ray-actors", minimum=1),
        ),
        *_PROVIDER_FLAGS,
        Flag(
            "--record",
            "OUT_DIR",
            "live: write a scripted fixture per item, curated from its trace",
        ),
        _JUNIT,
        _JSON,
    ),
    details=(
        "DATASET_DIR holds *.json fixtures, or a fixtures/ directory and an optional\n"
        'dataset.json {"id": ..., "description": ...}; the dataset id is the manifest\'s\n'
        "id or the directory name. --baseline latest is the newest stored run of the\n"
        "same dataset and mode. MODULE:FACTORY names a callable importable from the\n"
        "working directory.\n"
        "Exit status: 0 every item passed and the diff is clean, 1 a failing item or a\n"
        "blocking diff entry, 2 usage or input error (also: no fixture in DATASET_DIR),\n"
        "130 interrupted (the run stays open; the command that resumes it is printed).\n"
        + _CI_DETAILS
        + "\n\n"
        + _STORE_DETAILS
    ),
)

RUNS_LIST = Command(
    "runs list",
    "List stored runs, newest first, finished and open (interrupted).",
    handler="awaken_eval.cli._runs:runs_list",
    flags=(
        Flag("--dataset", "ID", "only runs of this dataset"),
        Flag(
            "--limit",
            "N",
            f"at most N runs (default {DEFAULT_LIST_LIMIT})",
            convert=integer("--limit", minimum=1),
        ),
        _STORE,
        _JSON,
    ),
    details=_STORE_DETAILS,
)

RUNS_SHOW = Command(
    "runs show",
    "Show a stored run, its diff and its sample statistics.",
    handler="awaken_eval.cli._runs:runs_show",
    positionals=("RUN_ID",),
    required_positionals=1,
    flags=(
        Flag("--baseline", "RUN_ID", "also diff the run against this stored run"),
        Flag(
            "--aggregate",
            "samples",
            "also show pass@k / pass^k per (fixture, model)",
            convert=choice("--aggregate", ("samples",)),
        ),
        _STORE,
        _JSON,
    ),
    details=_STORE_DETAILS,
)

DIFF = Command(
    "diff",
    "Diff stored run RUN_B against baseline run RUN_A.",
    handler="awaken_eval.cli._runs:diff",
    positionals=("RUN_A", "RUN_B"),
    required_positionals=2,
    flags=(_STORE, _JSON),
    details=(
        "Item by item, or group by group with a significance test when the runs have\n"
        "several samples per (fixture, model). Exit status: 0 clean, 1 blocking entry,\n"
        "2 usage error or incomparable runs.\n\n" + _STORE_DETAILS
    ),
)


MODELS_CHECK = Command(
    "models check",
    "Send one tiny request to a model: latency, tokens, cost.",
    handler="awaken_eval.cli._models:models_check",
    positionals=("PROVIDER:MODEL",),
    required_positionals=1,
    flags=(*_PROVIDER_FLAGS, _JSON),
    details=(
        "PROVIDER:MODEL is openai:MODEL (OPENAI_API_KEY, OPENAI_BASE_URL) or\n"
        "anthropic:MODEL (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL).\n"
        "Exit status: 0 the model answered, 1 it did not (the provider's message is\n"
        "printed), 2 usage error."
    ),
)


REPORT = Command(
    "report",
    "Write a stored run as one self-contained HTML report.",
    handler="awaken_eval.cli._report:report",
    positionals=("RUN_ID|latest",),
    required_positionals=1,
    flags=(
        Flag("--baseline", "RUN_ID|latest", "also show the diff against this stored run"),
        Flag("-o", "FILE", "the HTML file to write (default report-<RUN_ID>.html)"),
        Flag("--trace-root", "DIR", "show the transcripts captured in this trace store"),
        _STORE,
    ),
    details=(
        "latest is the newest stored run; --baseline latest the newest earlier run of\n"
        "the same dataset and mode. The file works offline: scripts, styles and data\n"
        "are inline and it makes no network request.\n\n" + _STORE_DETAILS
    ),
)


# -- files -----------------------------------------------------------------------------

VALIDATE = Command(
    "validate",
    "Check fixture files and directories, every problem located.",
    handler="awaken_eval.cli._validate:validate",
    positionals=("PATH",),
    required_positionals=1,
    variadic=True,
    details=(
        "A directory is checked like a dataset: its fixtures/ subdirectory when there\n"
        "is one (and its dataset.json manifest), else its *.json files; fixture ids\n"
        "must be unique within it. Exit status: 0 every file is valid, 2 otherwise."
    ),
)

SCHEMA = Command(
    "schema",
    "Print the JSON Schema of fixtures, datasets, runs or reports.",
    handler="awaken_eval.cli._validate:schema",
    positionals=("KIND",),
    details="KIND: fixture, dataset, run or report.",
)


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        REPLAY,
        CHECK,
        CURATE,
        RUN,
        RUNS_LIST,
        RUNS_SHOW,
        DIFF,
        MODELS_CHECK,
        REPORT,
        VALIDATE,
        SCHEMA,
    )
}
"""The commands by name as typed (``runs list`` with its space)."""

_OVERVIEW = """\
awaken-eval — evaluate AI agents from fixtures: replay, score, store, diff

usage: awaken-eval <command> [options]    (awaken-eval <command> --help for details)
       awaken-eval --version

Offline, file-based (the reference CLI's commands):
{offline}

Datasets and stored runs:
{stored}

Exit status: 0 success, 1 failing fixtures or a blocking diff, 2 usage or input error.
"""


def _overview() -> str:
    def rows(names: Sequence[str]) -> str:
        return "\n".join(f"  {name:<12} {COMMANDS[name].summary}" for name in names)

    return _OVERVIEW.format(
        offline=rows(["replay", "check", "curate"]),
        stored=rows(
            [
                "run",
                "runs list",
                "runs show",
                "diff",
                "report",
                "models check",
                "validate",
                "schema",
            ]
        ),
    )


def help_text(args: Sequence[str]) -> str:
    """Help for the command ``args`` starts with, else the overview."""
    if not args:
        return _overview()
    if args[0] == "runs":
        sub = f"runs {args[1]}" if len(args) > 1 else ""
        if sub in COMMANDS:
            return COMMANDS[sub].help()
        return "\n".join(COMMANDS[name].help() for name in ("runs list", "runs show"))
    if args[0] == "models":
        return COMMANDS["models check"].help()
    found = COMMANDS.get(args[0])
    return found.help() if found is not None else _overview()


def find_command(args: Sequence[str]) -> tuple[Command, Sequence[str]]:
    """The command ``args`` names and the arguments that follow its name.

    Raises:
        CliError: for an unknown command or ``runs`` without ``list`` or ``show``.
    """
    name = args[0]
    if name == "runs":
        sub = args[1] if len(args) > 1 else None
        if sub not in ("list", "show"):
            shown = "none" if sub is None else quoted(sub)
            hint = "" if sub is None else did_you_mean(sub, ("list", "show"))
            msg = f"runs: expected a subcommand, list or show (got {shown}){hint}"
            raise cli_error(msg)
        return COMMANDS[f"runs {sub}"], args[2:]
    if name == "models":
        sub = args[1] if len(args) > 1 else None
        if sub != "check":
            shown = "none" if sub is None else quoted(sub)
            msg = f"models: expected a subcommand, check (got {shown})"
            raise cli_error(msg)
        return COMMANDS["models check"], args[2:]
    found = COMMANDS.get(name) if " " not in name else None
    if found is None:
        names = [command.split(" ")[0] for command in COMMANDS]
        hint = did_you_mean(name, list(dict.fromkeys(names)))
        msg = f"unknown subcommand {quoted(name)}{hint} (try `awaken-eval --help`)"
        raise cli_error(msg)
    return found, args[1:]
