"""The shell sessions of the tutorial and the README show what a user's terminal shows.

Each ```console block runs command by command in a pseudo-terminal, in a scratch
directory standing for the user's (see ``shell_docs``); the screen must match the output
shown. Set ``AWAKEN_EVAL_REGENERATE_DOCS=1`` to write the actual outputs into the files
instead (then review the diff).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from awaken_eval._io.atomic import write_text_atomic
from shell_docs import ROOT, Runner, environment, normalise, rewritten, sessions

REGENERATE = os.environ.get("AWAKEN_EVAL_REGENERATE_DOCS") == "1"
DOCUMENTS = ["docs/tutorial.md", "README.md"]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_console_sessions_show_what_a_user_sees(name: str, tmp_path: Path) -> None:
    path = ROOT / name
    text = path.read_text(encoding="utf-8")
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # the README works in a clone
    runner = Runner(tmp_path, environment())
    outputs: dict[int, str] = {}
    steps = [step for session in sessions(text) for step in session.steps]
    assert steps, f"{name} has no console session"
    for step in steps:
        actual = runner.run(step)
        if "first-eval" in step.command and "mkdir" in step.command:
            runner.cwd = tmp_path / "first-eval"  # the tutorial's `cd` carries over
        outputs[step.line] = actual
        if not REGENERATE:
            where = f"{name}:{step.line}"
            assert (where, normalise(step.shown)) == (where, normalise(actual))
    if REGENERATE:
        write_text_atomic(path, rewritten(text, outputs))


def test_sessions_are_read_with_their_here_documents() -> None:
    text = "```console\n$ cat > a <<'EOF'\n{\n}\nEOF\n$ echo hi\nhi\n```\n"
    ((first, second),) = [session.steps for session in sessions(text)]
    assert ("cat > a <<'EOF'\n{\n}\nEOF", "", 2) == (first.command, first.shown, first.line)
    assert ("echo hi", "hi", 6) == (second.command, second.shown, second.line)
    assert "```console\n$ cat > a <<'EOF'\n{\n}\nEOF\n$ echo hi\nbye\n```\n" == rewritten(
        text, {6: "bye"}
    )


def test_the_readme_installs_the_test_extra_before_the_web_host_demo() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index("pip install -e '.[test]'") < text.index("examples/http_host/app.py --demo")
