"""A self-contained HTML report of a comparison, and its data.

The report has no external scripts, stylesheets, fonts or images: charts are PNGs
embedded as data URIs and the styling is inline, so it opens offline, can be mailed
as one file, and prints. Alongside it the data are written as Parquet and CSV.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collabsim.compare import Comparison, differing_parameters, headlines, number, wrong_pocket
from collabsim.metrics import ARCHETYPES
from collabsim.store import atomic_write, sha256, versions, write_json

TRAJECTORIES = (
    ("advantage", "Cumulative collaborative advantage (£m)"),
    ("mean_trust", "Mean trust between members"),
    ("members", "Members"),
    ("contribution", "Contributions per quarter (£m)"),
    ("emergency_bed_days", "Emergency bed-days per quarter"),
    ("delayed_transfer_days", "Delayed transfer days per quarter"),
)

CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:68rem;margin:2rem auto;
padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid #ccc}.sub{color:#555}
table{border-collapse:collapse;margin:.6rem 0;font-size:.86rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#f2f2f2}
td.good{background:#e3f3e3}td.bad{background:#f8e1e1}
img{max-width:100%;height:auto}pre{font-size:.75rem;background:#f7f7f7;padding:.6rem;
overflow-x:auto;white-space:pre-wrap}li{margin:.25rem 0}
@media print{body{max-width:none;margin:0}h2{page-break-after:avoid}
img,table{page-break-inside:avoid}}
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(**kwargs: Any) -> Any:
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def trajectories_chart(cmp: Comparison) -> str:
    """Mean trajectories with the band holding the middle 80% of runs."""
    panels = [(k, t) for k, t in TRAJECTORIES if k in cmp.steps]
    cols = 2
    rows = (len(panels) + 1) // cols
    fig = _figure(figsize=(10, 3.1 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, (key, title) in zip(axes, panels, strict=False):
        for name in cmp.names:
            sub = cmp.steps[cmp.steps["scenario"] == name]
            grp = sub.groupby("step")[key]
            mean, lo, hi = grp.mean(), grp.quantile(0.1), grp.quantile(0.9)
            line = ax.plot(mean.index, mean.to_numpy(), label=name)[0]
            ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), alpha=0.15,
                            color=line.get_color(), linewidth=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("quarter")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8)
    return _png(fig)


def archetype_chart(cmp: Comparison) -> str:
    """Stacked bars of archetype shares per scenario."""
    fig = _figure(figsize=(9, 0.6 * len(cmp.names) + 1.6))
    ax = fig.subplots()
    left = np.zeros(len(cmp.names))
    for arch in ARCHETYPES:
        shares = np.array([cmp.summary[n]["archetypes"][arch] for n in cmp.names])
        if shares.any():
            ax.barh(cmp.names, shares, left=left, label=arch.replace("_", " "))
            left += shares
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of runs")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return _png(fig)


def pocket_chart(table: pd.DataFrame, names: list[str]) -> str:
    """Who pays and who saves: per scenario, paid (down) and saved (up) by sector."""
    fig = _figure(figsize=(10, 3.2 * ((len(names) + 2) // 3)))
    cols = 3
    axes = np.atleast_1d(fig.subplots((len(names) + cols - 1) // cols, cols)).ravel()
    sectors = list(dict.fromkeys(table["sector"]))
    x = np.arange(len(sectors))
    for ax, name in zip(axes, names, strict=False):
        sub = table[table["scenario"] == name].set_index("sector").reindex(sectors).fillna(0)
        ax.bar(x, -sub["paid"], color="#b5534b", label="paid into joint work")
        ax.bar(x, sub["saved"], color="#3f7f4f", label="saved (costs avoided)")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(x, [s.replace("_", " ") for s in sectors], rotation=40, ha="right",
                      fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("£m over the run", fontsize=8)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    return _png(fig)


def _table(df: pd.DataFrame, classes: pd.DataFrame | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for i, row in enumerate(df.itertuples(index=False)):
        cells = []
        for j, value in enumerate(row):
            cls = ""
            if classes is not None and classes.iat[i, j]:
                cls = f' class="{classes.iat[i, j]}"'
            cells.append(f"<td{cls}>{html.escape(_fmt(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "—"
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def summary_table(cmp: Comparison) -> pd.DataFrame:
    """Metric × scenario: mean [95% CI]."""
    rows = []
    for metric in cmp.metrics:
        row = {"metric": metric}
        for name in cmp.names:
            m = cmp.summary[name]["metrics"][metric]
            lo, hi = m["ci95"]
            row[name] = f"{_fmt(m['mean'])} [{_fmt(lo)}, {_fmt(hi)}]"
        rows.append(row)
    return pd.DataFrame(rows)


def difference_table(cmp: Comparison) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metric × option: paired difference [95% CI] (share better), and cell classes."""
    rows, classes = [], []
    for metric in cmp.metrics:
        row, cls = {"metric": metric}, {"metric": ""}
        for name in cmp.names[1:]:
            d = cmp.differences[(cmp.differences["option"] == name)
                                & (cmp.differences["metric"] == metric)].iloc[0]
            share = "" if np.isnan(d["share_better"]) else f" ({d['share_better']:.0%} better)"
            row[name] = (f"{number(d['difference'], sign=True)} [{number(d['ci_low'])}, "
                         f"{number(d['ci_high'])}]{share}")
            good = d["clear"] and not np.isnan(d["share_better"]) and d["share_better"] > 0.5
            bad = d["clear"] and not np.isnan(d["share_better"]) and d["share_better"] < 0.5
            cls[name] = "good" if good else "bad" if bad else ""
        rows.append(row)
        classes.append(cls)
    return pd.DataFrame(rows), pd.DataFrame(classes)


