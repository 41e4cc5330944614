"""The collabsim command line: simulate partnerships between public-service organisations.

Exit status 0 on success, 2 on bad input (with a one-line message and no
traceback). Every input is validated before anything is written.
"""

from __future__ import annotations

import argparse
import errno
import io
import json
import math
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from collabsim import ensemble
from collabsim.errors import InputError, suggest, visible
from collabsim.experiment.analysis import MAX_HALFWIDTH
from collabsim.experiment.discovery import MAX_BOXES, MIN_COVERAGE
from collabsim.metrics import ARCHETYPES
from collabsim.runner import aggregate, replicate_seed, run_replicates_full
from collabsim.scenario import (
    BASE_KEY,
    MEMBER_KEY,
    REMOVE,
    Scenario,
    ScenarioWarning,
    bundled_scenarios,
    inert,
    load_scenario,
    scenario_path,
)
from collabsim.schema import (
    ORGANISATION_FIELDS,
    PARAM_BY_KEY,
    PARAMS,
    SECTIONS,
    SHOCK_FIELDS,
    Field,
    Param,
)
from collabsim.store import (
    check_out,
    check_writable,
    folder_name,
    git_commit,
    replace_folder,
    sha256,
    unique,
    versions,
    write_csv,
    write_json,
)

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {visible(message)} (see --help)\n")


EXAMPLES = """\
examples:
  collabsim list                                 the bundled scenarios, by short name
  collabsim run baseline -n 20                   20 replicates of a bundled scenario
  collabsim run my_county.toml --set governance.mode=nao
  collabsim run policy/place --set 'organisation[Northvale Police].commitment=0'
  collabsim compare policy/status_quo policy/pooled_budget --out report
  collabsim describe governance.mode             what one key means and allows
  collabsim app teaching/tokenism                the teaching dashboard in the browser

A SCENARIO is a .toml file or the short name of a bundled scenario (see `collabsim list`).
"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _png(text: str) -> Path:
    """A figure's file: a PNG, so that nothing else (a manifest, say) is written over."""
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"{text!r} must name a .png file")
    return Path(text)


