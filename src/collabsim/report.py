"""A self-contained HTML report of a comparison, and its data.

The report opens with a one-screen verdict: a scorecard of the options against the
reference on the outcomes a partnership board asks about, each cell a word, a colour,
an amount and a reason. Everything else follows below it.

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

from collabsim import ensemble
from collabsim.compare import (
    BOARD,
    VERDICTS,
    Comparison,
    changed_keys,
    declared_changes,
    differing_parameters,
    findings,
    scorecard,
    undeclared_changes,
    wrong_pocket,
)
from collabsim.errors import visible
from collabsim.metrics import ARCHETYPES, REGISTRY
from collabsim.store import replace_folder, sha256, versions, write_csv, write_json

TRAJECTORIES = (
    ("advantage", "Cumulative collaborative advantage (£m)"),
    ("mean_trust", "Mean trust between members"),
    ("members", "Members"),
    ("contribution", "Contributions per quarter (£m)"),
    ("emergency_bed_days", "Emergency bed-days per quarter"),
    ("delayed_transfer_days", "Delayed transfer days per quarter"),
)

CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:78rem;margin:.6rem auto;
padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.45rem;margin:0}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid #ccc}.sub{color:#555}p.sub{margin:.15rem 0 .5rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.86rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#f2f2f2}
table.card{font-family:Arial,Helvetica,sans-serif;font-size:.76rem;line-height:1.25;
width:100%;table-layout:fixed;margin:.3rem 0}
table.card td,table.card th{text-align:left;padding:.18rem .35rem}
table.card th{font-size:.78rem}table.card th:first-child{width:12.5rem}
.word{font-weight:bold}.why{color:#444;font-size:.68rem;display:block}
.better{background:#d6efd6}.worse{background:#f6d3d3}.unclear,.same{background:#f2f2f2}
.by-design{background:#fff;color:#555}.shifts{background:#e3ebf6}.not-scored{background:#fff}
.note{font-family:Arial,Helvetica,sans-serif;font-size:.72rem;color:#444;margin:.2rem 0}
table.text td,table.text th{text-align:left}.cols{display:flex;gap:1.5rem}.cols>div{flex:1}
img{max-width:100%;height:auto}pre{font-size:.75rem;background:#f7f7f7;padding:.6rem;
overflow-x:auto;white-space:pre-wrap}li{margin:.15rem 0}
@media print{body{max-width:none;margin:0}h2{page-break-after:avoid}
img,table{page-break-inside:avoid}}
"""

#: The scorecard's column headings: a board outcome, its unit and which way is better.
COLUMN_NOTES = {"who_pays": ("Who pays, who saves",
                             "change in cash balance (saved − paid), £m; not scored")}

def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _label(name: str) -> str:
    """A user's name as matplotlib text: control characters shown, ``$`` never mathtext."""
    return visible(name).replace("$", r"\$")


