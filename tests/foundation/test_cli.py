"""The ``assistant`` command: options anywhere, honest exit codes, summaries people read."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import pytest

from assistant import cli
from assistant.bootstrap import build_for_tests
from assistant.services import people

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def settings_file(tmp_path: Path, body: str = "") -> str:
    path = tmp_path / "mine.toml"
    path.write_text('[community]\nname = "测试社区"\n' + body, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("before", [True, False])
def test_settings_and_data_work_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], before: bool
) -> None:
    options = ["--settings", settings_file(tmp_path), "--data", str(tmp_path / "d")]
    argv = options + ["settings"] if before else ["settings", *options]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    shown = json.loads(out)
    assert shown["community"]["name"] == "测试社区"
    assert shown["storage"]["dir"] == str((tmp_path / "d").resolve())


def test_an_option_after_the_command_wins_over_one_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--data", "first", "settings", "--data", str(tmp_path / "second"))
    assert code == 0 and json.loads(out)["storage"]["dir"].endswith("second")


def test_a_qr_code_without_a_bot_username_is_an_error_not_silence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qr = tmp_path / "chen.png"
    code, _, err = run(
        capsys,
        "invite",
        "volunteer",
        "陈建国",
        "--qr",
        str(qr),
        "--data",
        str(tmp_path / "d"),
        "--settings",
        settings_file(tmp_path),
    )
    assert code != 0 and "bot_username" in err and not qr.exists()


def test_an_invitation_for_an_unknown_volunteer_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data", str(tmp_path / "d")]
    settings = ["--settings", settings_file(tmp_path, '[telegram]\nbot_username = "centre_bot"\n')]
    assert run(capsys, "demo-data", *data, *settings)[0] == 0
    qr = tmp_path / "chen.png"
    code, out, err = run(capsys, "invite", "volunteer", "陈建国", "--qr", str(qr), *data, *settings)
    assert code == 0 and out.startswith("https://t.me/centre_bot?start=vol-")
    assert "Warning" not in err and qr.read_bytes().startswith(b"\x89PNG")
    code, out, err = run(capsys, "invite", "volunteer", "陈建果", *data, *settings)
    assert code == 0 and "Warning: no imported volunteer is named '陈建果'" in err


def test_import_says_what_was_added_in_households_and_micro_grids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "households.csv"
    csv.write_text(
        "grid_id,grid_name,complex,building,unit,households\n"
        "g1,锦绣一,锦绣家园,1,1,1\ng1,锦绣一,锦绣家园,1,2,1\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "import", "households", str(csv), "--data", str(tmp_path / "d"))
    assert code == 0
    assert out.strip() == (
        "Imported households: added 2 households (2 building units) in 1 micro-grid, 1 of them new."
    )


class Terminal(io.StringIO):
    """Typed answers, as from a person at a terminal."""

    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    """Input that no person types (CI, a service manager): reading it would wait forever."""

    def readline(self, size: int | None = -1) -> str:
        raise AssertionError("read from a stream that no person answers")


def test_up_offers_the_demo_on_an_empty_store_only_to_a_person() -> None:
    # Given an empty store and no terminal: a hint, and nothing is read
    app = build_for_tests()
    out = io.StringIO()
    assert cli.offer_demo(app, Pipe(), out) is False
    assert "make demo" in out.getvalue()
    # At a terminal, Enter accepts
    assert cli.offer_demo(app, Terminal("\n"), out) is True
    with app.store.snapshot() as tx:
        assert people.person_at(tx, "console:lin") is not None
    # A store that holds a community is never offered the demo again
    assert cli.offer_demo(app, Pipe(), io.StringIO()) is False


def test_declining_the_demo_keeps_the_store_empty() -> None:
    app = build_for_tests()
    assert cli.offer_demo(app, Terminal("n\n"), io.StringIO()) is False
    with app.store.snapshot() as tx:
        assert tx.all(people.PEOPLE) == []


def test_the_readme_quick_start_runs_only_what_exists_in_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in quick.split("```sh\n")[1:]]
    commands = [line.split("#")[0].strip() for b in blocks for line in b.splitlines()]
    commands = [c for c in commands if c and ">" not in c]
    # The first two commands are `make up` then `make test`, as the README promises
    assert commands[:2] == ["make up", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for command in commands:
        # Every quick-start step is a make target, which creates .venv first when needed
        assert command.startswith("make "), f"{command!r} needs .venv before make made it"
        target = command.split()[1]
        rule = next(line for line in makefile.splitlines() if line.startswith(f"{target}:"))
        assert "deps" in rule, f"make {target} does not install first"


def test_the_licence_is_an_spdx_string() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    requires = " ".join(project["build-system"]["requires"])
    assert "setuptools>=77" in requires
