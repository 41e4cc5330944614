"""Are the independent patterns' verdicts decided by Monte Carlo noise?

Validation (``make validate``) judges each independent pattern in 32 contexts with 10
replicates per arm, and a pattern passes when it holds in at least 80% of contexts. A
context's verdict is read from a mean over its replicates, so with few replicates a
small true effect "holds" in a context by luck about as often as not, and a share of
contexts mixes where the pattern holds with how noisy its check is. This experiment
judges every independent pattern on the same contexts with more replicates (nested:
the first 10 replicates of 40 are the validation's own) and prints the share of
contexts where it holds at each size, with the share of contexts whose verdict
differs from the one at the largest size.

Run: ``python experiments/validation_precision.py --replicates 10,20,40 --workers 2``
(about 15 minutes on two cores).
"""

from __future__ import annotations

import argparse

from collabsim.experiment.engine import open_executor
from collabsim.validation import FULL, INDEPENDENT, PATTERNS, Design, judge


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", default="10,20,40", help="replicates per arm, ascending")
    ap.add_argument("--contexts", type=int, default=FULL.contexts)
    ap.add_argument("--seed", type=int, default=FULL.seed)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    sizes = sorted(int(r) for r in args.replicates.split(","))
    print("| pattern | " + " | ".join(f"{n} replicates" for n in sizes)
          + " | verdicts that differ from the largest |")
    print("|---|" + "---|" * len(sizes) + "---|")
    with open_executor(args.workers) as executor:
        for pattern in (p for p in PATTERNS if p.cls == INDEPENDENT):
            results = [judge(pattern, Design(args.contexts, n, args.seed), executor=executor)
                       for n in sizes]
            last = results[-1].table["holds"].to_numpy()
            differ = [(r.table["holds"].to_numpy() != last).mean() for r in results[:-1]]
            shares = " | ".join(f"{r.share_of_contexts:.0%}" for r in results)
            print(f"| `{pattern.key}` | {shares} | "
                  + ", ".join(f"{d:.0%} at {n}" for d, n in zip(differ, sizes, strict=False))
                  + " |", flush=True)


if __name__ == "__main__":
    main()
