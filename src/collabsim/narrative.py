"""Plain-language accounts of what is happening in a running partnership, and why.

Used by the dashboard: the current archetype (the classifier applied to the run so
far) and a few sentences drawn from the mechanisms — who is the bottleneck, which
blocs pull apart, who is not paying, who has left and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from collabsim.metrics import RULES, summarise, thresholds

if TYPE_CHECKING:
    from collabsim.model import PartnershipModel

HEADLINE = {
    "solid_partnership": "Solid partnership: joint work is beating what partners could do alone.",
    "collaborative_inertia": "Collaborative inertia: meetings are held, but little is achieved.",
    "narrow_funnel": "Narrow funnel: money is stuck waiting for one hub to process it.",
    "tug_of_war": "Tug of war: two blocs are pulling the partnership in different directions.",
    "amicable_divorce": "Amicable divorce: the partnership is coming apart as its members leave.",
    "ditch_and_run": "Ditch and run: a key partner handed over its work and walked away.",
    "tokenism": "Tokenism: plans are agreed, but almost nothing is put in.",
}


def narrate(model: PartnershipModel) -> tuple[str, str, list[str]]:
    """The current archetype, its headline, and sentences explaining why."""
    if not model.history:
        return "", "Press Step or Play to start the partnership.", []
    summary = summarise(model)
    archetype = summary["archetype"]
    reasons = [because(model, summary)]
    last = model.history[-1]
    n = model.n

    exits = [a for a in model.founders if not a.active]
    if exits:
        parts = [f"{a.name} ({a.exit_reason.replace('_', ' ')}, step {a.exit_step})"
                 for a in exits[:4]]
        reasons.append("Left so far: " + "; ".join(parts) + ".")
    if model.queue > 0 and last.get("capacity", 0) > 0:
        hub = model.lead_name if model.mode_name == "lead" else (
            "the broker" if model.mode_name == "nao" else "the members' own teams")
        reasons.append(
            f"£{model.queue:,.1f}m is queued: {hub} can process £{last['capacity']:,.1f}m a "
            f"quarter, less than partners commit.")
    if n >= 2:
        reasons += _trust_story(model)
        asked = last.get("asked_total", 0.0)
        if asked > 0:
            paid = last["contribution"] / asked
            if paid < 0.8:
                worst = model.members[int(np.argmax(model.shortfall))].name \
                    if model.shortfall.size == n else None
                tail = f"; {worst} falls furthest short" if worst else ""
                reasons.append(f"Partners pay {paid:.0%} of what the plan asks{tail}.")
    recent = model.history[-8:]
    decided = sum(r["decided"] for r in recent) / len(recent)
    if decided < 0.5:
        reasons.append(f"Only {decided:.0%} of the last {len(recent)} meetings reached a "
                       "decision: goals are too far apart for the decision rule.")
    ratio = summary["advantage_ratio"]
    if summary["total_contribution"] > 0:
        verdict = "more" if ratio >= 1 else "less"
        reasons.append(f"Joint output so far is {ratio:.2f} times what the same money would buy "
                       f"spent alone ({verdict} than going it alone).")
    return archetype, HEADLINE[archetype], reasons


#: Each archetype rule's diagnostics, the sentence stating each one's value in the run so
#: far, and a value of it that could not on its own make the rule hold (used to find which
#: of a rule's conditions fired, with the thresholds left to the rule itself).
EVIDENCE: dict[str, tuple[tuple[str, str, float], ...]] = {
    "ditch_and_run": (("key_partner_ditched", "{ditched}", 0.0),),
    "amicable_divorce": (("retention", "{retained} of {founders} founding members remain",
                          1.0),),
    "narrow_funnel": (("queued_share", "{queued_share:.0%} of the money put in is still "
                       "queued at the hub", 0.0),),
    "tug_of_war": (("polarisation", "trust within blocs exceeds trust across them by "
                    "{polarisation:.2f}", 0.0),
                   ("contested_share", "{stalled:.0%} of meetings ended contested or "
                    "undecided", -1.0)),
    "tokenism": (("contribution_rate", "members paid {contribution_rate:.0%} of what was "
                  "asked", 1.0),
                 ("decision_success_rate", "{decided} of the last {recent} meetings reached a "
                  "decision", 1.0)),
    "collaborative_inertia": (("inertia", "{decided} of the last {recent} meetings reached a "
                               "decision ({decided_all} of {held} so far; {inertia:.0%} of "
                               "meeting time went on meetings that decided nothing)", 0.0),),
    "solid_partnership": (("advantage_ratio", "joint output is {advantage_ratio:.2f} times "
                           "what the same money buys spent alone", np.inf),
                          ("retention", "{retained} of {founders} founding members remain",
                           1.0),
                          ("mean_trust", "mean trust is {mean_trust:.2f}", 1.0)),
}


def because(model: PartnershipModel, summary: dict) -> str:
    """"Labelled X because ...": the rule's conditions that hold, with the run's numbers.

    A condition counts as having fired when the rule still holds with every other
    diagnostic it reads set to a value that could not trigger it; when none does alone
    (conditions that must hold together), all are given.
    """
    archetype = summary["archetype"]
    rule = next(r for r in RULES if r.archetype == archetype)
    limits = thresholds(model.params)  # the scenario's own archetype thresholds
    evidence = EVIDENCE[archetype]
    neutral = {key: safe for key, _, safe in evidence}
    fired = [text for key, text, _ in evidence
             if rule.test({**summary, **neutral, key: summary[key]}, limits)]
    if not fired:  # conditions that only hold jointly
        fired = [text for _, text, _ in evidence]
    h = model.history
    recent = h[-8:]
    held = [r for r in h if r["meeting_time"] > 0]
    ditched = [a for a in model.founders if a.exit_reason == "ditched"]
    numbers = {
        **summary,
        "recent": len(recent), "decided": sum(bool(r["decided"]) for r in recent),
        "decided_all": sum(bool(r["decided"]) for r in held), "held": len(held),
        "retained": sum(a.active for a in model.founders), "founders": len(model.founders),
        "stalled": summary["contested_share"] + 1 - summary["decision_success_rate"],
        "ditched": (f"{ditched[0].name} handed over its work and left at quarter "
                    f"{ditched[0].exit_step}") if ditched else "a key partner left",
    }
    joined = "; ".join(text.format(**numbers) for text in fired)
    return (f"Labelled {archetype.replace('_', ' ')} because {joined} (the rule: "
            f"{rule.reading.format(**limits)}).")


def _trust_story(model: PartnershipModel) -> list[str]:
    """Blocs pulling apart, or the least trusted member."""
    out = []
    n = model.n
    if n >= 4:
        centred = model.goals - model.goals.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        side = centred @ vt[0] > 0
        if 2 <= side.sum() <= n - 2:
            same = side[:, None] == side[None, :]
            off = ~np.eye(n, dtype=bool)
            gap = model.trust[same & off].mean() - model.trust[~same].mean()
            if gap >= 0.15:
                names = [a.name for a, s in zip(model.members, side, strict=True) if s]
                others = [a.name for a, s in zip(model.members, side, strict=True) if not s]
                out.append(f"Trust within blocs exceeds trust across them by {gap:.2f}: "
                           f"{', '.join(names[:3])} v. {', '.join(others[:3])}.")
    trusted = (model.trust.sum(axis=0) - 1.0) / (n - 1)
    low = int(np.argmin(trusted))
    if trusted[low] < 0.35:
        out.append(f"{model.members[low].name} is trusted least (mean trust in it "
                   f"{trusted[low]:.2f}).")
    return out
