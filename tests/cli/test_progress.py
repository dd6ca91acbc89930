"""The progress bar draws only on a terminal (rich: bytes, rate, ETA) and never swallows
what the command prints to stdout meanwhile (`snap=$(blockstore backup ...)`)."""

import io

from clients.progress import NoBar, RichBar, progress_bar


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_stderr_is_not_a_terminal():
    stream = io.StringIO()
    bar = progress_bar(100, "upload", stream=stream)
    bar.advance(50)
    bar.close()
    assert isinstance(bar, NoBar) and stream.getvalue() == ""


def test_rich_bar_shows_label_and_bytes_on_a_terminal():
    stream = Tty()
    with progress_bar(4 << 20, "backup", stream=stream) as bar:
        bar.advance(1 << 20)
    assert isinstance(bar, RichBar)
    text = stream.getvalue()
    assert "backup" in text and "1.0/4.0 MiB" in text


def test_stdout_written_while_the_bar_runs_stays_on_stdout(capsys):
    stream = Tty()
    with progress_bar(4 << 20, "backup", stream=stream) as bar:
        print("snap-123")
        bar.advance(4 << 20)
    assert capsys.readouterr().out == "snap-123\n"
    assert "snap-123" not in stream.getvalue()