def _scheduler(text: str) -> str:
    """'local', or a Dask scheduler's address with its port (tcp://host:8786, host:8786)."""
    if text != "local" and not re.fullmatch(r"([a-z]+://)?[^\s:/]+:\d{1,5}", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither 'local' nor a scheduler address such as tcp://host:8786")
    return text


def _workers(text: str) -> int:
    value = _positive(text)
    most = 4 * (os.cpu_count() or 1)
    if value > most:
        raise argparse.ArgumentTypeError(f"{value} is more than 4 per CPU core; expected at "
                                         f"most {most} on this machine")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def _assignment(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE, e.g. governance.mode=nao")
    return key.strip(), value.strip()


def _replicate_options(p: argparse.ArgumentParser, what: str, replicates: int, out: str,
                       per: str = "") -> None:
    """Options shared by `run` and `compare`; ``per`` qualifies what N counts."""
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help=what)
    p.add_argument("--set", dest="overrides", action="append", default=[], type=_assignment,
                   metavar="KEY=VALUE",
                   help="override a parameter in every scenario (repeatable); see `describe`")
    p.add_argument("--replicates", "-n", type=_positive, default=replicates, metavar="N",
                   help=f"replicates per scenario (default {replicates}){per}")
    p.add_argument("--seed", type=_seed, default=0, metavar="S", help="base seed (default 0)")
    p.add_argument("--steps", type=_positive, default=None, metavar="T",
                   help="steps per run (default: scenario.steps)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help=out)
    p.add_argument("--force", action="store_true",
                   help="with --out, replace what an earlier run or compare wrote in DIR")
    drawn = p.add_mutually_exclusive_group()
    drawn.add_argument("--ensemble", dest="parameters", action="store_const", const="ensemble",
                       help="draw each replicate's behavioural parameters from the calibrated "
                       "ensemble (scenario.parameters = ensemble, the default unless a "
                       "scenario says otherwise; pinned keys win)")
    drawn.add_argument("--point-estimate", dest="parameters", action="store_const",
                       const="point_estimate",
                       help="use the calibrated ensemble's posterior median")
    drawn.add_argument("--defaults", dest="parameters", action="store_const", const="defaults",
                       help="use the schema's single default values (scenario.parameters = "
                       "defaults), as the teaching presets do")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to generate docs)."""
    parser = _Parser(prog="collabsim", description=__doc__.splitlines()[0] if __doc__ else "",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {versions()['collabsim']}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run scenarios and summarise their replicates",
                       description="Run each SCENARIO for N replicates and print each metric's "
                       "mean with a 95% confidence interval, and the share of each archetype.")
    _replicate_options(r, "scenario .toml files or bundled short names", 20,
                       "write per-step and per-run tables (Parquet) and a manifest here")
    r.add_argument("--agents", action="store_true", help="with --out, also write the agent table")
    r.add_argument("--json", action="store_true",
                   help="print one JSON object per scenario instead of a table")

    c = sub.add_parser("compare", help="compare scenarios with common random numbers",
                       description="Run every SCENARIO N times (replicate k of each uses the "
                       "same seed) and report each metric, paired differences from the first "
                       "scenario, and archetype shares; --out writes an HTML report.")
    _replicate_options(c, "scenario files or bundled names; the first is the reference", 50,
                       "write report.html, the data (Parquet, CSV) and a manifest here",
                       "; over the ensemble (the default), per plausible world")
    c.add_argument("--worlds", type=_positive, default=None, metavar="M",
                   help="over the ensemble: plausible worlds to draw from it (default: "
                   "as many as it has members); N replicates then run in each world")

    ap = sub.add_parser("app", help="the teaching dashboard in the browser (Solara)",
                        description="Start the teaching dashboard (a local Solara server) and "
                        "print its address; Ctrl-C stops it.")
    ap.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO",
                    help="scenario to start with (default: the solid_partnership preset)")
    ap.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1; the dashboard has no "
                    "login, so any other address lets anyone who can reach it use it)")
    ap.add_argument("--port", type=int, default=8765, help="port (default 8765)")

    ls = sub.add_parser("list", help="list the bundled scenarios",
                        description="List the scenarios in a folder (default: the bundled "
                        "ones) with their short names and descriptions.")
    ls.add_argument("folder", nargs="?", type=Path, default=None, metavar="FOLDER",
                    help="folder to list (default: the bundled scenarios)")

    v = sub.add_parser("validate", help="check scenario files",
                       description="Check scenario files without running them: one line per "
                       "file, ok or the first error; exit 2 if any is bad.")
    v.add_argument("files", nargs="+", metavar="FILE",
                   help="scenario .toml files or bundled short names")

    sw = sub.add_parser("sweep", help="run a parameter sweep into a results folder",
                        description="Run the design of SWEEP.toml, streaming results to DIR.")
    sw.add_argument("sweep_file", metavar="SWEEP.toml",
                    help="the sweep file: [sweep] settings and [parameters] (docs/experiments.md)")
    sw.add_argument("--out", type=Path, required=True, metavar="DIR",
                    help="results folder (new, or the same sweep's with --resume)")
    sw.add_argument("--workers", type=_workers, default=1, metavar="N",
                    help="worker processes (default 1: run in this process)")
    sw.add_argument("--scheduler", type=_scheduler, default=None, metavar="ADDRESS|local",
                    help="run on Dask: 'local' starts a LocalCluster of N workers; an address "
                    "such as tcp://host:8786 uses a running scheduler")
    sw.add_argument("--resume", action="store_true", help="finish an interrupted sweep in DIR")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")

    an = sub.add_parser("analyze", help="Sobol or Morris sensitivity indices of a sweep, checked",
                        description="Sensitivity indices of outputs of a sobol or morris sweep, "
                        "with 95% bootstrap intervals, a legend of every column and warnings "
                        "when the indices are unreliable.")
    an.add_argument("folder", type=Path, metavar="DIR", help="a sweep's results folder")
    an.add_argument("--method", choices=("sobol", "morris"), required=True,
                    help="the sweep's design: sobol or morris")
    an.add_argument("--metric", action="append", default=[], metavar="M",
                    help="output to analyse (repeatable; default: collaborative_advantage or "
                    "the first output); 'archetype' analyses the share of each archetype")
    an.add_argument("--max-halfwidth", type=float, default=MAX_HALFWIDTH, metavar="W",
                    help="warn when a Sobol interval is wider than ± W (default %(default)s)")

    pl = sub.add_parser("plot", help="plot a metric against one or two swept parameters",
                        description="Plot an output (or 'archetype': the share of each "
                        "archetype) against one parameter (means, 95% intervals, runs per "
                        "bin), two (a heatmap), or over time (--over time, needs keep_steps). "
                        "Parameters on no axis are averaged over, and the title says so.")
    pl.add_argument("folder", type=Path, metavar="DIR", help="a sweep's results folder")
    pl.add_argument("--x", default=None, metavar="PARAM",
                    help="parameter on the x axis (with --over time: one line per level)")
    pl.add_argument("--y", default=None, metavar="PARAM", help="second parameter: a heatmap")
    pl.add_argument("--by", default=None, metavar="PARAM", help="one panel per level of PARAM")
    pl.add_argument("--over", choices=("time",), default=None,
                    help="time: the per-step column M over the kept steps, with bands")
    pl.add_argument("--metric", required=True, metavar="M",
                    help="an output of the sweep, 'archetype' (every archetype's share) or "
                    "archetype:NAME")
    pl.add_argument("--png", type=_png, default=None, metavar="FILE",
                    help="where to write the figure (default: DIR/plots/...)")

    di = sub.add_parser("discover", help="find where in a sweep an outcome happens (PRIM)",
                        description="Scenario discovery: boxes of the swept parameters where "
                        "the outcome (M below or above X, or archetype NAME) is common, found "
                        "with PRIM from EMA Workbench. Prints each box's coverage, density, "
                        "mass and restricted parameters; writes a CSV and a plot.")
    di.add_argument("folder", type=Path, metavar="DIR", help="a sweep's results folder")
    di.add_argument("--metric", required=True, metavar="M",
                    help="an output of the sweep, or 'archetype' (with --equals)")
    when = di.add_mutually_exclusive_group(required=True)
    when.add_argument("--below", type=float, metavar="X", help="the outcome is M < X")
    when.add_argument("--above", type=float, metavar="X", help="the outcome is M > X")
    when.add_argument("--equals", metavar="NAME", help="the outcome is archetype NAME")
    di.add_argument("--min-coverage", type=float, default=MIN_COVERAGE, metavar="SHARE",
                    help="each box keeps at least this share of the runs where the outcome "
                    "happens that no earlier box holds (default %(default)s)")
    di.add_argument("--boxes", type=_positive, default=MAX_BOXES, metavar="N",
                    help="at most N boxes (default %(default)s)")
    di.add_argument("--png", type=_png, default=None, metavar="FILE",
                    help="where to write the plot (default: DIR/discovery/...)")

    d = sub.add_parser("describe", help="every parameter with its default, range and meaning",
                       description="Every scenario parameter with its default, allowed values "
                       "and meaning (--advanced adds the behavioural constants).")
    d.add_argument("keys", nargs="*", metavar="KEY",
                   help="describe only these keys (e.g. governance.mode, population, "
                   "organisation.commitment, scenario.base)")
    d.add_argument("--markdown", action="store_true", help="print the scenario reference")
    d.add_argument("--advanced", action="store_true",
                   help="also list the advanced behavioural constants")
    _patterns_parser(sub)
    _calibration_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``collabsim`` console script."""
    args = build_parser().parse_args(argv)
    stdout = sys.stdout
    if stdout is not None:  # None under pythonw: print then does nothing anyway
        sys.stdout = _PipeSafe(stdout)
    on_term = _terminate_on_sigterm()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", ScenarioWarning)
            warnings.showwarning = _show_warning
            return _dispatch(args)
    except InputError as exc:
        print(f"collabsim: error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # Ctrl-C: one line, not a traceback (sweep says how to resume)
        print("collabsim: interrupted", file=sys.stderr)
        return 130
    except _Terminated as exc:  # SIGTERM: worker pools were stopped on the way out
        print("collabsim: terminated", file=sys.stderr)
        return 128 + exc.signum
    except OSError as exc:  # a folder that cannot be written, a full disk: one line
        where = exc.filename if exc.filename is not None else "output"
        print(f"collabsim: error: {visible(str(where))}: cannot write "
              f"({exc.strerror or exc}){_resume_hint(args)}", file=sys.stderr)
        return EXIT_BAD_INPUT if exc.errno in PATH_ERRORS else 1
    finally:
        if on_term is not None:
            signal.signal(signal.SIGTERM, on_term)
        if stdout is not None:
            sys.stdout.flush()  # through the guard: what is still buffered may meet a closed pipe
            sys.stdout = stdout


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that pools and folders are closed on the way.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate_on_sigterm() -> Any:
    """Turn SIGTERM into :class:`_Terminated` for the command; return the old handler.

    Commands with their own handling (a sweep saves its finished runs first, the
    dashboard stops its server) install theirs inside this one. None off the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def raise_terminated(signum: int, _frame: Any) -> NoReturn:
        raise _Terminated(signum)

    return signal.signal(signal.SIGTERM, raise_terminated)


class _PipeSafe:
    """Standard output that a reader who stops reading (``| head``) cannot break.

    The first write or flush that finds the pipe closed sends the rest of the output
    to the null device, so the command still finishes what it was asked to do: an
    ``--out`` folder is written whatever happens to the terminal.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._closed = False

    def write(self, text: str) -> int:
        if not self._closed:
            try:
                return int(self._stream.write(text))
            except BrokenPipeError:
                self._silence()
        return len(text)

    def flush(self) -> None:
        if not self._closed:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._silence()

    def _silence(self) -> None:
        self._closed = True
        try:  # the interpreter's last flush of the real stream must not fail either
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


#: Errors that say the path given was wrong (bad input, exit 2), not that the disk failed.
PATH_ERRORS = {errno.EACCES, errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.EISDIR,
               errno.ENOENT, errno.EPERM}


def _resume_hint(args: argparse.Namespace) -> str:
    return ("; the runs already stored are kept: --resume continues"
            if args.command == "sweep" else "")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Scenario warnings as one plain line on stderr; others as Python prints them.

    The signature is :func:`warnings.showwarning`'s: ``file`` is not ``formatwarning``'s.
    """
    if issubclass(category, ScenarioWarning):
        print(f"collabsim: warning: {visible(str(message))}", file=sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line), end="",
              file=sys.stderr)


def _dispatch(args: argparse.Namespace) -> int:
    return {"run": cmd_run, "list": cmd_list, "validate": cmd_validate,
                "describe": cmd_describe, "sweep": cmd_sweep, "analyze": cmd_analyze,
                "plot": cmd_plot, "discover": cmd_discover, "compare": cmd_compare,
                "app": cmd_app, "patterns": cmd_patterns, "screen": cmd_screen,
                "calibrate": cmd_calibrate}[args.command](args)


# run --------------------------------------------------------------------------------------
def _load_all(paths: Sequence[str], overrides: Sequence[tuple[str, str]],
              steps: int | None) -> list[Scenario]:
    scenarios = []
    for path in paths:
        s = load_scenario(path)
        if overrides:
            changes = dict(overrides)
            s = s.with_overrides(changes, source="--set")
            given = [k for k in changes if k in PARAM_BY_KEY
                     and s[k] != PARAM_BY_KEY[k].default]  # a default changes nothing anyway
            for message in inert(s, given):
                warnings.warn(f"--set for {path}: {message}", ScenarioWarning, stacklevel=2)
        if steps is not None:  # its own source, so an error names --steps, not --set
            s = s.with_overrides({"scenario.steps": steps}, source=f"--steps for {path}")
        from collabsim.ensemble import unused

        if (why := unused(s)) is not None:
            warnings.warn(f"{path}: {why}", ScenarioWarning, stacklevel=2)
        scenarios.append(s)
    return scenarios


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The scenarios of ``run`` or ``compare``, with --set and the parameter source applied.

    Options that only mean something with --out are refused without it (not ignored).
    """
    if args.out is None:
        for flag in ("force", "agents"):
            if getattr(args, flag, False):
                raise InputError(f"--{flag}: only with --out DIR")
    extra = [("scenario.parameters", args.parameters)] if args.parameters else []
    return _load_all(args.scenarios, [*args.overrides, *extra], args.steps)


def cmd_run(args: argparse.Namespace) -> int:
    """``collabsim run``: everything is checked first; --out is written as a unit at the end."""
    # validate everything first
    scenarios = _scenarios(args)
    if args.out is None:
        for s in scenarios:
            _run_one(s, args)
        return 0
    with replace_folder(args.out, "run", args.force) as stage:
        folders = _output_folders(scenarios)
        for path, s, folder in zip(args.scenarios, scenarios, folders, strict=True):
            _write_outputs(stage / folder, path, s, args, *_run_one(s, args))
        if len(scenarios) > 1:
            write_json({"command": "run", "argv": sys.argv[1:], "scenarios": [
                {"name": s.name, "file": str(path), "folder": folder}
                for path, s, folder in zip(args.scenarios, scenarios, folders, strict=True)]},
                stage / "manifest.json")
    if not args.json:
        for folder in folders:
            print(f"wrote {visible(str(args.out / folder))}/")
    return 0


def _run_one(s: Scenario, args: argparse.Namespace) -> tuple[Any, ...]:
    """Run one scenario's replicates and print its summary; return what --out writes."""
    started = time.perf_counter()
    runs, steps, agents = run_replicates_full(
        s, args.replicates, args.seed, agents=args.agents and args.out is not None
    )
    elapsed = time.perf_counter() - started
    members = ensemble.drawn(s, (replicate_seed(args.seed, int(k)) for k in runs["replicate"]))
    if members is not None:  # which of the ensemble's parameter sets each replicate drew
        runs.insert(1, "member", members)
    summary = aggregate(runs)
    if args.json:
        doc = {"scenario": s.name, "replicates": args.replicates, "seed": args.seed,
               "parameters": s["scenario.parameters"], **summary}
        print(json.dumps(_finite(doc), sort_keys=False))
    else:
        print(format_table(s, args.replicates, args.seed, summary))
    return runs, steps, agents, summary, elapsed


def _output_folders(scenarios: list[Scenario]) -> list[str]:
    """One scenario writes into OUT itself; several into safe, distinct OUT/<name> folders.

    Names become one path component each (:func:`folder_name`) and are made distinct
    ignoring case (:func:`unique`): ``x``, ``x``, ``x_2`` get ``x_1``, ``x_3``, ``x_2``.
    """
    if len(scenarios) == 1:
        return ["."]
    return unique([folder_name(s.name) for s in scenarios])


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by None so the JSON is strict."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _write_outputs(folder, path, s, args, runs, steps, agents, summary, elapsed) -> None:
    folder.mkdir(exist_ok=True)
    from collabsim.experiment.tables import write_run_tables

    files = write_run_tables(folder, {"runs": runs, "steps": steps, "agents": agents}, s.name,
                             args.seed)
    toml = s.to_toml()
    manifest = {
        "command": "run",
        "argv": sys.argv[1:],
        "scenario_file": str(path),
        "scenario_file_sha256": sha256(scenario_path(path).read_bytes()),
        "scenario_sha256": sha256(toml),
        "scenario": s.to_dict(),
        "parameters": ensemble.record(s),
        "replicates": args.replicates,
        "seed": args.seed,
        "seeding": "numpy SeedSequence(seed, spawn_key=(replicate,))",
        "steps": s["scenario.steps"],
        "elapsed_s": round(elapsed, 3),
        "versions": versions(),
        "git_commit": git_commit(),
        "files": files,
        "summary": _finite(summary),
    }
    write_json(manifest, folder / "manifest.json")


def parameter_source(s: Scenario) -> str:
    """Where the scenario's behavioural parameters come from, in words."""
    mode = s[ensemble.KEY]
    if mode == "defaults":
        return "the schema's default values (scenario.parameters = defaults)"
    size = len(ensemble.load())
    if mode == "point_estimate":
        return f"the posterior median of the calibrated ensemble ({size} parameter sets)"
    return (f"each replicate draws one of the calibrated ensemble's {size} parameter sets "
            "(--defaults for one fixed set)")


def format_table(s: Scenario, n: int, seed: int, summary: dict[str, Any]) -> str:
    """A readable table of metric means, 95% CIs and archetype shares."""
    lines = [f"{visible(s.name)}: {n} replicates, seed {seed}, {s['scenario.steps']} steps",
             f"  parameters: {parameter_source(s)}",
             f"  {'metric':<26}{'mean':>12}   {'95% CI':<24}"]
    for name, m in summary["metrics"].items():
        lo, hi = m["ci95"]
        lines.append(f"  {name:<26}{m['mean']:>12.3f}   [{lo:.3f}, {hi:.3f}]")
    lines.append(f"  {'archetype':<26}{'share':>12}")
    for name in ARCHETYPES:
        share = summary["archetypes"][name]
        if share:
            lines.append(f"  {name:<26}{share:>12.0%}")
    return "\n".join(lines) + "\n"


# app ----------------------------------------------------------------------------------------
def cmd_app(args: argparse.Namespace) -> int:
    """``collabsim app``: validate the scenario, then serve the dashboard with Solara.

    The Solara server runs as a child process; it is stopped on every way out of this
    one (Ctrl-C, SIGTERM, SIGHUP, an error), so the port is free when we exit.
    """
    import importlib.util
    import os
    import subprocess

    if importlib.util.find_spec("solara") is None or importlib.util.find_spec("altair") is None:
        raise InputError("the dashboard needs the app extra: pip install 'collabsim[app]'")
    env = dict(os.environ)
    # Solara warns on every page load that it serves its cookie over plain http; on a
    # loopback address that is expected, and the warning only buries the useful output.
    env["PYTHONWARNINGS"] = ",".join(filter(None, [
        env.get("PYTHONWARNINGS"), "ignore:Cookies with samesite=none require https:UserWarning"]))
    if args.scenario is not None:
        load_scenario(args.scenario)  # bad input: exit 2 before any server starts
        env["COLLABSIM_APP_SCENARIO"] = str(scenario_path(args.scenario).resolve())
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: expected a port number in [1, 65535]")
    if args.host not in LOOPBACK:
        print(f"collabsim: warning: --host {args.host} lets anyone who can reach this machine "
              "use the dashboard, which has no login; use 127.0.0.1 unless you mean it",
              file=sys.stderr)
    cmd = [sys.executable, "-m", "solara", "run", "collabsim.app:Page", "--host", args.host,
           "--port", str(args.port), "--production", "--no-open", "--no-check-version"]
    print(f"collabsim dashboard on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    from collabsim.processes import die_with_parent

    child = subprocess.Popen(cmd, env=env, preexec_fn=die_with_parent)

    def stop(signum: int, _frame: Any) -> NoReturn:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return child.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop_child(child)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _stop_child(child: Any, grace: float = 3.0) -> None:
    """Terminate a child process, and kill it if it has not gone within ``grace`` s."""
    import subprocess

    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


# compare ------------------------------------------------------------------------------------
def cmd_compare(args: argparse.Namespace) -> int:
    """``collabsim compare``."""
    from collabsim.compare import compare
    from collabsim.report import write_report

    scenarios = _scenarios(args)
    if args.out is not None:
        # before the runs; write_report then replaces it as a unit
        check_out(args.out, "compare", args.force)
    if args.worlds is not None and not any(s["scenario.parameters"] == "ensemble"
                                           for s in scenarios):
        raise InputError("--worlds: only over the calibrated ensemble (scenario.parameters = "
                         "ensemble, the default), not with --defaults or --point-estimate")
    cmp = compare(scenarios, args.replicates, args.seed, worlds=args.worlds)
    print(format_comparison(cmp))
    if args.out is not None:
        path = write_report(cmp, args.out, sys.argv[1:])
        print(f"report: {visible(str(path))}")
    return 0


def format_comparison(cmp: Any) -> str:
    """Terminal tables: metrics per scenario, paired differences, archetype shares."""
    from collabsim.compare import headlines
    from collabsim.metrics import REGISTRY

    names = cmp.names
    shown = [visible(n) for n in names]  # names as the terminal shows them
    worlds = (f" ({len(cmp.worlds)} plausible worlds x {cmp.per_world})"
              if cmp.worlds is not None else "")
    out = [f"{len(names)} scenarios x {cmp.replicates} replicates{worlds}, seed {cmp.seed} "
           "(common random numbers; mean [95% CI])", ""]
    rows = []
    for metric in cmp.metrics:
        spec = REGISTRY[metric]
        cells = []
        for n in names:
            m = cmp.summary[n]["metrics"][metric]
            lo, hi = m["ci95"]
            cells.append(f"{spec.format(m['mean'])} [{spec.format(lo)}, {spec.format(hi)}]")
        rows.append([f"{metric} ({spec.unit})", *cells])
    out += _columns(["metric (unit)", *shown], rows)
    if len(names) > 1:
        out += ["", f"difference from {shown[0]} (paired mean [Monte Carlo 95% interval], "
                "verdict)", ""]
        d = cmp.differences.set_index(["option", "metric"])
        rows = []
        for metric in cmp.metrics:
            spec = REGISTRY[metric]
            cells = []
            for n in names[1:]:
                r = d.loc[(n, metric)]
                cells.append(f"{spec.format(r['difference'], True)} "
                             f"[{spec.format(r['mc_ci_low'], True)}, "
                             f"{spec.format(r['mc_ci_high'], True)}] {r['verdict']}")
            rows.append([metric, *cells])
        out += _columns(["metric", *shown[1:]], rows)
    out.append("")
    rows = [[arch, *(f"{cmp.summary[n]['archetypes'][arch]:.0%}" for n in names)]
            for arch in ARCHETYPES if any(cmp.summary[n]["archetypes"][arch] for n in names)]
    out += _columns(["archetype share", *shown], rows)
    out.append("")
    out.extend(f"- {visible(line)}" for line in headlines(cmp))
    if cmp.over_ensemble and len(names) > 1:
        from collabsim.drivers import flips, spread_text
        from collabsim.drivers import headlines as board_headlines

        out += ["", f"over {len(cmp.worlds)} plausible worlds from the calibrated ensemble "
                f"({cmp.per_world} replicates each; worlds drawn with probability their "
                "posterior weights). The regions named are leads to examine, not findings:",
                ""]
        heads = board_headlines(cmp)
        moved = flips(cmp).set_index(["option", "metric"])
        if not heads["option"].isin(names[1:]).any():
            out.append(f"no option differs clearly from {visible(names[0])} on a headline "
                       "metric, so there is no verdict to follow across the worlds")
        for n in names[1:]:
            rows = heads[heads["option"] == n]
            if rows.empty:
                continue
            out.append(f"{visible(n)}:")
            for r in rows.itertuples():
                out.append(f"  - {spread_text(r)}")
                out.append(f"    {visible(moved.loc[(n, r.metric), 'text'])}")
    return "\n".join(out)


def _columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-align the first column, right-align the rest, widths fitted to the cells."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths, strict=True)))
            for r in [header, *rows]]


# sweep / analyze / plot ---------------------------------------------------------------------
def cmd_sweep(args: argparse.Namespace) -> int:
    """``collabsim sweep``."""
    check_writable(args.out)
    from collabsim.experiment import sweep
    from collabsim.experiment.engine import ResultsWarning, SweepInterrupted

    def one_line(message: Warning | str, *_: Any, **__: Any) -> None:
        print(f"collabsim: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", ResultsWarning)
            warnings.showwarning = one_line
            report = sweep(args.sweep_file, args.out, workers=args.workers,
                           scheduler=args.scheduler, resume=args.resume,
                           progress=False if args.quiet else None)
    except SweepInterrupted as exc:
        print(f"collabsim: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:  # while starting, before any run
        print("collabsim: interrupted; resume with --resume", file=sys.stderr)
        return 130
    rate = report.ran / report.elapsed_s if report.elapsed_s > 0 else 0.0
    print(f"{visible(str(report.out))}: {report.total} runs ({report.skipped} already done, "
          f"{report.ran} run now, {report.failed} failed) in {report.elapsed_s:.1f} s "
          f"({rate:.1f} runs/s)")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """``collabsim analyze``: indices, their legend and diagnostics."""
    from collabsim.experiment import load_results, plot_sensitivity, sensitivity

    if not args.max_halfwidth > 0:
        raise InputError(f"--max-halfwidth {args.max_halfwidth}: expected a number above 0")
    results = load_results(args.folder)
    metrics = args.metric or [
        "collaborative_advantage" if "collaborative_advantage" in results.outputs
        else results.outputs[0]
    ]
    found = sensitivity(results, args.method, metrics, max_halfwidth=args.max_halfwidth)
    folder = args.folder / "analysis"
    folder.mkdir(exist_ok=True)
    csv = folder / f"{args.method}_indices.csv"
    dropped = _replaced_metrics(csv, found.table)
    write_csv(found.table, csv)
    png = folder / f"{args.method}_indices.png"
    plot_sensitivity(found.table, png)
    lines = [*(f"note: {n}" for n in found.notes), *(f"warning: {w}" for w in found.warnings)]
    legend = folder / f"{args.method}_indices.txt"
    legend.write_text("\n".join([f"Columns of {csv.name}:", *found.legend(), "", *lines]) + "\n",
                      encoding="utf-8")
    print(found.table.to_string(index=False, float_format=lambda v: f"{v:.3f}",
                                na_rep=""))
    print("\ncolumns:\n" + "\n".join(f"  {line}" for line in found.legend()))
    for line in lines:
        print(line, file=sys.stderr if line.startswith("warning") else sys.stdout)
    print(f"wrote {visible(str(csv))}, {legend.name} and {png.name}")
    if dropped:
        print(f"note: {csv.name} held {', '.join(dropped)} from an earlier analyze, replaced; "
              "give every metric with --metric to keep them in one table")
    return 0


def _replaced_metrics(csv: Path, table: Any) -> list[str]:
    """Metrics an earlier ``analyze`` left in ``csv`` that the new table does not hold."""
    import pandas as pd

    try:
        before = pd.read_csv(csv, usecols=["metric"])["metric"].astype(str).unique()
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return []
    now = set(table["metric"].astype(str))
    return [visible(m) for m in before if m not in now]


def cmd_plot(args: argparse.Namespace) -> int:
    """``collabsim plot``."""
    from collabsim.experiment import load_results, plot_factor, plot_heatmap, plot_time

    if args.over is None and args.x is None:
        raise InputError("plot: give --x PARAM (or --over time)")
    if args.over and args.y:
        raise InputError("--over time: draws one line per level of --x; --y is not allowed")
    results = load_results(args.folder)
    parts = [args.metric, *(f"{k}_{v}" for k, v in
                            (("over", args.over), ("by", args.x), ("and", args.y),
                             ("per", args.by)) if v)]
    png = args.png or args.folder / "plots" / f"{'_'.join(parts)}.png"
    if args.over:
        fig = plot_time(results, args.metric, x=args.x, by=args.by)
    elif args.y:
        fig = plot_heatmap(results, args.x, args.y, args.metric, by=args.by)
    else:
        fig = plot_factor(results, args.x, args.metric, by=args.by)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    print(f"wrote {visible(str(png))}")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """``collabsim discover``: PRIM boxes where an outcome happens."""
    from collabsim.experiment import load_results
    from collabsim.experiment.discovery import describe, discover, plot_boxes

    results = load_results(args.folder)
    found = discover(results, args.metric, below=args.below, above=args.above,
                     equals=args.equals, min_coverage=args.min_coverage, max_boxes=args.boxes)
    print("\n".join(describe(found)))
    how = next(f"{k}_{v:g}" if isinstance(v, float) else f"{k}_{v}"
               for k, v in (("below", args.below), ("above", args.above),
                            ("equals", args.equals)) if v is not None)
    folder = args.folder / "discovery"
    folder.mkdir(exist_ok=True)
    stem = folder_name(f"{args.metric}_{how}")  # user text never leaves the folder
    csv = folder / f"{stem}.csv"
    write_csv(found.table(), csv)
    png = args.png or folder / f"{stem}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    plot_boxes(found, png)
    print(f"wrote {visible(str(csv))} and {visible(str(png))}")
    return 0


# list / validate / describe -------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    """``collabsim list``."""
    folder = args.folder or bundled_scenarios()
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    files = sorted(folder.rglob("*.toml"))
    names = [str(f.relative_to(folder).with_suffix("")) for f in files]
    width = max(map(len, names), default=0)
    for f, name in zip(files, names, strict=True):
        try:
            desc = load_scenario(f)["scenario.description"] or "(no description)"
        except InputError as exc:
            desc = f"INVALID: {exc}"
        print(f"{visible(name):<{width}}  {visible(desc)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``collabsim validate``: check every file, report each, exit 2 if any is bad."""
    bad = 0
    for path in args.files:
        try:
            s = load_scenario(path)
        except InputError as exc:
            print(f"collabsim: error: {visible(str(exc))}", file=sys.stderr)
            bad += 1
        else:
            print(f"ok: {visible(path)} ({visible(s.name)}, {s.n_members} members)")
    return EXIT_BAD_INPUT if bad else 0


def _default_text(p: Param) -> str:
    value = p.default
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    return f"{value:g}" if isinstance(value, float) else str(value)


def cmd_describe(args: argparse.Namespace) -> int:
    """``collabsim describe [KEY ...]``."""
    if args.markdown:
        print(reference_markdown(), end="")
    else:
        print(describe_text(args.keys, args.advanced), end="")
    return 0


BASE_HELP = ("Another scenario file to start from (relative to this file, or a bundled "
             "short name): this file's keys override the base's one by one, its "
             "[[organisation]] tables merge with the base's members by name (a known name "
             "changes only the fields given, a new name adds a member, `remove = true` drops "
             "one), and its [[environment.shocks]], if any, replace the base's schedule.")
REMOVE_HELP = ("With a base: true drops the base's member of this name (give only the name "
               "and remove).")
TABLE_FIELDS: tuple[tuple[str, str, tuple[Field, ...]], ...] = (
    ("[[organisation]]", "organisation", ORGANISATION_FIELDS),
    ("[[environment.shocks]]", "environment.shocks", SHOCK_FIELDS),
)


def _field_allowed(f: Field) -> str:
    return ("a table of four numbers in [0, 1]" if f.kind == "goals"
            else f.as_param("x").allowed())


def describe_text(keys: Sequence[str] = (), advanced: bool = False) -> str:
    """Parameters, one block each, for the terminal: all of them, or those ``keys`` name.

    Without keys, advanced behavioural constants are listed only when ``advanced`` is
    true (a key names them whether advanced or not).

    A key may be a dotted parameter (``governance.mode``), a section (``population``),
    ``scenario.base``, or a field of a repeated table (``organisation.commitment``,
    ``organisation[Riverton].commitment``, ``environment.shocks.size``).

    Raises:
        InputError: a key that names nothing, with the closest match.
    """
    blocks: list[tuple[str, list[str]]] = [
        ("scenario.base", ["  scenario.base = (none)    (a path to a .toml file)",
                           f"      {BASE_HELP}"])]
    hidden = sum(p.advanced for p in PARAMS) if not (keys or advanced) else 0
    for p in sorted(PARAMS, key=lambda p: SECTIONS.index(p.section)):  # one heading each
        if p.advanced and hidden:
            continue
        drawn = ("; each replicate draws it from the calibrated ensemble unless a scenario "
                 "pins it" if p.key in ensemble.drawn_keys() else "")
        blocks.append((p.key, [f"  {p.key} = {_default_text(p)}    ({p.allowed()}{drawn})",
                               f"      {p.help}"]))
    for title, table, fields in TABLE_FIELDS:
        for f in fields:
            req = "required" if f.required else f"default {f.default!r}"
            blocks.append((f"{table}.{f.name}", [f"  {title} {f.name}    ({_field_allowed(f)}, "
                                                f"{req})", f"      {f.help}"]))
        if table == "organisation":
            blocks.append((f"{table}.{REMOVE}", [f"  {title} {REMOVE}    (true or false)",
                                                 f"      {REMOVE_HELP}"]))
    if not keys:
        note = (f"({hidden} advanced behavioural constants not shown; "
                "`collabsim describe --advanced` lists them)\n") if hidden else ""
        return _with_headings(blocks) + note
    chosen = []
    known = [k for k, _ in blocks]
    for key in keys:
        member = MEMBER_KEY.match(key)
        key = f"{member.group(1)}.{member.group(3).split('.')[0]}" if member else key
        key = "scenario.base" if key == BASE_KEY else key
        hits = [b for b in blocks if b[0] == key or b[0].startswith(key + ".")]
        if not hits:
            raise InputError(f"describe {key}: not a known key{suggest(key, known)}; "
                             "run `collabsim describe` for all of them")
        chosen += [b for b in hits if b not in chosen]
    return _with_headings(chosen)


def _with_headings(blocks: list[tuple[str, list[str]]]) -> str:
    lines: list[str] = []
    heading = None
    for key, text in blocks:
        head = next((f"{t}" for t, table, _ in TABLE_FIELDS if key.startswith(table + ".")),
                    f"[{key.split('.', 1)[0]}]")
        if key.startswith("environment.shocks."):
            head = "[[environment.shocks]]"
        if head != heading:
            heading = head
            lines.append(head)
        lines += text
    return "\n".join(lines) + "\n"


def reference_markdown() -> str:
    """The scenario reference (docs/scenario-reference.md), generated from the schema."""
    out = [
        "# Scenario reference",
        "",
        "Generated by `collabsim describe --markdown` from `src/collabsim/schema.py`; "
        "do not edit by hand.",
        "",
        "A scenario is a TOML file. Every key below is optional and takes its default when "
        "left out. Unknown keys are rejected, and a key that cannot affect the scenario (for "
        "example `population.blocs` when every member is listed) is reported as a warning. "
        "Any key can be overridden on the command line with `--set KEY=VALUE`, and so can "
        "one listed organisation's field, by name or number (`--set "
        "'organisation[Riverton].commitment=0'`, `organisation[2].goals.prevention=0.8`), and "
        "one shock's (`environment.shocks[1].size=0.3`; numbers count from 1, as in error "
        "messages). Sweeps accept the same keys in `[parameters]`. Keys marked *advanced* "
        "are behavioural constants most users leave alone; docs/ODD.md gives the source of "
        "each. Keys marked *ensemble* are drawn, replicate by replicate, from the calibrated "
        "parameter ensemble unless the scenario sets them or `scenario.parameters` asks for "
        "one parameter set; their default (or, with `point_estimate`, the ensemble's "
        "posterior median) is then the value used.",
        "",
        "## Starting from another scenario",
        "",
        "| key | default | allowed | meaning |",
        "|---|---|---|---|",
        f"| `scenario.base` | none | a path to a .toml file | {BASE_HELP} |",
        f"| `[[organisation]]` `{REMOVE}` | `false` | true or false | {REMOVE_HELP} |",
    ]
    section = None
    for p in PARAMS:
        if p.section != section:
            section = p.section
            out += ["", f"## `[{section}]`", "", "| key | default | allowed | meaning |",
                    "|---|---|---|---|"]
        flag = (" *(advanced)*" if p.advanced else "") + (
            " *(ensemble)*" if p.key in ensemble.drawn_keys() else "")
        out.append(f"| `{p.key}`{flag} | `{_default_text(p)}` | {p.allowed()} | {p.help} |")
    for title, fields in (("[[organisation]]", ORGANISATION_FIELDS),
                          ("[[environment.shocks]]", SHOCK_FIELDS)):
        out += ["", f"## `{title}`", "", "| field | default | allowed | meaning |",
                "|---|---|---|---|"]
        for f in fields:
            default = "required" if f.required else (
                "sector's typical goals" if f.kind == "goals" else f"`{f.default!r}`")
            allowed = _field_allowed(f)
            out.append(f"| `{f.name}` | {default} | {allowed} | {f.help} |")
    return "\n".join(out) + "\n"



# patterns ---------------------------------------------------------------------------------
def _patterns_parser(sub: Any) -> None:
    pa = sub.add_parser(
        "patterns", help="validation as a filter: every pattern, its class and whether it holds",
        description="Run every validation pattern (design properties, calibration targets and "
        "independent patterns judged across a Latin hypercube of contexts) and report each "
        "one's effect, 95% interval, share of contexts and verdict. `make validate` runs the "
        "full version and writes docs/validation.md.")
    pa.add_argument("--quick", action="store_true",
                    help="the reduced design the test suite uses (6 contexts, 4 replicates)")
    pa.add_argument("--json", action="store_true", help="print one JSON list of the patterns")
    pa.add_argument("--seed", type=_seed, default=None, metavar="S",
                    help="base seed (default: the validation seed, 2026)")
    pa.add_argument("--workers", type=_workers, default=1, metavar="N",
                    help="local processes for the contexts (default 1)")
    pa.add_argument("--pattern", dest="keys", action="append", default=None, metavar="KEY",
                    help="run only this pattern (repeatable)")
    pa.add_argument("--defaults", action="store_true",
                    help="judge at the schema's single default values instead of on the "
                    "calibrated ensemble (the default)")


def cmd_patterns(args: argparse.Namespace) -> int:
    """``collabsim patterns``: the validation patterns, judged."""
    from dataclasses import replace

    from collabsim import validation as v

    for key in args.keys or ():
        if key not in v.PATTERN_BY_KEY:
            raise InputError(f"--pattern {key!r} is not a pattern{suggest(key, v.PATTERN_BY_KEY)};"
                             f" expected one of {', '.join(v.PATTERN_BY_KEY)}")
    design = v.QUICK if args.quick else v.FULL
    if args.seed is not None:
        design = replace(design, seed=args.seed)
    results = v.judge_all(design, workers=args.workers, keys=args.keys,
                          over={"scenario.parameters": "defaults"} if args.defaults else None)
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=2))
        return 0
    for r in results:
        share = "" if r.share_of_contexts is None else f"  in {r.share_of_contexts:.0%} of contexts"
        print(f"{'holds' if r.holds else 'FAILS':5}  {r.key:<20} {r.cls:<20} "
              f"{r.effect:.4g} [{r.interval[0]:.4g}, {r.interval[1]:.4g}] {r.unit}{share}")
    independent = [r for r in results if r.cls == v.INDEPENDENT]
    print(f"independent patterns holding in >= {v.PASS_SHARE:.0%} of contexts: "
          f"{sum(r.holds for r in independent)} of {len(independent)}")
    return 0


# screen / calibrate -------------------------------------------------------------------------
def _keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise argparse.ArgumentTypeError(f"{text!r} names no parameter; expected KEY,KEY,...")
    return keys


def _calibration_parsers(sub: Any) -> None:
    """The `screen` and `calibrate` subcommands (docs/calibration.md)."""
    from collabsim import calibrate as cal
    from collabsim import screen as scr

    sc = sub.add_parser("screen", help="Morris screen of every numeric parameter on the "
                        "validation experiments",
                        description="Morris screen over every numeric schema parameter (±50% "
                        "of its default within its allowed range) on the survey population, "
                        "the generic partnership, POPP and the BCF comparison; ranks the "
                        "parameters by mu* over the output's spread and names the influential "
                        "ones.")
    sc.add_argument("--params", type=_keys, default=None, metavar="KEY,KEY",
                    help="screen only these parameters (default: every numeric one)")
    sc.add_argument("--trajectories", type=_positive, default=4, metavar="R",
                    help="Morris trajectories (default %(default)s)")
    sc.add_argument("--replicates", "-n", type=_positive, default=4, metavar="N",
                    help="replicates of each experiment per point (default %(default)s)")
    sc.add_argument("--survey", type=_positive, default=20, metavar="N",
                    help="partnerships in the survey population per point (default "
                    "%(default)s)")
    sc.add_argument("--seed", type=_seed, default=0, metavar="S", help="seed (default 0)")
    sc.add_argument("--workers", type=_workers, default=1, metavar="N",
                    help="worker processes; the result does not depend on them (default 1)")
    sc.add_argument("--threshold", type=float, default=scr.THRESHOLD, metavar="X",
                    help="normalised mu* from which a parameter is influential (default "
                    "%(default)s)")
    sc.add_argument("--top", type=_positive, default=None, metavar="K",
                    help="show only the K most influential on the terminal")
    sc.add_argument("--json", action="store_true", help="print JSON instead of the table")
    sc.add_argument("--out", type=Path, default=None, metavar="DIR",
                    help="write screen.json, ranking.csv, indices.csv and points.csv here")
    sc.add_argument("--quiet", action="store_true", help="no progress bar")

    ca = sub.add_parser("calibrate", help="ABC-SMC of the influential parameters to the "
                        "published targets",
                        description="Fit the influential parameters to the calibration targets "
                        "(Bostock 2014 survey shares overall and by sector; POPP's saving per "
                        "£1; the NAO's Better Care Fund finding) with ABC-SMC (pyabc). Writes "
                        "DIR/posterior.csv and DIR/provenance.json; DIR/history.db resumes.")
    ca.add_argument("--out", type=Path, required=True, metavar="DIR",
                    help="where the posterior, its provenance and the resumable history go")
    ca.add_argument("--params", type=_keys, default=list(cal.FITTED), metavar="KEY,KEY",
                    help=f"parameters to fit (default: the {len(cal.FITTED)} of "
                    "docs/calibration.md)")
    ca.add_argument("--population", type=_positive, default=cal.Settings.population,
                    metavar="N", help="particles per generation (default %(default)s)")
    ca.add_argument("--generations", type=_positive, default=cal.Settings.generations,
                    metavar="G", help="ABC-SMC generations (default %(default)s)")
    ca.add_argument("--replicates", "-n", type=_positive, default=cal.Settings.replicates,
                    metavar="N", help="replicates of each experiment per particle (default "
                    "%(default)s)")
    ca.add_argument("--survey", type=_positive, default=cal.Settings.survey, metavar="N",
                    help="survey partnerships per particle (default %(default)s)")
    ca.add_argument("--seed", type=_seed, default=0, metavar="S", help="seed (default 0)")
    ca.add_argument("--workers", type=_workers, default=1, metavar="N",
                    help="worker processes; the result does not depend on them (default 1)")
    ca.add_argument("--resume", action="store_true", help="continue the calibration in DIR")
    ca.add_argument("--quiet", action="store_true", help="no progress lines")


def cmd_screen(args: argparse.Namespace) -> int:
    """``collabsim screen``."""
    from collabsim import screen as scr

    if args.out is not None:
        check_writable(args.out)
    if args.threshold <= 0:
        raise InputError(f"--threshold {args.threshold}: expected a number above 0")
    result = scr.morris(args.params, args.trajectories, args.replicates, args.survey, args.seed,
                        args.workers, args.threshold, progress=not (args.quiet or args.json))
    doc = scr.to_json(result)
    if args.json:
        print(json.dumps(_finite(doc)))
    else:
        print(scr.format_screen(result, args.top), end="")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_json(_finite(doc), args.out / "screen.json")
        write_csv(result.ranking, args.out / "ranking.csv")
        write_csv(result.indices, args.out / "indices.csv")
        write_csv(result.points.join(result.results), args.out / "points.csv")
        if not args.json:
            print(f"wrote {visible(str(args.out))}/")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``collabsim calibrate``."""
    from collabsim import calibrate as cal

    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {visible(str(args.out))}: not a folder")
    settings = cal.Settings(tuple(args.params), args.population, args.generations, args.seed,
                            args.survey, args.replicates, args.workers)
    cal.priors(settings.params)  # every key checked before anything runs

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        prov = cal.calibrate(args.out, settings, resume=args.resume,
                             progress=None if args.quiet else report)
    except KeyboardInterrupt:
        print("collabsim: interrupted; the finished generations are kept: continue with "
              "--resume", file=sys.stderr)
        return 130
    table = cal.summary_table(args.out)
    print(f"ABC-SMC: {prov['generations_done']} generations of {args.population} particles, "
          f"seed {args.seed}, {sum(prov['evaluations'])} evaluations, {prov['elapsed_s']} s")
    print("epsilon: " + " > ".join(f"{e:.3g}" for e in prov["epsilon_schedule"]))
    print(f"  {'parameter':<36}{'default':>9}{'median':>9}   90% interval")
    for r in table.itertuples():
        print(f"  {r.parameter:<36}{r.default:>9.3g}{r.median:>9.3g}   "
              f"[{r.p05:.3g}, {r.p95:.3g}]")
    print("fit of the posterior median (statistic, target interval, normalised miss):")
    for f in prov["fit_of_point_estimate"]:
        value = "n/a" if f["value"] is None else f"{f['value']:.3g}"
        lo = "-inf" if f["low"] is None else f"{f['low']:.3g}"
        hi = "inf" if f["high"] is None else f"{f['high']:.3g}"
        print(f"  {f['name']:<36}{value:>9}   [{lo}, {hi}]   {f['miss']:.2f}")
    print(f"wrote {visible(str(args.out / cal.POSTERIOR))} and {cal.PROVENANCE}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