def _figure(**kwargs: Any) -> Any:
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def plain_ticks(axis: Any) -> None:
    """Fixed-point tick labels with thousands separators (never scientific notation)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{v:,.2f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"))


def _better_word(direction: int) -> str:
    return {1: "higher is better", -1: "lower is better"}.get(direction, "not scored")


VERDICT_COLOURS = {"better": "#2e7d32", "worse": "#c62828"}


def forest_chart(cmp: Comparison) -> str:
    """Paired differences from the reference with 95% intervals, one panel per outcome."""
    metrics = [m for m in BOARD if m in cmp.metrics]
    options = cmp.names[1:]
    fig = _figure(figsize=(11, 0.32 * len(options) + 1.3))
    axes = np.atleast_1d(fig.subplots(1, len(metrics), sharey=True))
    y = np.arange(len(options))
    d = cmp.differences.set_index(["option", "metric"])
    for ax, metric in zip(axes, metrics, strict=True):
        spec = REGISTRY[metric]
        rows = d.loc[[(o, metric) for o in options]]
        mean = rows["difference"].to_numpy()
        err = np.vstack([mean - rows["mc_ci_low"].to_numpy(),
                         rows["mc_ci_high"].to_numpy() - mean])
        colours = [VERDICT_COLOURS.get(v, "#777777") for v in rows["verdict"]]
        ax.axvline(0, color="black", linewidth=0.7)
        ax.errorbar(mean, y, xerr=err, fmt="none", ecolor=colours, elinewidth=1.4)
        filled = [v in VERDICT_COLOURS for v in rows["verdict"]]
        ax.scatter(mean, y, c=["white" if not f else c for f, c in zip(filled, colours,
                                                                          strict=True)],
                   edgecolors=colours, s=28, zorder=3)
        ax.set_title(f"{spec.label}\n({spec.unit}; {_better_word(spec.direction)})",
                     fontsize=8.5)
        ax.tick_params(labelsize=7.5)
        plain_ticks(ax.xaxis)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, [_label(o) for o in options])
    axes[0].invert_yaxis()
    fig.supxlabel(f"difference from {_label(cmp.names[0])} (option − reference), "
                  "with its 95% interval", fontsize=8.5)
    return _png(fig)


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
            line = ax.plot(mean.index, mean.to_numpy(), label=_label(name))[0]
            ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), alpha=0.15,
                            color=line.get_color(), linewidth=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("quarter")
        plain_ticks(ax.yaxis)
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
            ax.barh([_label(n) for n in cmp.names], shares, left=left,
                    label=arch.replace("_", " "))
            left += shares
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of runs")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return _png(fig)


def pocket_chart(table: pd.DataFrame, names: list[str]) -> str:
    """:func:`pocket_figure` as an embedded PNG."""
    return _png(pocket_figure(table, names))


def pocket_figure(table: pd.DataFrame, names: list[str]) -> Any:
    """Who pays and who saves: per scenario, paid (down) and saved (up) by sector.

    Every panel shares one y-scale, so bars of the same height are the same amount.
    """
    cols = 3
    rows = (len(names) + cols - 1) // cols
    fig = _figure(figsize=(10, 3.2 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
    sectors = list(dict.fromkeys(table["sector"]))
    x = np.arange(len(sectors))
    for ax, name in zip(axes, names, strict=False):
        sub = table[table["scenario"] == name].set_index("sector").reindex(sectors).fillna(0)
        ax.bar(x, -sub["paid"], color="#b5534b", label="paid into joint work")
        ax.bar(x, sub["saved"], color="#3f7f4f", label="saved (costs avoided)")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(x, [s.replace("_", " ") for s in sectors], rotation=40, ha="right",
                      fontsize=7)
        ax.set_title(_label(name), fontsize=9)
        ax.set_ylabel("£m over the run", fontsize=8)
        ax.yaxis.set_tick_params(labelleft=True)
        plain_ticks(ax.yaxis)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    return fig


def _table(df: pd.DataFrame, classes: pd.DataFrame | None = None, text: bool = False) -> str:
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
    kind = " class='text'" if text else ""
    return f"<table{kind}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "—"
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def summary_table(cmp: Comparison) -> pd.DataFrame:
    """Metric × scenario: mean [95% CI], with each metric's unit."""
    rows = []
    for metric in cmp.metrics:
        spec = REGISTRY[metric]
        row = {"metric": spec.label, "unit": spec.unit}
        for name in cmp.names:
            m = cmp.summary[name]["metrics"][metric]
            lo, hi = m["ci95"]
            row[name] = f"{spec.format(m['mean'])} [{spec.format(lo)}, {spec.format(hi)}]"
        rows.append(row)
    return pd.DataFrame(rows)


