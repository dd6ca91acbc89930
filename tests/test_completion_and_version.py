"""`blockstore --version` and `blockstore completion bash|zsh`.

In-process through blockstore.cli.main (what the console script calls: a subprocess per
case cost ~4 s on a loaded machine); the bash script is then really sourced by bash."""

from __future__ import annotations

import importlib.metadata
import subprocess

import pytest

from blockstore.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_comes_from_the_package_metadata(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"blockstore {importlib.metadata.version('blockstore')}"


def complete(script: str, *words: str) -> list[str]:
    """What bash offers for the last word after sourcing `script`."""
    line = " ".join(words)
    probe = (f"source {script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n"
             f"COMP_LINE='{line}'; COMP_POINT={len(line)}\n"
             "_shtab_blockstore\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completion_is_valid_bash_and_completes_client_and_server_commands(tmp_path,
                                                                                capsys):
    script = tmp_path / "blockstore.bash"
    code, out, _ = run(capsys, "completion", "bash")
    assert code == 0
    script.write_text(out)
    checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert complete(script, "blockstore", "vol") == ["volume"]
    assert {"serve", "snapshot"} <= set(complete(script, "blockstore", "s"))
    assert complete(script, "blockstore", "serve", "--print-c") == ["--print-config"]
    assert "--incremental-from" in complete(script, "blockstore", "download", "--inc")


def test_zsh_completion_is_a_compdef_for_every_command(capsys):
    code, script, _ = run(capsys, "completion", "zsh")
    assert code == 0 and script.startswith("#compdef blockstore")
    for command in ("volume", "snapshot", "backup", "gateway", "serve", "data-plane", "gc"):
        assert f"\n    {command}:'" in script, f"{command} is listed as a command"


@pytest.mark.parametrize("argv", [["completion"], ["completion", "fish"]])
def test_completion_refuses_an_unknown_shell(argv, capsys):
    code, _, err = run(capsys, *argv)
    assert code == 2 and "bash,zsh" in err
