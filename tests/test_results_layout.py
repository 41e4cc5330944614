"""Results folders any data tool reads: one declared schema per table, one glob each."""

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from collabsim import load_results, load_scenario, replicate_seed, run, sweep
from collabsim.experiment import engine, point_means
from collabsim.experiment import tables as T
from collabsim.metrics import REGISTRY, summarise
from collabsim.model import PartnershipModel

from .conftest import SCENARIOS

STATUS_QUO = (SCENARIOS / "policy" / "status_quo.toml").as_posix()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Service submodel on and off, every run at initial_trust 0.7 failed, all tables kept."""
    tmp = tmp_path_factory.mktemp("mixed")
    path = tmp / "mixed.toml"
    path.write_text(f"""
[sweep]
scenario = "{STATUS_QUO}"
replicates = 2
steps = 3
seed = 4
chunk_size = 2
keep_steps = true
keep_agents = true
[parameters]
"services.enabled" = [false, true]
"population.initial_trust" = [0.3, 0.5, 0.7]
""")

    whole = engine.summarise

    def fragile(batch):
        if batch.p["population.initial_trust"] == 0.7:
            raise RuntimeError("no summary at 0.7")
        return whole(batch)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "summarise", fragile)
        sweep(path, tmp / "out")
    return tmp / "out"


EXPECTED_ROWS = {"points": 6, "runs": 12, "failures": 4, "steps": 8 * 3}


@pytest.mark.parametrize("table", ["points", "runs", "failures", "steps", "agents"])
def test_every_tool_reads_every_table_whole(mixed, table):
    folder = mixed / table
    assert {p.suffix for p in folder.iterdir()} == {".parquet"}
    declared = pq.read_schema(sorted(folder.iterdir())[0])
    n = EXPECTED_ROWS.get(table, len(load_results(mixed).agents))
    assert n > 0
    arrow = ds.dataset(folder).to_table()
    assert arrow.num_rows == n and arrow.schema.names == declared.names
    glob = f"{folder}/*.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM '{glob}'").fetchall() == [(n,)]
    assert duckdb.sql(f"SELECT * FROM '{glob}'").columns == declared.names
    frame = pl.scan_parquet(glob).collect()
    assert frame.shape == (n, len(declared.names))
    assert list(pd.read_parquet(folder).columns) == declared.names


def test_missing_values_are_typed_nulls(mixed):
    glob = f"{mixed}/runs/*.parquet"
    counts = duckdb.sql(f"""
        SELECT "services.enabled" AS on, status, count(*) AS n,
               count(emergency_bed_days) AS beds, count(mean_trust) AS trust
        FROM '{glob}' GROUP BY ALL ORDER BY ALL""").fetchall()
    assert counts == [(False, "failed", 2, 0, 0), (False, "ok", 4, 0, 4),
                      (True, "failed", 2, 0, 0), (True, "ok", 4, 4, 4)]
    schema = pl.scan_parquet(glob).collect_schema()
    assert schema["emergency_bed_days"] == pl.Float64 and schema["archetype"] == pl.String
    assert schema["key_partner_ditched"] == pl.Boolean


def test_columns_carry_units_and_meanings(mixed):
    schema = pq.read_schema(sorted((mixed / "runs").iterdir())[0])
    assert schema.field("emergency_bed_days").metadata[b"unit"] == b"bed-days"
    assert b"joint work" in schema.field("collaborative_advantage").metadata[b"meaning"]
    assert schema.metadata[b"collabsim.table"] == b"runs"
    assert schema.metadata[b"collabsim.name"] == b"mixed"


def test_every_runs_row_names_its_sweep_seed_and_parameters(mixed):
    rows = pl.read_parquet(f"{mixed}/runs/*.parquet")
    assert rows["sweep"].unique().to_list() == ["mixed"] and rows["seed"].unique().to_list() == [4]
    assert rows["population.initial_trust"].null_count() == 0
    failures = pl.read_parquet(f"{mixed}/failures/*.parquet")
    assert failures["error"].unique().to_list() == ["RuntimeError: no summary at 0.7"]
    assert failures["traceback"].str.contains("Traceback").all()


def test_the_seed_column_reproduces_a_run(mixed):
    row = load_results(mixed).runs.query("status == 'ok'").iloc[-1]
    scenario = load_scenario(STATUS_QUO).with_overrides(
        {"services.enabled": bool(row["services.enabled"]),
         "population.initial_trust": float(row["population.initial_trust"])})
    again = run(scenario, replicate_seed(int(row["seed"]), int(row["replicate"]),
                                         int(row["point"])), steps=3).summary
    assert again["collaborative_advantage"] == row["collaborative_advantage"]
    assert again["emergency_bed_days"] == row["emergency_bed_days"]


def test_agent_tables_line_up_with_step_tables(mixed):
    res = load_results(mixed)
    members = res.agents.groupby(["point", "replicate", "step"]).size()
    steps = res.steps.set_index(["point", "replicate", "step"])["members"]
    pd.testing.assert_series_equal(members.rename("members"), steps.loc[members.index])
    budget = res.agents.groupby(["point", "replicate", "step"])["budget"].sum()
    np.testing.assert_allclose(budget.to_numpy(), res.steps["budget"].to_numpy())


def test_declared_schemas_match_what_the_model_produces():
    s = load_scenario(STATUS_QUO)
    assert s["services.enabled"]
    m = PartnershipModel(s, rng=1, collect_agents=True).run(2)
    added_by_compare = [k for k, spec in REGISTRY.items() if spec.source == "compare"]
    assert sorted(c.name for c in T.MODEL_OUTPUTS) == sorted([*summarise(m), *added_by_compare])
    assert [c.name for c in T.STEP_COLUMNS] == list(m.history[-1])
    assert [c.name for c in T.AGENT_COLUMNS] == list(m.batch.agent_frame(0).columns)


def test_runs_are_stored_in_point_replicate_order(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nmodel = "collabsim.experiment.toys:linear"\ndesign = "sobol"\n'
                    'samples = 16\nreplicates = 3\nchunk_size = 7\n[parameters]\n'
                    'a = { range = [0, 1] }\nb = { range = [0, 1] }\nc = { range = [0, 1] }\n')
    sweep(path, tmp_path / "out", workers=2)
    on_disk = pl.read_parquet(f"{tmp_path}/out/runs/*.parquet")
    keys = list(zip(on_disk["point"], on_disk["replicate"], strict=True))
    assert keys == sorted(keys) and len(keys) == 16 * 5 * 3
    res = load_results(tmp_path / "out")
    y = point_means(res, "y")
    assert len(y) == 16 * 5
    np.testing.assert_allclose(y, on_disk.group_by("point").agg(pl.col("y").mean())
                               .sort("point")["y"].to_numpy())


def test_run_and_compare_write_the_same_layout(tmp_path, capsys):
    from collabsim.cli import main

    generic = (SCENARIOS / "generic.toml").as_posix()
    # at one parameter set: over the ensemble compare adds its world and member columns
    assert main(["run", STATUS_QUO, generic, "-n", "2", "--steps", "3", "--agents",
                 "--defaults", "--out", str(tmp_path / "run")]) == 0
    assert main(["compare", STATUS_QUO, generic, "-n", "2", "--steps", "3", "--defaults",
                 "--out", str(tmp_path / "cmp")]) == 0
    capsys.readouterr()
    run_runs = duckdb.sql(f"SELECT * FROM '{tmp_path}/run/*/runs/*.parquet' ORDER BY ALL")
    cmp_runs = duckdb.sql(f"SELECT * FROM '{tmp_path}/cmp/runs/*.parquet' ORDER BY ALL")
    assert run_runs.columns == cmp_runs.columns
    assert run_runs.columns[:3] == ["scenario", "seed", "replicate"]
    beds = duckdb.sql(f"SELECT scenario, count(emergency_bed_days) FROM "
                      f"'{tmp_path}/run/*/runs/*.parquet' GROUP BY ALL ORDER BY ALL").fetchall()
    assert beds == [("generic", 0), ("status_quo", 2)]
    for folder in ("run/status_quo", "run/generic"):
        steps = pl.read_parquet(f"{tmp_path}/{folder}/steps/*.parquet")
        assert steps.columns == ["scenario", "replicate", *(c.name for c in T.STEP_COLUMNS)]
        assert len(pl.read_parquet(f"{tmp_path}/{folder}/agents/*.parquet")) > 0
    members = pq.read_schema(tmp_path / "cmp" / "members" / "part-000000.parquet")
    assert members.field("exit_step").type == "int64"


def test_a_response_output_first_seen_late_is_added_to_earlier_chunks(tmp_path):
    (tmp_path / "pts.csv").write_text("a,b,c\n0.9,0,0\n0.95,0,0\n0.1,0,0\n0.2,0,0\n")
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nmodel = "collabsim.experiment.toys:fragile"\ndesign = "table"\n'
                    'table = "pts.csv"\nchunk_size = 2\n[parameters]\n'
                    'a = { range = [0, 1] }\nb = { range = [0, 1] }\nc = { range = [0, 1] }\n')
    sweep(path, tmp_path / "out")
    glob = f"{tmp_path}/out/runs/*.parquet"
    assert len(list((tmp_path / "out" / "runs").iterdir())) == 2
    rows = duckdb.sql(f"SELECT status, count(*), count(y) FROM '{glob}' GROUP BY ALL "
                      "ORDER BY ALL").fetchall()
    assert rows == [("failed", 2, 0), ("ok", 2, 2)]
    assert pl.scan_parquet(glob).collect_schema()["y"] == pl.Float64


def test_run_over_the_ensemble_records_the_parameter_set_each_replicate_drew(tmp_path, capsys):
    from collabsim import ensemble
    from collabsim.cli import main

    assert main(["run", "generic", "-n", "5", "--steps", "2", "--out", str(tmp_path / "e")]) == 0
    assert main(["run", "generic", "-n", "5", "--steps", "2", "--defaults",
                 "--out", str(tmp_path / "d")]) == 0
    capsys.readouterr()
    drawn = pl.read_parquet(f"{tmp_path}/e/runs/*.parquet")
    assert drawn.columns[:4] == ["scenario", "seed", "replicate", "member"]
    assert drawn["member"].to_list() == [ensemble.load().index_for(replicate_seed(0, k))
                                         for k in range(5)]
    assert "member" not in pl.read_parquet(f"{tmp_path}/d/runs/*.parquet").columns


def test_a_run_folder_is_not_taken_for_damaged_sweep_results(tmp_path, capsys):
    from collabsim.cli import main

    assert main(["run", "generic", "-n", "2", "--steps", "2", "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    assert main(["analyze", str(tmp_path / "r"), "--method", "sobol"]) == 2
    err = capsys.readouterr().err
    assert "holds the output of collabsim run, not a sweep" in err and "damaged" not in err
