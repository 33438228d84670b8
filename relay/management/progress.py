"""A text progress bar for management commands: `[#####.....] 512/1000 label` on stderr.

On a terminal the bar redraws in place; in a log file (not a TTY) it writes a line at most
every tenth of the way, so a cron job's log stays short.
"""

from __future__ import annotations

from typing import TextIO

from django.core.management.base import OutputWrapper


class ProgressBar:
    def __init__(
        self, stream: OutputWrapper | TextIO, total: int, *, label: str = "", width: int = 30
    ) -> None:
        self.stream = stream
        self.total = max(total, 0)
        self.label = label
        self.width = width
        self.done = 0
        self._last_tenth = -1
        self._last_line = ""
        self._interactive = bool(getattr(stream, "isatty", lambda: False)())

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, ending="")  # a command's stderr adds a newline otherwise
        else:
            self.stream.write(text)

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._draw()

    def _bar(self) -> str:
        shown = min(self.done, self.total) if self.total else 0
        filled = self.width if not self.total else self.width * shown // self.total
        label = f" {self.label}" if self.label else ""
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}{label}"

    def _draw(self) -> None:
        if self._interactive:
            self._write("\r" + self._bar())
            self.stream.flush()
            return
        tenth = 10 * self.done // self.total if self.total else 10
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self._last_line = self._bar()
            self._write(self._last_line + "\n")

    def finish(self) -> None:
        if self._interactive:
            self._write("\r" + self._bar() + "\n")
        elif self._last_line != self._bar():
            self._write(self._bar() + "\n")
        self.stream.flush()