def difference_table(cmp: Comparison) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metric × option: paired difference [95% CI] and verdict, and cell classes."""
    rows, classes = [], []
    d = cmp.differences.set_index(["option", "metric"])
    for metric in cmp.metrics:
        spec = REGISTRY[metric]
        row = {"metric": spec.label, "unit": spec.unit, "better when": _better_word(
            spec.direction).removesuffix(" is better")}
        cls = dict.fromkeys(row, "")
        for name in cmp.names[1:]:
            r = d.loc[(name, metric)]
            low, high = spec.format(r["mc_ci_low"], True), spec.format(r["mc_ci_high"], True)
            row[name] = f"{spec.format(r['difference'], True)} [{low}, {high}] {r['verdict']}"
            cls[name] = _css(r["verdict"])
        rows.append(row)
        classes.append(cls)
    return pd.DataFrame(rows), pd.DataFrame(classes)


def changes_text(reference: Any, option: Any) -> str:
    """What an option changes against the reference, flagging what its file leaves out."""
    changed = changed_keys(reference, option)
    if not changed:
        return "changes nothing"
    text = "changes: " + ", ".join(changed)
    silent = list(dict.fromkeys(k.split("[")[0] for k in undeclared_changes(reference, option)))
    return text + (f" (not declared: {', '.join(silent)})"
                   if silent and declared_changes(option) else "")


def _changes_note(s: Any) -> str:
    changes = declared_changes(s)
    return f" (changes: {', '.join(changes)})" if changes else ""


def _css(verdict: str) -> str:
    return verdict.replace(" ", "-")


def scorecard_html(cmp: Comparison) -> str:
    """The verdict: options × board outcomes, each cell a word, an amount and a reason."""
    card = scorecard(cmp)
    outcomes = list(dict.fromkeys(card["outcome"]))
    head = ["<th>Option</th>"]
    for o in outcomes:
        if o in REGISTRY:
            spec = REGISTRY[o]
            title, note = spec.label, f"{spec.unit}; {_better_word(spec.direction)}"
        else:
            title, note = COLUMN_NOTES[o]
        head.append(f"<th>{html.escape(title)}<span class='why'>{html.escape(note)}</span></th>")
    body = []
    reference = cmp.scenario(cmp.names[0])
    for name in cmp.names[1:]:
        cells = [f"<td><b>{html.escape(name)}</b><span class='why'>"
                 f"{html.escape(changes_text(reference, cmp.scenario(name)))}</span></td>"]
        for o in outcomes:
            c = card[(card["option"] == name) & (card["outcome"] == o)].iloc[0]
            cells.append(f"<td class='{_css(c['verdict'])}'><span class='word'>"
                         f"{html.escape(c['verdict'].capitalize())}</span> "
                         f"{html.escape(c['text'])}<span class='why'>"
                         f"{html.escape(c['reason'])}</span></td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table class='card' id='scorecard'><thead><tr>{''.join(head)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def money_table(cmp: Comparison) -> pd.DataFrame:
    """Per scenario: joint output beside the cash flows (£m over the run)."""
    pocket = wrong_pocket(cmp).groupby("scenario", sort=False)[["paid", "saved"]].sum()
    money = REGISTRY["total_contribution"]
    rows = []
    for name in cmp.names:
        adv = cmp.summary[name]["metrics"]["collaborative_advantage"]["mean"]
        paid, saved = pocket.loc[name, "paid"], pocket.loc[name, "saved"]
        rows.append({"scenario": name, "joint output beyond working alone": money.amount(adv),
                     "paid into joint work": money.amount(paid),
                     "costs avoided (saved)": money.amount(saved),
                     "cash balance (saved − paid)": money.amount(saved - paid, True)})
    return pd.DataFrame(rows)


def balance_table(pocket: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Sector × scenario: mean cash balance (saved − paid), £m, fixed point."""
    money = REGISTRY["total_contribution"]
    wide = pocket.pivot(index="sector", columns="scenario", values="balance")[names]
    wide.index = [s.replace("_", " ") for s in wide.index]
    return wide.map(lambda v: money.amount(v, True)).rename_axis("sector").reset_index()


def prevention_table(cmp: Comparison) -> pd.DataFrame:
    """Per scenario: the saving per £ beside the two amounts it is the ratio of."""
    metrics = ("prevention_spend", "acute_cost_avoided", "acute_saving_per_pound")
    return pd.DataFrame([
        {"scenario": n, **{f"{REGISTRY[m].label} ({REGISTRY[m].unit})": REGISTRY[m].format(
            cmp.summary[n]["metrics"][m]["mean"]) for m in metrics}} for n in cmp.names])


