"""The tables of a results folder: one declared schema each, with units and meanings.

A results folder (of ``sweep``, ``run --out`` or ``compare --out``) holds each table in
its own folder of Parquet files, ``<table>/part-NNNNNN.parquet``, and nothing else
there, so ``<table>/*.parquet`` is read whole by pandas, pyarrow, polars or duckdb.
Every file of a table has the table's full schema: a value a run did not produce (an
output of a switched-off submodel, the outputs of a failed run) is a typed null. Each
column carries its unit and meaning as Parquet field metadata (``unit``, ``meaning``),
and each file names its table and sweep in the schema metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from collabsim.metrics import REGISTRY
from collabsim.store import atomic_write

PART = re.compile(r"part-(\d{6})\.parquet")  #: the name of a table's file


def part_name(index: int) -> str:
    """The file name of a table's chunk ``index``."""
    return f"part-{index:06d}.parquet"


@dataclass(frozen=True)
class Column:
    """One declared column.

    Attributes:
        name: Column name.
        type: Arrow type.
        unit: Unit ("" for counts, shares and labels without one).
        meaning: What the value is.
    """

    name: str
    type: pa.DataType
    unit: str = ""
    meaning: str = ""

    def field(self) -> pa.Field:
        """The Arrow field, with unit and meaning as metadata."""
        return pa.field(self.name, self.type, nullable=True,
                        metadata={"unit": self.unit, "meaning": self.meaning})


F, INT, B, S = pa.float64(), pa.int64(), pa.bool_(), pa.string()
MONEY, STEPS_UNIT, SHARE = "£m", "steps", "share in [0, 1]"


def _cols(rows: Iterable[tuple[str, pa.DataType, str, str]]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)


#: Key columns of per-run tables.
SWEEP = Column("sweep", S, "", "name of the sweep (or scenario) the run belongs to")
POINT = Column("point", INT, "", "design point, numbered from 0 in design order")
REPLICATE = Column("replicate", INT, "", "replicate of the point, numbered from 0")
SEED = Column("seed", INT, "", "base seed: the run's random numbers come from "
              "collabsim.replicate_seed(seed, replicate, point) in a sweep, "
              "replicate_seed(seed, replicate) in run and compare")
KEYS = (SWEEP, POINT, REPLICATE)
#: Key columns of ``compare --ensemble``'s runs: the plausible world and its parameter set.
WORLD_KEYS = (Column("world", INT, "", "plausible world of compare --ensemble: replicate "
                     "// replicates per world"),
              Column("member", INT, "", "the parameter set the run drew (run, sweep) or its "
                     "world drew (compare): row of the ensemble's posterior.csv, from 0; null "
                     "when the run used one parameter set, and for a failed sweep run"))

#: Outputs of one run of the partnership model (collabsim.metrics.summarise, and the
#: totals ``compare`` adds): the metrics' units and meanings come from the metric
#: registry; the diagnostics the archetype rules read are declared here.
MODEL_OUTPUTS = (
    *(Column(m.name, F, m.unit, m.meaning) for m in REGISTRY.values()),
    *_cols([
        ("contribution_rate", F, "", "money paid over money asked"),
        ("queued_share", F, "", "money queued at the end over money contributed"),
        ("polarisation", F, "", "trust within goal blocs minus trust across them"),
        ("contested_share", F, SHARE, "share of meetings held that ended contested"),
        ("key_partner_ditched", B, "", "a powerful founder handed over and left early"),
        ("unspent_pot", F, MONEY, "money in the joint pot at the end"),
        ("total_spent", F, MONEY, "money spent on joint work"),
        ("archetype", S, "", "outcome archetype (collabsim.metrics.RULES)"),
    ]),
)

