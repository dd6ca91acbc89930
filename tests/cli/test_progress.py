"""The progress bar draws only on a terminal, and its fallback line shows bytes, rate, ETA."""

import io

from clients.progress import LineBar, NoBar, progress_bar


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_stderr_is_not_a_terminal():
    stream = io.StringIO()
    bar = progress_bar(100, "upload", stream=stream)
    bar.advance(50)
    bar.close()
    assert isinstance(bar, NoBar) and stream.getvalue() == ""


def test_line_bar_shows_percent_bytes_rate_and_eta():
    stream = Tty()
    bar = LineBar(4 << 20, "backup", stream)
    bar.advance(1 << 20)
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\rbackup") and text.endswith("\n")
    assert "25%" in text and "1.0/4.0 MiB" in text and "MB/s" in text and "ETA" in text
