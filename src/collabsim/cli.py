"""The ``collabsim`` command line.

Exit status 0 on success, 2 on bad input (with a one-line message and no
traceback). Every input is validated before anything is written.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from collabsim.errors import InputError
from collabsim.metrics import ARCHETYPES
from collabsim.runner import aggregate, run_replicates_full
from collabsim.scenario import Scenario, load_scenario
from collabsim.schema import ORGANISATION_FIELDS, PARAMS, SHOCK_FIELDS, Param
from collabsim.store import git_commit, sha256, versions, write_json, write_parquet

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def bundled_dir() -> Path:
    """The bundled scenarios: ./scenarios if present, else the source checkout's."""
    here = Path("scenarios")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "scenarios"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
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


def _replicate_options(p: argparse.ArgumentParser, what: str, replicates: int, out: str) -> None:
    """Options shared by `run` and `compare`."""
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help=what)
    p.add_argument("--set", dest="overrides", action="append", default=[], type=_assignment,
                   metavar="KEY=VALUE",
                   help="override a parameter in every scenario (repeatable); see `describe`")
    p.add_argument("--replicates", "-n", type=_positive, default=replicates, metavar="N",
                   help=f"replicates per scenario (default {replicates})")
    p.add_argument("--seed", type=_seed, default=0, metavar="S", help="base seed (default 0)")
    p.add_argument("--steps", type=_positive, default=None, metavar="T",
                   help="steps per run (default: scenario.steps)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help=out)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to generate docs)."""
    parser = _Parser(prog="collabsim", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {versions()['collabsim']}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run scenarios and summarise their replicates",
                       description="Run each SCENARIO for N replicates and print each metric's "
                       "mean with a 95%% confidence interval, and the share of each archetype.")
    _replicate_options(r, "scenario .toml files", 20,
                       "write per-step and per-run tables (Parquet) and a manifest here")
    r.add_argument("--agents", action="store_true", help="with --out, also write the agent table")
    r.add_argument("--json", action="store_true",
                   help="print one JSON object per scenario instead of a table")

    c = sub.add_parser("compare", help="compare scenarios with common random numbers",
                       description="Run every SCENARIO N times (replicate k of each uses the "
                       "same seed) and report each metric, paired differences from the first "
                       "scenario, and archetype shares; --out writes an HTML report.")
    _replicate_options(c, "scenario .toml files; the first is the reference", 50,
                       "write report.html, the data (Parquet, CSV) and a manifest here")

    ap = sub.add_parser("app", help="the teaching dashboard in the browser (Mesa SolaraViz)")
    ap.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO",
                    help="scenario to start with (default: the solid_partnership preset)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8765, help="port (default 8765)")

    ls = sub.add_parser("list", help="list the bundled scenarios")
    ls.add_argument("folder", nargs="?", type=Path, default=None,
                    help="folder to list (default: the bundled scenarios)")

    v = sub.add_parser("validate", help="check scenario files")
    v.add_argument("files", nargs="+", metavar="FILE")

    sw = sub.add_parser("sweep", help="run a parameter sweep into a results folder",
                        description="Run the design of SWEEP.toml, streaming results to DIR.")
    sw.add_argument("sweep_file", metavar="SWEEP.toml")
    sw.add_argument("--out", type=Path, required=True, metavar="DIR")
    sw.add_argument("--workers", type=_positive, default=1, metavar="N",
                    help="worker processes (default 1: run in this process)")
    sw.add_argument("--scheduler", default=None, metavar="ADDRESS|local",
                    help="run on Dask: 'local' starts a LocalCluster of N workers; an address "
                    "such as tcp://host:8786 uses a running scheduler")
    sw.add_argument("--resume", action="store_true", help="finish an interrupted sweep in DIR")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")

    an = sub.add_parser("analyze", help="Sobol or Morris sensitivity indices of a sweep")
    an.add_argument("folder", type=Path, metavar="DIR")
    an.add_argument("--method", choices=("sobol", "morris"), required=True)
    an.add_argument("--metric", action="append", default=[], metavar="M",
                    help="output to analyse (repeatable; default: collaborative_advantage or "
                    "the first output)")

    pl = sub.add_parser("plot", help="plot a metric against one or two swept parameters")
    pl.add_argument("folder", type=Path, metavar="DIR")
    pl.add_argument("--x", required=True, metavar="PARAM")
    pl.add_argument("--y", default=None, metavar="PARAM", help="second parameter: a heatmap")
    pl.add_argument("--metric", required=True, metavar="M")
    pl.add_argument("--png", type=Path, default=None, metavar="FILE",
                    help="where to write the figure (default: DIR/plots/...)")

    d = sub.add_parser("describe", help="every parameter with its default, range and meaning")
    d.add_argument("--markdown", action="store_true", help="print the scenario reference")
    d.add_argument("--advanced", action="store_true",
                   help="also list the advanced behavioural constants")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``collabsim`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return {"run": cmd_run, "list": cmd_list, "validate": cmd_validate,
                "describe": cmd_describe, "sweep": cmd_sweep, "analyze": cmd_analyze,
                "plot": cmd_plot, "compare": cmd_compare, "app": cmd_app}[args.command](args)
    except InputError as exc:
        print(f"collabsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `collabsim describe | head`
        return 0


# run --------------------------------------------------------------------------------------
def _load_all(paths: Sequence[str], overrides: Sequence[tuple[str, str]],
              steps: int | None) -> list[Scenario]:
    scenarios = []
    for path in paths:
        s = load_scenario(path)
        changes: dict[str, Any] = dict(overrides)
        if steps is not None:
            changes["scenario.steps"] = steps
        scenarios.append(s.with_overrides(changes) if changes else s)
    return scenarios


def cmd_run(args: argparse.Namespace) -> int:
    """``collabsim run``."""
    scenarios = _load_all(args.scenarios, args.overrides, args.steps)  # validate everything first
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {args.out}: exists and is not a folder")
    folders = _output_folders(args.out, scenarios)
    for path, s, folder in zip(args.scenarios, scenarios, folders, strict=True):
        started = time.perf_counter()
        runs, steps, agents = run_replicates_full(
            s, args.replicates, args.seed, agents=args.agents and args.out is not None
        )
        elapsed = time.perf_counter() - started
        summary = aggregate(runs)
        if args.json:
            doc = {"scenario": s.name, "replicates": args.replicates, "seed": args.seed, **summary}
            print(json.dumps(_finite(doc), sort_keys=False))
        else:
            print(format_table(s, args.replicates, args.seed, summary))
        if folder is not None:
            _write_outputs(folder, path, s, args, runs, steps, agents, summary, elapsed)
            if not args.json:
                print(f"wrote {folder}/")
    return 0


def _output_folders(out: Path | None, scenarios: list[Scenario]) -> list[Path | None]:
    """One scenario writes into OUT; several write into OUT/<scenario name>."""
    if out is None:
        return [None] * len(scenarios)
    if len(scenarios) == 1:
        return [out]
    names = [s.name for s in scenarios]
    return [out / (name if names.count(name) == 1 else f"{name}_{i + 1}")
            for i, name in enumerate(names)]


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
    write_parquet(runs, folder / "runs.parquet")
    write_parquet(steps, folder / "steps.parquet")
    if agents is not None:
        write_parquet(agents, folder / "agents.parquet")
    toml = s.to_toml()
    manifest = {
        "command": "run",
        "argv": sys.argv[1:],
        "scenario_file": str(path),
        "scenario_file_sha256": sha256(Path(path).read_bytes()),
        "scenario_sha256": sha256(toml),
        "scenario": s.to_dict(),
        "replicates": args.replicates,
        "seed": args.seed,
        "seeding": "numpy SeedSequence(seed, spawn_key=(replicate,))",
        "steps": s["scenario.steps"],
        "elapsed_s": round(elapsed, 3),
        "versions": versions(),
        "git_commit": git_commit(),
        "files": sorted(p.name for p in folder.glob("*.parquet")),
        "summary": _finite(summary),
    }
    write_json(manifest, folder / "manifest.json")


def format_table(s: Scenario, n: int, seed: int, summary: dict[str, Any]) -> str:
    """A readable table of metric means, 95% CIs and archetype shares."""
    lines = [f"{s.name}: {n} replicates, seed {seed}, {s['scenario.steps']} steps",
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
    """``collabsim app``: validate the scenario, then serve the dashboard with Solara."""
    import importlib.util
    import os
    import subprocess

    if importlib.util.find_spec("solara") is None or importlib.util.find_spec("altair") is None:
        raise InputError("the dashboard needs the app extra: pip install 'collabsim[app]'")
    env = dict(os.environ)
    if args.scenario is not None:
        load_scenario(args.scenario)  # bad input: exit 2 before any server starts
        env["COLLABSIM_APP_SCENARIO"] = str(Path(args.scenario).resolve())
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: expected a port number in [1, 65535]")
    cmd = [sys.executable, "-m", "solara", "run", "collabsim.app:Page", "--host", args.host,
           "--port", str(args.port), "--production", "--no-open", "--no-check-version"]
    print(f"collabsim dashboard on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


# compare ------------------------------------------------------------------------------------
def cmd_compare(args: argparse.Namespace) -> int:
    """``collabsim compare``."""
    from collabsim.compare import compare
    from collabsim.report import write_report

    scenarios = _load_all(args.scenarios, args.overrides, args.steps)
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {args.out}: exists and is not a folder")
    cmp = compare(scenarios, args.replicates, args.seed)
    print(format_comparison(cmp))
    if args.out is not None:
        path = write_report(cmp, args.out, sys.argv[1:])
        print(f"report: {path}")
    return 0


def format_comparison(cmp: Any) -> str:
    """Terminal tables: metrics per scenario, paired differences, archetype shares."""
    from collabsim.compare import headlines
    from collabsim.compare import number as _num

    names = cmp.names
    out = [f"{len(names)} scenarios x {cmp.replicates} replicates, seed {cmp.seed} "
           "(common random numbers; mean [95% CI])", ""]
    rows = []
    for metric in cmp.metrics:
        cells = []
        for n in names:
            m = cmp.summary[n]["metrics"][metric]
            lo, hi = m["ci95"]
            cells.append(f"{_num(m['mean'])} [{_num(lo)}, {_num(hi)}]")
        rows.append([metric, *cells])
    out += _columns(["metric", *names], rows)
    if len(names) > 1:
        out += ["", f"difference from {names[0]} (paired mean [95% CI], share of replicates "
                "in which the option is better)", ""]
        rows = []
        for metric in cmp.metrics:
            cells = []
            for n in names[1:]:
                d = cmp.differences[(cmp.differences["option"] == n)
                                    & (cmp.differences["metric"] == metric)].iloc[0]
                share = "-" if math.isnan(d["share_better"]) else f"{d['share_better']:.0%}"
                cells.append(f"{_num(d['difference'], sign=True)} [{_num(d['ci_low'])}, "
                             f"{_num(d['ci_high'])}] {share}")
            rows.append([metric, *cells])
        out += _columns(["metric", *names[1:]], rows)
    out.append("")
    rows = [[arch, *(f"{cmp.summary[n]['archetypes'][arch]:.0%}" for n in names)]
            for arch in ARCHETYPES if any(cmp.summary[n]["archetypes"][arch] for n in names)]
    out += _columns(["archetype share", *names], rows)
    out.append("")
    out.extend(f"- {line}" for line in headlines(cmp))
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
    from collabsim.experiment import sweep

    report = sweep(args.sweep_file, args.out, workers=args.workers, scheduler=args.scheduler,
                   resume=args.resume, progress=False if args.quiet else None)
    rate = report.ran / report.elapsed_s if report.elapsed_s > 0 else 0.0
    print(f"{report.out}: {report.total} runs ({report.skipped} already done, {report.ran} run "
          f"now, {report.failed} failed) in {report.elapsed_s:.1f} s ({rate:.1f} runs/s)")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """``collabsim analyze``."""
    from collabsim.experiment import load_results, plot_sensitivity, sensitivity

    results = load_results(args.folder)
    metrics = args.metric or [
        "collaborative_advantage" if "collaborative_advantage" in results.outputs
        else results.outputs[0]
    ]
    table = sensitivity(results, args.method, metrics)
    folder = args.folder / "analysis"
    folder.mkdir(exist_ok=True)
    csv = folder / f"{args.method}_indices.csv"
    table.to_csv(csv, index=False)
    png = plot_sensitivity(table, folder / f"{args.method}_indices.png")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {csv} and {png}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``collabsim plot``."""
    from collabsim.experiment import load_results, plot_factor, plot_heatmap

    results = load_results(args.folder)
    if args.metric not in results.outputs:
        raise InputError(f"--metric {args.metric}: not an output of this sweep; expected one of "
                         f"{', '.join(results.outputs)}")
    name = f"{args.metric}_by_{args.x}" + (f"_and_{args.y}" if args.y else "")
    png = args.png or args.folder / "plots" / f"{name}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    if args.y:
        plot_heatmap(results, args.x, args.y, args.metric, png)
    else:
        plot_factor(results, args.x, args.metric, png)
    print(f"wrote {png}")
    return 0


# list / validate / describe -------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    """``collabsim list``."""
    folder = args.folder or bundled_dir()
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    files = sorted(folder.rglob("*.toml"))
    width = max((len(str(f.relative_to(folder))) for f in files), default=0)
    for f in files:
        try:
            desc = load_scenario(f)["scenario.description"] or "(no description)"
        except InputError as exc:
            desc = f"INVALID: {exc}"
        print(f"{f.relative_to(folder)!s:<{width}}  {desc}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``collabsim validate``: check every file, report each, exit 2 if any is bad."""
    bad = 0
    for path in args.files:
        try:
            s = load_scenario(path)
        except InputError as exc:
            print(f"collabsim: error: {exc}", file=sys.stderr)
            bad += 1
        else:
            print(f"ok: {path} ({s.name}, {s.n_members} members)")
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
    """``collabsim describe``."""
    print(reference_markdown() if args.markdown else describe_text(args.advanced), end="")
    return 0


def describe_text(advanced: bool = False) -> str:
    """Every parameter, one block each, for the terminal (advanced ones when asked)."""
    lines = []
    section = None
    hidden = 0
    for p in PARAMS:
        if p.advanced and not advanced:
            hidden += 1
            continue
        if p.section != section:
            section = p.section
            lines.append(f"[{section}]")
        lines.append(f"  {p.key} = {_default_text(p)}    ({p.allowed()})")
        lines.append(f"      {p.help}")
    for table, fields in (("[[organisation]]", ORGANISATION_FIELDS),
                          ("[[environment.shocks]]", SHOCK_FIELDS)):
        lines.append(table)
        for f in fields:
            req = "required" if f.required else f"default {f.default!r}"
            lines.append(f"  {f.name}: {f.help} ({req})")
    if hidden:
        lines.append(f"({hidden} advanced behavioural constants not shown; "
                     "`collabsim describe --advanced` lists them)")
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
        "left out. Unknown keys are rejected. Any key can be overridden on the command line "
        "with `--set KEY=VALUE`. Keys marked *advanced* are behavioural constants most "
        "users leave alone; docs/ODD.md gives the source of each.",
    ]
    section = None
    for p in PARAMS:
        if p.section != section:
            section = p.section
            out += ["", f"## `[{section}]`", "", "| key | default | allowed | meaning |",
                    "|---|---|---|---|"]
        flag = " *(advanced)*" if p.advanced else ""
        out.append(f"| `{p.key}`{flag} | `{_default_text(p)}` | {p.allowed()} | {p.help} |")
    for title, fields in (("[[organisation]]", ORGANISATION_FIELDS),
                          ("[[environment.shocks]]", SHOCK_FIELDS)):
        out += ["", f"## `{title}`", "", "| field | default | allowed | meaning |",
                "|---|---|---|---|"]
        for f in fields:
            default = "required" if f.required else (
                "sector's typical goals" if f.kind == "goals" else f"`{f.default!r}`")
            allowed = ("a table of four numbers in [0, 1]" if f.kind == "goals"
                       else f.as_param("x").allowed())
            out.append(f"| `{f.name}` | {default} | {allowed} | {f.help} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