#: One row per step of the model table (PartnershipModel.history).
STEP_COLUMNS = _cols([
    ("step", INT, STEPS_UNIT, "step (quarter) the row describes, from 1"),
    ("decided", B, "", "the meeting adopted a decision"),
    ("rounds", INT, "", "deliberation rounds held"),
    ("meeting_time", INT, "person-rounds", "time spent in meetings"),
    ("acceptability", F, SHARE, "mean acceptability of the decision (null if none)"),
    ("acceptability_sd", F, "", "spread of acceptability across members"),
    ("contested", B, "", "at least a quarter of members voted no"),
    ("contribution", F, MONEY, "money paid in this step"),
    ("fair_total", F, MONEY, "fair shares of what was asked"),
    ("asked_total", F, MONEY, "money asked of members"),
    ("free_riding", F, SHARE, "mean shortfall from the fair share"),
    ("admissions", F, "people", "service submodel: emergency admissions"),
    ("avoided_admissions", F, "people", "service submodel: admissions avoided"),
    ("emergency_bed_days", F, "bed-days", "service submodel: emergency bed-days"),
    ("delayed_transfer_days", F, "days", "service submodel: delayed transfer days"),
    ("unmet_need", F, "people", "service submodel: people waiting for care"),
    ("care_capacity", F, "people", "service submodel: care places available"),
    ("prevention_spend", F, MONEY, "service submodel: prevention spending"),
    ("prevention_stock", F, "", "service submodel: accumulated prevention effect"),
    ("acute_cost_avoided", F, MONEY, "service submodel: acute cost avoided"),
    ("care_cost_avoided", F, MONEY, "service submodel: care cost avoided"),
    ("spent", F, MONEY, "money spent on joint work"),
    ("capacity", F, MONEY, "delivery capacity of the hub"),
    ("queued", F, MONEY, "money waiting at the hub"),
    ("pot", F, MONEY, "money in the joint pot"),
    ("joint_output", F, MONEY, "output of joint work"),
    ("solo_output", F, MONEY, "what members would have produced alone"),
    ("coordination_cost", F, MONEY, "cost of coordinating joint work"),
    ("productivity", F, "", "productivity of joint work"),
    ("diversity", F, "", "diversity of members' goals"),
    ("shared_understanding", F, SHARE, "shared understanding among members"),
    ("fit", F, SHARE, "fit of what is delivered to members' goals"),
    ("advantage", F, MONEY, "cumulative collaborative advantage"),
    ("plan_currency", F, "", "how current the adopted plan is"),
    ("members", INT, "organisations", "members at the end of the step"),
    ("governance", S, "", "governance mode"),
    ("mean_trust", F, SHARE, "mean trust between members"),
    ("trust_density", F, SHARE, "share of directed pairs with trust >= 0.5"),
    ("prosociality", F, SHARE, "mean prosociality of members"),
    ("satisfaction", F, SHARE, "mean satisfaction of members"),
    ("budget", F, MONEY, "members' budgets in all"),
    ("pressure", F, "", "mean pressure on members"),
    ("own_acceptability", F, SHARE,
     "mean acceptability of the decision against members' own goals (null if none)"),
    ("own_equity_sd", F, "", "spread of that acceptability across members (null if none)"),
])

#: One row per member per step (collabsim.batch.Batch.agent_frame).
AGENT_COLUMNS = _cols([
    ("step", INT, STEPS_UNIT, "step the row describes"),
    ("name", S, "", "organisation"),
    ("sector", S, "", "organisation's sector"),
    ("power", F, "", "power of the organisation"),
    ("budget", F, MONEY, "budget"),
    ("contribution", F, MONEY, "money paid in this step"),
    ("benefit", F, MONEY, "benefit received in this step"),
    ("net_benefit", F, MONEY, "benefit minus contribution in this step"),
    ("satisfaction", F, SHARE, "satisfaction"),
    ("prosociality", F, SHARE, "prosociality"),
    ("trust_out", F, SHARE, "mean trust it places in the others"),
    ("trust_in", F, SHARE, "mean trust the others place in it"),
    ("paid", F, MONEY, "money paid so far"),
    ("saved", F, MONEY, "service savings booked to it so far"),
])

STATUS = Column("status", S, "", "ok or failed")
ERROR = Column("error", S, "", "why the run failed (one line; empty if ok)")
TRACEBACK = Column("traceback", S, "", "Python traceback of the failure")
FAILURE_COLUMNS = (*KEYS, SEED, ERROR, TRACEBACK)


