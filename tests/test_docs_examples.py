"""Every ```python block of README.md and docs/*.md runs, and its shown output is right.

The blocks of one file share a namespace and run in document order, with the working
directory set to a fresh temporary directory. A ```text block that directly follows a
```python block (only blank lines between them) is that block's expected standard
output and must match it exactly (trailing whitespace aside). Other spellings of a
Python fence (``py``, ``python3``, ``pycon``, ...) are rejected, so no snippet can
silently escape execution. The shell sessions (```console blocks) of README.md and the
tutorial are run by ``test_tutorial.py``.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
UNEXECUTED_PYTHON = frozenset({"py", "python3", "py3", "pycon", "ipython", "ipython3"})
FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^`]*)$")


@attrs.frozen
class Block:
    """One fenced code block of a markdown file."""

    language: str
    line: int  # 1-based line of the first line of code
    code: str


def fenced_blocks(text: str) -> Iterator[Block]:
    """Yield the top-level fenced blocks of ``text`` in order.

    A fence is three or more backticks at the start of a line; it is closed by a line of
    at least as many backticks. Blocks nested inside other blocks are not yielded.
    """
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        language = opening["info"].strip().split(" ")[0] if opening["info"].strip() else ""
        start = index + 1
        end = start
        while end < len(lines) and not (
            lines[end].startswith(fence) and lines[end].strip() == "`" * len(lines[end].strip())
        ):
            end += 1
        yield Block(language, start + 1, "\n".join(lines[start:end]) + "\n")
        index = end + 1


def paired_blocks(path: Path) -> list[tuple[Block, Block | None]]:
    """The python blocks of ``path``, each with the text block showing its output."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    blocks = list(fenced_blocks(text))
    pairs: list[tuple[Block, Block | None]] = []
    for position, block in enumerate(blocks):
        if block.language != "python":
            continue
        shown: Block | None = None
        if position + 1 < len(blocks) and blocks[position + 1].language == "text":
            candidate = blocks[position + 1]
            closing = block.line + block.code.count("\n")  # 1-based line of the closing fence
            between = lines[closing : candidate.line - 2]
            if all(not line.strip() for line in between):
                shown = candidate
        pairs.append((block, shown))
    return pairs


def _normalise(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.strip("\n").splitlines())


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_python_block_escapes_execution(path: Path) -> None:
    languages = {block.language for block in fenced_blocks(path.read_text(encoding="utf-8"))}
    assert set() == languages & UNEXECUTED_PYTHON


def _with_marks(path: Path) -> Any:
    # docs/ray.md starts a Ray cluster: in the Ray tests' xdist group, so only one runs.
    if path.name == "ray.md":
        return pytest.param(path, marks=[pytest.mark.ray, pytest.mark.xdist_group("ray")])
    return path


@pytest.mark.parametrize(
    "path",
    [_with_marks(path) for path in DOCUMENTS],
    ids=lambda path: path.relative_to(ROOT).as_posix(),
)
def test_python_blocks_run_and_show_their_output(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if path.name == "ray.md":
        request.getfixturevalue("ray_cluster")  # the session's one Ray cluster
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_example_{path.stem}"}
    for block, shown in paired_blocks(path):
        # Pad with newlines so a traceback names the markdown file's own line numbers.
        source = "\n" * (block.line - 1) + block.code
        code = compile(source, str(path), "exec")
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            exec(code, namespace)  # noqa: S102 - running the documentation is the point
        if shown is not None:
            where = f"{path.name}:{block.line}"
            assert (where, _normalise(shown.code)) == (where, _normalise(captured.getvalue()))


def test_documents_have_examples() -> None:
    counts = {path.name: len(paired_blocks(path)) for path in DOCUMENTS}
    assert counts["README.md"] >= 1
    assert counts["concepts.md"] >= 10


def test_block_extraction() -> None:
    text = "intro\n```python\nx = 1\n```\n\n```text\n1\n```\n````md\n```python\nno\n```\n````\n"
    blocks = list(fenced_blocks(text))
    assert [("python", 3, "x = 1\n"), ("text", 7, "1\n"), ("md", 10, "```python\nno\n```\n")] == [
        (block.language, block.line, block.code) for block in blocks
    ]