def glossary() -> pd.DataFrame:
    """Every metric: plain name, meaning, unit, which way is better, natural range."""
    def rng(b: tuple[float, float]) -> str:
        return "any" if not np.isfinite(b[0]) else (
            f"{b[0]:g} or more" if not np.isfinite(b[1]) else f"{b[0]:g} to {b[1]:g}")

    return pd.DataFrame([{"metric": m.label, "name in data": m.name, "meaning": m.meaning,
                          "unit": m.unit, "better when": _better_word(m.direction),
                          "range": rng(m.bounds)} for m in REGISTRY.values()])


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
        "parameters": {
            **({"design": "plausible worlds: ensemble members drawn by systematic "
                          "resampling with probability their posterior weights; "
                          "replicate k runs in world k // per_world in every option",
                "worlds": len(cmp.worlds), "per_world": cmp.per_world,
                "members": [int(m) for m in cmp.worlds["member"]]}
               if cmp.worlds is not None else {"design": "one parameter set per scenario"}),
            "options": {n: ensemble.record(s)
                        for n, s in zip(cmp.names, cmp.scenarios, strict=True)}},
        "versions": versions(),
        "git_commit": git_commit(),
    }


def uncertainty_html(cmp: Comparison) -> str:
    """Two kinds of uncertainty per headline: chance (Monte Carlo) and plausible worlds."""
    from collabsim.compare import interval_text
    from collabsim.drivers import headlines, spread_text

    ref = html.escape(cmp.names[0])
    if not cmp.over_ensemble:
        mode = html.escape(str(cmp.scenarios[0]["scenario.parameters"]))
        return ("<h2>Two kinds of uncertainty</h2><p>These runs used one parameter set "
                f"(<code>scenario.parameters</code> = {mode}), "
                "so the intervals above reflect chance only. Run <code>collabsim compare "
                "--ensemble</code> to see how far the verdicts hold across the calibrated "
                "ensemble's plausible parameter sets.</p>")
    n = len(cmp.worlds) if cmp.worlds is not None else 0
    items = []
    for name in cmp.names[1:]:
        rows = headlines(cmp)
        rows = rows[rows["option"] == name]
        if rows.empty:
            continue
        lis = "".join(
            f"<li>{html.escape(spread_text(r))}; Monte Carlo 95% interval of the mean "
            f"{html.escape(interval_text(REGISTRY[r.metric], r.mc_ci_low, r.mc_ci_high))}</li>"
            for r in rows.itertuples())
        items.append(f"<li><b>{html.escape(name)}</b><ul>{lis}</ul></li>")
    return f"""<h2 id="uncertainty">Two kinds of uncertainty</h2>
<p>Each option ran in {n} <i>plausible worlds</i>: parameter sets drawn from the calibrated
ensemble with probability their posterior weights (so a heavily weighted set can be drawn
more than once: {cmp.worlds["member"].nunique() if cmp.worlds is not None else 0} distinct
sets here), {cmp.per_world} replicates in each, with the same worlds and the same
random numbers in every option. For each headline difference from {ref}:</p>
<ul><li><b>Monte Carlo interval</b>: how precisely these runs pin down the mean difference
given the worlds; it narrows as replicates are added.</li>
<li><b>Spread over plausible worlds</b>: the share of worlds in which the option's mean
difference is better or worse, the median world and the middle 90% of worlds. It reflects
what the calibration leaves unknown about the model's parameters, and does not narrow with
more replicates. Each world's mean still carries some chance error (its standard error is
<code>world_se</code> in <code>differences.csv</code>).</li></ul>
<ul>{''.join(items) or '<li>No headline differences.</li>'}</ul>"""


def drivers_html(cmp: Comparison) -> str:
    """What decides each verdict: rank correlations and the PRIM box where it flips."""
    from collabsim.drivers import (
        BOX_PARAMETERS,
        chance_level,
        distinct_sets,
        flips,
        sensitivity,
    )

    if not cmp.over_ensemble:
        return ""
    sens, flip = sensitivity(cmp), flips(cmp)
    n = len(cmp.worlds) if cmp.worlds is not None else 0
    items = []
    for r in flip.itertuples():
        spec = REGISTRY[r.metric]
        top = sens[(sens["option"] == r.option) & (sens["metric"] == r.metric)
                   & sens["beyond_chance"]].head(3)
        corr = ("; ".join(f"{p} (ρ = {rho:+.2f})" for p, rho in
                          zip(top["parameter"], top["rho"], strict=True))
                or "no parameter beyond chance")
        items.append(f"<li><b>{html.escape(r.option)}</b>, {html.escape(spec.label.lower())}: "
                     f"{html.escape(r.text)}. Strongest rank correlations with the per-world "
                     f"difference: {html.escape(corr)}.</li>")
    return f"""<h2 id="drivers">What decides the verdict</h2>
<p>For each headline difference: in how many of the {n} plausible worlds it lies on the
other side of zero from the headline, where in the ensemble's parameters those worlds
gather (a PRIM box, sought over the {BOX_PARAMETERS} most correlated parameters; coverage:
the share of those worlds in the box; density: the share of the box's worlds that are
such worlds), and the parameters most associated with the difference (Spearman rank
correlation across the {n} worlds, which drew {distinct_sets(cmp)} distinct parameter sets;
with this many sets a correlation below {chance_level(distinct_sets(cmp)):.2f} in size is
within chance and is not listed). With a few dozen
worlds these are leads to examine, not findings: the tables are in
<code>sensitivity.csv</code> and <code>flips.csv</code>.</p>
<ul>{''.join(items) or '<li>No headline differences.</li>'}</ul>"""


