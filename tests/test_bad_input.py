"""Bad input: one-line errors, exit status 2, no traceback, nothing damaged."""

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabsim import InputError, loads_scenario
from collabsim.cli import main

from .conftest import SCENARIOS

BAD_FILES = {
    "malformed": ("[governance\nmode = 'nao'\n", "malformed TOML"),
    "unknown_table": ("[governanse]\nmode = 'nao'\n", "did you mean 'governance'"),
    "unknown_key": ("[governance]\nmood = 'nao'\n", "governance.mood"),
    "bad_choice": ("[funding]\nrule = 'pooling'\n", "did you mean 'pooled'"),
    "out_of_range": ("[population]\ninitial_trust = 1.2\n", "population.initial_trust = 1.2"),
    "wrong_type": ("[population]\nsize = 'eight'\n", "population.size = 'eight'"),
    "too_few_members": ("[population]\nsize = 1\n", "at least 2 members"),
    "org_missing_name": ("[[organisation]]\nsector = 'police'\n",
                         "organisation[1].name is missing"),
    "org_bad_sector": ("[[organisation]]\nname = 'x'\nsector = 'NHS'\n", "organisation[1].sector"),
    "org_bad_goal": (
        "[[organisation]]\nname='x'\nsector='police'\n"
        "goals = { prevention = 0.5, acute = 0.2, safety = 0.1, independence = 0.3 }\n",
        "did you mean 'acute_care'",
    ),
    "duplicate_names": (
        "[[organisation]]\nname='x'\nsector='police'\n[[organisation]]\nname='x'\nsector='health'\n",
        "organisation[2].name = 'x' is already the name of organisation[1]",
    ),
    "shock_after_end": (
        "[scenario]\nsteps = 4\n[population]\nsize = 3\n"
        "[[environment.shocks]]\nstep = 9\nkind = 'scandal'\n",
        "environment.shocks[1].step = 9",
    ),
    "shock_bad_target": (
        "[population]\nsize = 3\n[[environment.shocks]]\nstep = 1\nkind = 'scandal'\n"
        "target = 'polise'\n",
        "did you mean 'police'",
    ),
    "nan": ("[governance]\nfacilitation = nan\n", "governance.facilitation = nan"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_exit_2_with_one_line(tmp_path, capsys, name):
    text, fragment = BAD_FILES[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert str(path) in err
    assert fragment in err
    assert "Traceback" not in err


def test_missing_file_and_folder(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["run", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["run", "generic", "--agents"], ["run", "generic", "--force"],
                                  ["compare", "generic", "generic", "--force"]])
def test_options_that_need_out_are_refused_without_it(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "only with --out DIR" in err


def test_steps_that_cut_off_a_shock_name_steps_not_set(tmp_path, capsys):
    path = tmp_path / "shock.toml"
    path.write_text('[scenario]\nbase = "generic"\n[[environment.shocks]]\nstep = 12\n'
                    'kind = "budget_cut"\nsize = 0.1\n')
    assert main(["run", str(path), "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"collabsim: error: --steps for {path}: environment.shocks[1].step = 12")


def test_a_misspelt_bundled_name_gets_a_suggestion(tmp_path, capsys):
    """On the command line, as a scenario's base and as a sweep's scenario."""
    assert main(["run", "basline"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'baseline'?" in err and "collabsim list" in err
    assert main(["run", "stauts_quo"]) == 2
    assert "did you mean 'policy/status_quo'?" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "nothing_like_any.toml")]) == 2
    assert "did you mean" not in capsys.readouterr().err
    (tmp_path / "mine.toml").write_text('[scenario]\nbase = "basline"\n')
    assert main(["run", str(tmp_path / "mine.toml")]) == 2
    err = capsys.readouterr().err
    assert f"({tmp_path / 'basline'})" in err and "did you mean 'baseline'?" in err
    (tmp_path / "s.toml").write_text('[sweep]\nscenario = "genric"\n[parameters]\n'
                                     '"population.size" = [3]\n')
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "did you mean 'generic'?" in capsys.readouterr().err


def test_bad_command_line_values_exit_2(capsys):
    for argv in (["run", "x.toml", "--replicates", "0"], ["run", "x.toml", "--seed", "-1"],
                 ["run", "x.toml", "--set", "novalue"], ["frobnicate"],
                 ["plot", "d", "--x", "a", "--metric", "m", "--png", "d/manifest.json"],
                 ["sweep", "s.toml", "--out", "o", "--scheduler", "not a url!!"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_bad_input_does_not_touch_earlier_output(tmp_path, capsys):
    out = tmp_path / "out"
    base = str(SCENARIOS / "baseline.toml")
    assert main(["run", base, "-n", "2", "--out", str(out)]) == 0
    def files():
        return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    before = files()
    assert main(["run", base, "-n", "2", "--out", str(out), "--set", "funding.rule=pool"]) == 2
    assert files() == before
    assert not list(out.rglob(".*"))  # no temporary files left behind


def test_cli_process_prints_no_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[governance]\nmode = 'boss'\n")
    res = subprocess.run([sys.executable, "-m", "collabsim.cli", "run", str(path)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.strip().count("\n") == 0
    assert "governance.mode = 'boss'" in res.stderr


VALID = (SCENARIOS / "baseline.toml").read_text()


@given(st.data())
def test_fuzzed_scenarios_raise_only_input_errors(data):
    text = VALID
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 20)))
        junk = data.draw(st.sampled_from(["", "=", "[", "]", "\"", "x", "-1", "1e9", "\n", "nan",
                                          "[[organisation]]\n", "true", "{", "}", ".", "ü"]))
        text = text[:i] + junk + text[j:]
    try:
        loads_scenario(text, source="fuzz.toml")
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message
        assert message.startswith("fuzz.toml")