def manifest(cmp: Comparison, argv: list[str] | None = None) -> dict[str, Any]:
    """Provenance of a comparison."""
    from collabsim.store import git_commit

    return {
        "command": "compare",
        "argv": argv or [],
        "scenarios": [{"name": n, "file": s.source, "sha256": sha256(s.to_toml())}
                      for n, s in zip(cmp.names, cmp.scenarios, strict=True)],
        "replicates": cmp.replicates,
        "seed": cmp.seed,
        "seeding": "common random numbers: replicate k of every scenario uses "
                   "numpy SeedSequence(seed, spawn_key=(k,))",
        "versions": versions(),
        "git_commit": git_commit(),
    }


def render(cmp: Comparison, argv: list[str] | None = None) -> str:
    """The report as one HTML string."""
    names = cmp.names
    diff, classes = difference_table(cmp)
    params = differing_parameters(cmp.scenarios)
    pocket = wrong_pocket(cmp)
    steps = cmp.scenarios[0]["scenario.steps"]
    scen_list = "".join(
        f"<li><b>{html.escape(n)}</b> — {html.escape(s['scenario.description'] or '')} "
        f"<span class='sub'>({html.escape(str(s.source or 'built in Python'))})</span></li>"
        for n, s in zip(names, cmp.scenarios, strict=True))
    findings = "".join(f"<li>{html.escape(line)}</li>" for line in headlines(cmp))
    man = json.dumps(manifest(cmp, argv), indent=2)
    services = "emergency_bed_days" in cmp.runs
    pocket_html = (
        f"<img alt='Who pays and who saves' src='{pocket_chart(pocket, names)}'>"
        "<p>Paid: what each sector's organisations put into joint work. Saved: acute "
        "bed-day costs avoided (booked to health) and care-package costs avoided (booked "
        "to adult social care) by the partnership's prevention. Means over replicates.</p>"
        + _table(pocket.assign(balance=pocket["saved"] - pocket["paid"]))
        if services else
        "<p>The scenarios do not run the service-demand submodel "
        "(<code>services.enabled</code>), so no savings are booked.</p>")
    params_html = (_table(params) if len(params) else
                   "<p>The scenarios have identical parameters.</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>collabsim comparison: {html.escape(' v. '.join(names))}</title>
<style>{CSS}</style></head><body>
<h1>Comparing partnership options</h1>
<p class="sub">{html.escape(', '.join(names))} · {cmp.replicates} replicates each ·
seed {cmp.seed} · {steps} quarters · collabsim {html.escape(versions()['collabsim'])}</p>

<h2>What was compared, and how</h2>
<ul>{scen_list}</ul>
<p>Each scenario was run {cmp.replicates} times. Replicate <i>k</i> of every scenario
used the same random numbers (common random numbers), so differences are paired: they
show the effect of the option, not of luck. Intervals are 95% confidence intervals of
the mean over replicates; shaded bands in the charts hold the middle 80% of runs, the
range one place might plausibly see. The first scenario, <b>{html.escape(names[0])}</b>,
is the reference.</p>

<h2>Headline findings</h2>
<ul>{findings}</ul>
<p class="sub">A difference counts as clear when its 95% interval excludes zero.
The model is a thinking tool calibrated to published patterns, not a forecast of a
particular place.</p>

<h2>Trajectories</h2>
<img alt="Trajectories with uncertainty bands" src="{trajectories_chart(cmp)}">

<h2>Every metric</h2>
{_table(summary_table(cmp))}

<h2>Differences from {html.escape(names[0])}</h2>
<p>Paired difference (option − reference), its 95% interval, and the share of paired
replicates in which the option did better. Green: clearly better; red: clearly worse.</p>
{_table(diff, classes) if len(names) > 1 else '<p>Only one scenario was run.</p>'}

<h2>Outcome archetypes</h2>
<img alt="Archetype shares" src="{archetype_chart(cmp)}">
{_table(pd.DataFrame([{"scenario": n, **{a: cmp.summary[n]['archetypes'][a]
                                            for a in ARCHETYPES}} for n in names]))}

<h2>Who pays, who saves</h2>
{pocket_html}

<h2>Parameters that differ</h2>
{params_html}

<h2>Manifest</h2>
<pre>{html.escape(man)}</pre>
</body></html>
"""


def write_report(cmp: Comparison, out: Path, argv: list[str] | None = None) -> Path:
    """Write ``report.html``, the data (Parquet and CSV) and ``manifest.json`` to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    from collabsim.experiment.tables import write_run_tables

    write_run_tables(out, {"runs": cmp.runs, "steps": cmp.steps, "members": cmp.members},
                     "compare", cmp.seed)
    for name, df in (("runs", cmp.runs), ("differences", cmp.differences),
                     ("wrong_pocket", wrong_pocket(cmp)), ("summary", summary_table(cmp))):
        atomic_write(out / f"{name}.csv", lambda tmp, df=df: df.to_csv(tmp, index=False))
    write_json(manifest(cmp, argv), out / "manifest.json")
    text = render(cmp, argv)
    path = out / "report.html"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