def render(cmp: Comparison, argv: list[str] | None = None) -> str:
    """The report as one HTML string: the verdict first, everything else below."""
    names = cmp.names
    ref = html.escape(names[0])
    diff, classes = difference_table(cmp)
    params = differing_parameters(cmp.scenarios)
    pocket = wrong_pocket(cmp)
    steps = cmp.scenarios[0]["scenario.steps"]
    scen_list = "".join(
        f"<li><b>{html.escape(n)}</b> — {html.escape(s['scenario.description'] or '')}"
        f"{html.escape(_changes_note(s))} "
        f"<span class='sub'>({html.escape(str(s.source or 'built in Python'))})</span></li>"
        for n, s in zip(names, cmp.scenarios, strict=True))
    plain = "".join(
        f"<li><b>{html.escape(name)}</b><ul>" + "".join(
            f"<li><i>{html.escape(head)}:</i> " + (
                html.escape(items[0]) if len(items) == 1 else
                "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
            + "</li>" for head, items in groups) + "</ul></li>"
        for name, groups in findings(cmp).items())
    man = json.dumps(manifest(cmp, argv), indent=2)
    services = "emergency_bed_days" in cmp.runs
    verdict_words = "".join(f"<li><b>{html.escape(v.capitalize())}</b>: {html.escape(t)}</li>"
                            for v, t in VERDICTS.items())
    worlds_note = (f"; the runs span {len(cmp.worlds)} plausible parameter sets, and how "
                   "far each verdict holds across them is shown under <a href='#uncertainty'>"
                   "Two kinds of uncertainty</a>" if cmp.worlds is not None else "")
    if len(names) > 1:
        top = f"""{scorecard_html(cmp)}
<p class="note">Each cell compares the option with <b>{ref}</b> over {cmp.replicates} paired
runs (common random numbers). <b>Better</b>/<b>Worse</b>: the 95% interval of the paired
difference excludes zero; <b>Unclear</b>: it does not; <b>By design</b>: fixed by the
option's rules, not credited. The intervals reflect chance only, not uncertainty about the
model's assumptions{worlds_note}. Northvale and its options are illustrative: a thinking tool, not a
forecast.</p>"""
        below = f"""<h2>In plain words</h2>
<p>Against {ref}, over {cmp.replicates} paired runs; intervals are 95% Monte Carlo
intervals, and each finding gives the shares of paired runs in which the option did
better, worse and the same.</p>
<ul>{plain}</ul>

<h2>Paired differences, with their intervals</h2>
<img alt="Forest plot of paired differences from {ref}" src="{forest_chart(cmp)}">
<p>Each dot is the mean paired difference from {ref}, each bar its 95% interval over
replicates. Filled green: clearly better; filled red: clearly worse; hollow grey: unclear,
by design or not scored.</p>
{uncertainty_html(cmp)}
{drivers_html(cmp)}"""
    else:
        top = "<p>Only one scenario was run, so there is nothing to compare it with.</p>"
        below = ""
    pocket_html = (
        f"""<div class="cols"><div><h3>Joint output</h3><p><i>Collaborative advantage</i>
is the value of the services joint work produced beyond what the same money would have
produced with each member working alone. It is service value (care delivered, problems
prevented), not cash: it never returns to anyone's budget.</p></div>
<div><h3>Cash</h3><p><i>Paid</i> is what each sector put into joint work. <i>Saved</i> is
the cash cost it avoided: acute bed-days not used (booked to health) and care packages not
needed (booked to adult social care), against no prevention in the same run. A sector can
show a negative cash balance while the partnership produces a large advantage: the money
bought services, not savings.</p></div></div>
{_table(money_table(cmp))}
<img alt="Who pays and who saves, one scale for every panel" src="{pocket_chart(pocket, names)}">
<p>Paid (down) and saved (up) by sector, means over replicates; every panel has the same
scale.</p>
<p>Cash balance (saved − paid) by sector and scenario, £m over the run (the paid and
saved amounts are in <code>wrong_pocket.csv</code>):</p>
{_table(balance_table(pocket, names))}
<h3>Prevention: what was spent, what it avoided, and the ratio</h3>
<p>The saving per £ is a ratio and rises when less is spent (returns diminish), so it is
shown beside the two amounts it comes from and is never scored.</p>
{_table(prevention_table(cmp))}"""
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
<h1>Which option? {len(names) - 1} option(s) against {ref}</h1>
<p class="sub">{cmp.replicates} paired runs each · {steps} quarters · seed {cmp.seed} ·
collabsim {html.escape(versions()['collabsim'])} · illustrative, not a forecast</p>
{top}
{below}

<h2>Joint output and cash, side by side</h2>
{pocket_html}

<h2>What was compared, and how</h2>
<ul>{scen_list}</ul>
<p>Each scenario was run {cmp.replicates} times. Replicate <i>k</i> of every scenario
used the same random numbers (common random numbers), so differences are paired: they
show the effect of the option, not of luck. Intervals are 95% Monte Carlo intervals of the
mean over replicates: they shrink as replicates are added and say nothing about how
uncertain the model's own parameters are. Shaded bands in the charts hold the middle 80%
of runs. The first scenario, <b>{ref}</b>, is the reference. Verdicts:</p>
<ul>{verdict_words}</ul>

<h2>Trajectories</h2>
<img alt="Trajectories with uncertainty bands" src="{trajectories_chart(cmp)}">

<h2>Every metric</h2>
{_table(summary_table(cmp))}

<h2>Differences from {ref}</h2>
<p>Paired difference (option − reference), its 95% interval, and the verdict.</p>
{_table(diff, classes) if len(names) > 1 else '<p>Only one scenario was run.</p>'}

<h2>Outcome archetypes</h2>
<img alt="Archetype shares" src="{archetype_chart(cmp)}">
{_table(pd.DataFrame([{"scenario": n, **{a: f"{cmp.summary[n]['archetypes'][a]:.0%}"
                                            for a in ARCHETYPES}} for n in names]))}

<h2>Parameters that differ</h2>
{params_html}

<h2>Glossary</h2>
{_table(glossary(), text=True)}

<h2>Manifest</h2>
<pre>{html.escape(man)}</pre>
</body></html>
"""


def write_report(cmp: Comparison, out: Path, argv: list[str] | None = None) -> Path:
    """Write ``report.html``, the data (Parquet and CSV) and ``manifest.json`` to ``out``.

    The folder is written as a unit (:func:`collabsim.store.replace_folder`): an earlier
    run or compare output there is replaced whole, or left untouched if writing fails.
    """
    from collabsim.experiment.tables import write_run_tables

    text = render(cmp, argv)  # a failure here stops before anything is written
    with replace_folder(out, "compare") as stage:
        write_run_tables(stage, {"runs": cmp.runs, "steps": cmp.steps, "members": cmp.members},
                         "compare", cmp.seed)
        tables = [("runs", cmp.runs), ("differences", cmp.differences),
                  ("scorecard", scorecard(cmp)), ("wrong_pocket", wrong_pocket(cmp)),
                  ("summary", summary_table(cmp))]
        if cmp.over_ensemble and cmp.worlds is not None:
            from collabsim.compare import world_differences
            from collabsim.drivers import flips, sensitivity

            tables += [("worlds", cmp.worlds), ("world_differences", world_differences(cmp)),
                       ("sensitivity", sensitivity(cmp)), ("flips", flips(cmp))]
        for name, df in tables:
            write_csv(df, stage / f"{name}.csv")
        (stage / "report.html").write_text(text, encoding="utf-8")
        files = sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())
        write_json({**manifest(cmp, argv), "files": files}, stage / "manifest.json")
    return out / "report.html"
