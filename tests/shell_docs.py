"""Shell sessions in the docs, run as a user would run them: in a terminal.

A ```console block of a markdown file is a shell session: a line starting with ``$ `` is
a command (a here-document continues it up to its terminator line), the lines up to the
next command are what the terminal shows. :func:`run_session` runs each command with
bash in a pseudo-terminal (so rich draws its tables and progress bars as it does for a
user), replays what the program wrote on a small screen model (carriage returns, erased
lines, cursor moves; colours dropped), and returns the screen text.

Run ids differ between runs: an id shown in the docs stands for the id the session
printed at the same place, and commands that use it get the real one.
"""

from __future__ import annotations

import codecs
import os
import pty
import re
import select
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
_CSI = re.compile(r"\x1b\[([?0-9;]*)([A-Za-z])")
_OSC = re.compile(r"\x1b\][^\x07]*\x07")
_HEREDOC = re.compile(r"<<-?\s*'?\"?(\w+)'?\"?")
_DURATION = re.compile(r"\bin \d+\.\d+s\b")
_DATETIME = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b")
_COLUMNS = 120
_TIMEOUT = 300


@attrs.frozen
class Step:
    """One command of a session and the output the docs show for it.

    Attributes:
        command: The command (with its here-document, if any).
        shown: The output the docs show.
        line: The 1-based line of the command in the markdown file.
        shown_lines: The 0-based ``[start, end)`` line range of ``shown`` in the file.
    """

    command: str
    shown: str
    line: int
    shown_lines: tuple[int, int]


@attrs.frozen
class Session:
    """One ```console block."""

    line: int  # 1-based line of the block's first content line
    end: int  # 1-based line of the closing fence
    steps: tuple[Step, ...]


def sessions(text: str) -> Iterator[Session]:
    """The ```console blocks of a markdown text, in order."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```console":
            index += 1
            continue
        start = index + 1
        end = start
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        yield Session(start + 1, end + 1, tuple(_steps(lines[start:end], start + 1)))
        index = end + 1


def _steps(lines: list[str], first_line: int) -> Iterator[Step]:
    index = 0
    while index < len(lines):
        if not lines[index].startswith("$ "):
            msg = f"line {first_line + index}: a console block starts with a '$ ' command"
            raise ValueError(msg)
        line = first_line + index
        command = [lines[index][2:]]
        heredoc = _HEREDOC.search(command[0])
        index += 1
        if heredoc is not None:
            while index < len(lines):
                command.append(lines[index])
                index += 1
                if lines[index - 1] == heredoc.group(1):
                    break
        shown = []
        shown_start = first_line - 1 + index
        while index < len(lines) and not lines[index].startswith("$ "):
            shown.append(lines[index])
            index += 1
        span = (shown_start, first_line - 1 + index)
        yield Step("\n".join(command), "\n".join(shown), line, span)


class _Screen:
    """Just enough of a terminal: text, carriage return, newline, erase, cursor up."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = [[]]
        self.row = 0
        self.column = 0

    def feed(self, text: str) -> None:
        text = _OSC.sub("", text)
        position = 0
        for match in _CSI.finditer(text):
            self._write(text[position : match.start()])
            self._control(match.group(1), match.group(2))
            position = match.end()
        self._write(text[position:])

    def _control(self, parameters: str, final: str) -> None:
        count = int(parameters) if parameters.isdigit() else 1
        if final == "A":
            self.row = max(0, self.row - count)
        elif final == "K":
            current = self.rows[self.row]
            if parameters == "2":
                current.clear()
            elif parameters in ("", "0"):
                del current[self.column :]
        elif final == "G":
            self.column = count - 1

    def _write(self, text: str) -> None:
        for char in text:
            if char == "\r":
                self.column = 0
            elif char == "\n":
                self.row += 1
                self.column = 0
                while len(self.rows) <= self.row:
                    self.rows.append([])
            elif char in "\x07\x08\x1b":
                continue
            else:
                current = self.rows[self.row]
                while len(current) < self.column:
                    current.append(" ")
                if self.column < len(current):
                    current[self.column] = char
                else:
                    current.append(char)
                self.column += 1

    def text(self) -> str:
        lines = ["".join(row).rstrip() for row in self.rows]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)


_CI_MARKERS = frozenset({"CI", "BUILD_NUMBER", "CONTINUOUS_INTEGRATION"})


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The session's environment: this interpreter's scripts first, the code under test."""
    scripts = str(Path(sys.executable).parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "GITHUB_", "COV_", "FORCE_COLOR", "NO_COLOR"))
        # a CI marker changes what tools print (pytest's short summary shows whole
        # messages when CI or BUILD_NUMBER is set); the sessions show a user's terminal
        and key not in _CI_MARKERS
    }
    env.update(
        PATH=os.pathsep.join([scripts, env.get("PATH", "")]),
        PYTHONPATH=str(ROOT / "src"),
        COLUMNS=str(_COLUMNS),
        LINES="50",
        TERM="xterm-256color",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra or {})
    return env


def run_in_terminal(command: str, cwd: Path, env: Mapping[str, str]) -> str:
    """Run ``command`` with bash in a pseudo-terminal; return the screen's text."""
    primary, secondary = pty.openpty()
    os.set_inheritable(secondary, True)
    process = subprocess.Popen(  # noqa: S603 - the documented command, as a user types it
        ["bash", "-c", command],  # noqa: S607 - in the user's shell, from PATH
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    screen = _Screen()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], _TIMEOUT)
            if not ready:
                process.kill()
                msg = f"no output for {_TIMEOUT}s: {command}"
                raise TimeoutError(msg)
            try:
                data = os.read(primary, 65536)
            except OSError:  # the secondary side closed (Linux raises EIO)
                break
            if not data:
                break
            screen.feed(decoder.decode(data))
    finally:
        os.close(primary)
        process.wait(timeout=_TIMEOUT)
    return screen.text()


def normalise(text: str) -> str:
    """Trailing spaces, durations (``in 0.12s``) and clock times do not count."""
    lines = [
        _DATETIME.sub("<date time>", _DURATION.sub("in <time>s", line.rstrip()))
        for line in text.splitlines()
    ]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


@attrs.define
class Runner:
    """Runs the steps of a document's sessions in one working directory, in order.

    Attributes:
        cwd: Where every command runs.
        env: Their environment.
        ids: Each run id shown in the docs and the id the session printed instead.
    """

    cwd: Path
    env: dict[str, str]
    ids: dict[str, str] = attrs.field(factory=dict)

    def run(self, step: Step) -> str:
        """Run one step; return its output (the screen) with the docs' ids put back."""
        command = ULID.sub(lambda match: self.ids.get(match.group(0), match.group(0)), step.command)
        actual = run_in_terminal(command, self.cwd, self.env)
        shown_ids = ULID.findall(step.shown)
        actual_ids = ULID.findall(actual)
        for shown, real in zip(shown_ids, actual_ids, strict=False):
            self.ids.setdefault(shown, real)
        back = {real: shown for shown, real in self.ids.items()}
        return ULID.sub(lambda match: back.get(match.group(0), match.group(0)), actual)


def rewritten(text: str, outputs: Mapping[int, str]) -> str:
    """``text`` with the output of each step (by its command's line) replaced."""
    lines = text.splitlines()
    replacements = [
        (step.shown_lines, outputs[step.line])
        for session in sessions(text)
        for step in session.steps
        if step.line in outputs
    ]
    for (start, end), output in sorted(replacements, reverse=True):
        lines[start:end] = output.splitlines()
    return "\n".join(lines) + "\n"