def response_column(name: str, value: object) -> Column:
    """The column of a test response's output, typed from one value."""
    kind = B if isinstance(value, bool) else S if isinstance(value, str) else F
    return Column(name, kind, "", "output of the test response")


def factor_columns(points: pd.DataFrame) -> tuple[Column, ...]:
    """The swept parameters' columns, typed as in the design's points table."""
    schema = pa.Schema.from_pandas(points, preserve_index=False)
    return tuple(Column(f.name, _plain(f.type), "",
                        "unit-cube coordinate of the design" if f.name.startswith("u:")
                        else "swept parameter")
                 for f in schema if f.name != "point")


def _plain(t: pa.DataType) -> pa.DataType:
    return S if pa.types.is_large_string(t) or pa.types.is_string(t) else t


def schema(columns: Iterable[Column], table: str, name: str = "") -> pa.Schema:
    """The Arrow schema of a table, naming the table and sweep in its metadata."""
    return pa.schema([c.field() for c in columns],
                     metadata={"collabsim.table": table, "collabsim.name": name})


def conform(df: pd.DataFrame, target: pa.Schema) -> pa.Table:
    """``df`` with exactly the columns of ``target``: missing ones as typed nulls.

    Raises:
        ValueError: ``df`` has a column the schema does not declare.
    """
    extra = [c for c in df.columns if c not in target.names]
    if extra:
        raise ValueError(f"column {extra[0]!r} is not declared in the table's schema")
    arrays = []
    for field in target:
        if field.name in df.columns:
            arrays.append(pa.array(df[field.name], type=field.type, from_pandas=True))
        else:
            arrays.append(pa.nulls(len(df), type=field.type))
    return pa.Table.from_arrays(arrays, schema=target)


def write_table(table: pa.Table, path: Path) -> None:
    """Write an Arrow table to Parquet atomically."""
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


#: One row per organisation that was ever a member of a run (collabsim.runner.members_table).
MEMBER_COLUMNS = _cols([
    ("name", S, "", "organisation"),
    ("sector", S, "", "organisation's sector"),
    ("founding", B, "", "a founding member"),
    ("active", B, "", "still a member at the end"),
    ("exit_step", INT, STEPS_UNIT, "step it left (null if it stayed)"),
    ("exit_reason", S, "", "why it left (empty if it stayed)"),
    ("budget", F, MONEY, "budget at the start"),
    ("paid", F, MONEY, "money it paid into joint work"),
    ("saved", F, MONEY, "service savings booked to it"),
    ("net_benefit", F, MONEY, "what it gained in all, net of what it paid"),
])
SCENARIO = Column("scenario", S, "", "scenario name")
RUN_TABLES = {"runs": MODEL_OUTPUTS, "steps": STEP_COLUMNS, "agents": AGENT_COLUMNS,
              "members": MEMBER_COLUMNS}


def write_run_tables(folder: Path, frames: Mapping[str, pd.DataFrame | None], name: str,
                     seed: int) -> list[str]:
    """Write the tables of ``run --out`` and ``compare --out``, one folder each.

    Each table becomes ``folder/<table>/part-000000.parquet`` with its declared schema:
    ``scenario`` (``name`` unless the frame has one), ``replicate`` (the runs table also
    ``seed``), then the table's columns.

    Returns:
        The paths written, relative to ``folder``.
    """
    written = []
    for table, df in frames.items():
        if df is None:
            continue
        keys = (SCENARIO, SEED, REPLICATE) if table == "runs" else (SCENARIO, REPLICATE)
        if table == "runs" and "world" in df:
            keys = (*keys, *WORLD_KEYS)
        elif table == "runs" and "member" in df:  # run over the ensemble: no worlds
            keys = (*keys, WORLD_KEYS[1])
        df = df.assign(**({"scenario": name} if "scenario" not in df else {}),
                       **({"seed": seed} if table == "runs" else {}))
        path = folder / table / part_name(0)
        write_table(conform(df, schema((*keys, *RUN_TABLES[table]), table, name)), path)
        written.append(f"{table}/{path.name}")
    return written
