"""report.py on fabricated runs with known numbers (no training anywhere)."""

import json
import types
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from torch.utils.tensorboard import SummaryWriter

import pointmass
import report

EASY, MEDIUM, HARD = "PointmassEasy-v0", "PointmassMedium-v0", "PointmassHard-v0"
# made-up reference returns, so the checks do not depend on pointmass.py's real constants
FAKE_POINTMASS = types.SimpleNamespace(
    ENV_IDS=(EASY, MEDIUM, HARD, "PointmassVeryHard-v0"),
    REF_RETURNS={EASY: (-50.0, -10.0), MEDIUM: (-150.0, -30.0), HARD: (-100.0, -20.0),
                 "PointmassVeryHard-v0": (-200.0, -60.0)},
    check_flags=pointmass.check_flags,
)
REPS = 300  # enough resamples to exercise the bootstrap, few enough to stay fast


@pytest.fixture(autouse=True)
def fake_pointmass(monkeypatch):
    monkeypatch.setattr(report, "pointmass", FAKE_POINTMASS)


def make_run(root: Path, algorithm: str, env_id: str, seed: int, score: float, *, exp_name=None,
             unix_time=1_700_000_000, status="completed", reason=None, coverage=None, args=None,
             density_value=None, events=True, coverage_curve=(), **overrides) -> Path:
    """A run directory as the algorithm scripts leave it: summary.json + TensorBoard events."""
    exp_name = exp_name or algorithm
    run_dir = root / f"{env_id}__{exp_name}__{seed}__{unix_time}"
    run_dir.mkdir(parents=True)
    random_return, oracle_return = FAKE_POINTMASS.REF_RETURNS[env_id]
    return_mean = random_return + score / 100 * (oracle_return - random_return)
    summary = {
        "algorithm": algorithm, "env_id": env_id, "seed": seed, "exp_name": exp_name,
        "status": status, "reason": reason, "global_step": 50_000, "num_updates": 48_000,
        "return_mean": return_mean, "return_std": 3.0, "success_rate": score / 100,
        "normalized_score": score, "eval_episodes": 100, "coverage": coverage,
        "wall_time_s": 40.0 + seed, "sps": 1000.0 * seed, "updates_per_s": 900.0, "peak_memory_mb": 300.0 + seed,
        "args": {"env_id": env_id, "seed": seed, "exp_name": exp_name, **(args or {})},
        "run_dir": str(run_dir),
    }
    summary.update(overrides)
    (run_dir / "summary.json").write_text(json.dumps(summary))
    if events:
        writer = SummaryWriter(str(run_dir))
        for step in range(0, 50_001, 10_000):  # a curve that ends at the final score
            writer.add_scalar("eval/normalized_score", score * step / 50_000, step)
        for step, value in coverage_curve:  # (step, exploration/coverage) pairs
            writer.add_scalar("exploration/coverage", value, step)
        if density_value is not None:
            img = np.full((16, 16, 3), density_value, dtype=np.uint8)
            writer.add_image("maps/state_density", img, 50_000, dataformats="HWC")
        writer.close()
    return run_dir


def build(runs_dir: Path, out: Path, *more_dirs: Path) -> dict:
    return report.main([str(runs_dir), *map(str, more_dirs), "--out", str(out), "--reps", str(REPS)])


def row_of(result: dict, algorithm: str, env_id: str, exp_name=None) -> dict:
    (row,) = [r for r in result["groups"]
              if (r["algorithm"], r["env_id"], r["exp_name"]) == (algorithm, env_id, exp_name or algorithm)]
    return row


def md_row(markdown: str, *cells: str) -> list[str]:
    """The results-table line whose first cells are `cells`, split into cells."""
    for line in markdown.splitlines():
        parts = [c.strip() for c in line.strip("|").split("|")]
        if parts[: len(cells)] == list(cells):
            return parts
    raise AssertionError(f"no table row starting with {cells}")


def test_table_has_the_known_numbers(tmp_path):
    runs = tmp_path / "runs"
    for seed, score in zip(range(1, 6), [0.0, 10.0, 20.0, 30.0, 100.0]):
        make_run(runs, "awac", EASY, seed, score)
    for seed, score in [(1, 40.0), (2, 60.0)]:
        make_run(runs, "iql", MEDIUM, seed, score)
    result = build(runs, tmp_path / "results")

    awac = row_of(result, "awac", EASY)
    assert awac["runs"] == 5 and awac["seeds"] == [1, 2, 3, 4, 5]
    assert awac["score_iqm"] == pytest.approx(20.0)  # 25% trimmed each side: mean of 10, 20, 30
    assert awac["score_mean"] == pytest.approx(32.0)
    for point, (lo, hi) in [(20.0, awac["score_iqm_ci"]), (32.0, awac["score_mean_ci"])]:
        assert 0.0 <= lo <= point <= hi <= 100.0 and lo < hi
    # returns from the fake references: R = -50 + score/100 * 40
    assert awac["return_mean"] == pytest.approx(-50 + 0.32 * 40)
    assert awac["return_sd"] == pytest.approx(np.std([-50, -46, -42, -38, -10], ddof=1))
    assert awac["success_rate"] == pytest.approx(0.32)
    assert awac["wall_time_s"] == pytest.approx(43.0) and awac["sps"] == pytest.approx(3000.0)
    assert (awac["random_return"], awac["oracle_return"]) == (-50.0, -10.0)

    iql = row_of(result, "iql", MEDIUM)
    assert iql["score_iqm"] == pytest.approx(50.0) and iql["score_mean"] == pytest.approx(50.0)

    md = (tmp_path / "results" / "results.md").read_text()
    assert md == result["markdown"]
    cells = md_row(md, "awac", "awac", EASY)
    assert cells[3] == "5"
    assert cells[4].startswith("20.0 [") and cells[5].startswith("32.0 [")
    assert cells[6] == f"-37.2 ± {awac['return_sd']:.1f}"
    assert cells[7:] == ["32%", "43.0", "3000", "-50.0", "-10.0"]
    # table order: algorithms in the project's order, then mazes in pointmass order
    assert md.index("| awac | awac |") < md.index("| iql | iql |")
    assert "## Skipped runs\n\nNone." in md
    assert json.loads((tmp_path / "results" / "results.json").read_text())["groups"][0]["score_mean"] == 32.0


def test_exploration_phases_seed_by_seed(tmp_path):
    runs = tmp_path / "runs"
    for algorithm, score in [("rnd_cql", 101.0), ("awac", 102.0), ("iql", 0.0)]:
        make_run(runs, algorithm, HARD, 7, score, first_goal_step=14_568, exploration_end_step=24_568)
        make_run(runs, algorithm, HARD, 1, score + 1, first_goal_step=6_579, exploration_end_step=10_000)
    make_run(runs, "iql", EASY, 2, 50.0, first_goal_step=None, exploration_end_step=None)  # never reached
    make_run(runs, "awac", EASY, 2, 60.0, first_goal_step=900, exploration_end_step=10_000)  # phases that differ
    # not a default run
    make_run(runs, "awac", EASY, 1, 70.0, exp_name="awac_lam3", first_goal_step=1, exploration_end_step=2)
    result = build(runs, tmp_path / "results")
    md = result["markdown"]
    assert md_row(md, EASY, "2") == [EASY, "2", "900 / —", "10000 / —", "—", "60.0", "50.0"]
    assert md_row(md, HARD, "1") == [HARD, "1", "6579", "10000", "102.0", "103.0", "1.0"]
    assert md_row(md, HARD, "7") == [HARD, "7", "14568", "24568", "101.0", "102.0", "0.0"]
    assert md.index(f"| {EASY} | 2 |") < md.index(f"| {HARD} | 1 |") < md.index(f"| {HARD} | 7 |")
    assert f"\n| {EASY} | 1 |" not in md
    assert [r["seed"] for r in result["phases"]] == [2, 1, 7]


def test_the_report_names_the_machines(tmp_path):
    runs = tmp_path / "runs"
    zen3, zen4 = "AMD EPYC (family 25, model 1), AVX2, 2 cores", "AMD EPYC (family 25, model 17), AVX512, 2 cores"
    for seed in (1, 2):
        make_run(runs, "iql", EASY, seed, 90.0, machine=zen3)
    make_run(runs, "iql", EASY, 3, 90.0, machine=zen4)
    make_run(runs, "iql", EASY, 4, 90.0)  # written before summary.json had a machine
    result = build(runs, tmp_path / "results")
    assert result["machines"] == {zen3: 2, zen4: 1, "an unrecorded machine": 1}
    assert f"Computed on {zen3} (2 runs); {zen4} (1 run); an unrecorded machine (1 run).\n" in result["markdown"]
    saved = json.loads((tmp_path / "results" / "results.json").read_text())
    assert saved["machines"] == result["machines"]


def test_the_report_names_the_commits(tmp_path):
    runs = tmp_path / "runs"
    for seed in (1, 2):
        make_run(runs, "iql", EASY, seed, 90.0, commit="d9ab221")
    make_run(runs, "iql", EASY, 3, 90.0, commit="d9ab221+")  # uncommitted changes
    make_run(runs, "iql", EASY, 4, 90.0)  # written before summary.json had a commit
    result = build(runs, tmp_path / "results")
    assert result["commits"] == {"d9ab221": 2, "d9ab221+": 1, "an unrecorded commit": 1}
    assert ("Code at commit `d9ab221` (2 runs); commit `d9ab221+` (1 run); an unrecorded commit (1 run).\n"
            in result["markdown"])
    assert json.loads((tmp_path / "results" / "results.json").read_text())["commits"] == result["commits"]
    assert len(result["groups"]) == 1  # the commit does not split a group
    assert ": 4 runs in 1 group, 0 skipped.\n" in result["markdown"]  # "1 group", not "1 groups"


def test_single_seed_has_no_interval(tmp_path):
    make_run(tmp_path / "runs", "rnd_cql", HARD, 1, 75.0)
    result = build(tmp_path / "runs", tmp_path / "out")
    row = row_of(result, "rnd_cql", HARD)
    assert row["score_iqm"] == 75.0 and row["score_iqm_ci"] is None and row["return_sd"] is None
    assert md_row(result["markdown"], "rnd_cql", "rnd_cql", HARD)[4] == "75.0 (1 seed)"


def test_bad_runs_are_skipped_with_reasons(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "awac", EASY, 1, 50.0)
    make_run(runs, "awac", EASY, 2, 70.0)
    (runs / f"{EASY}__awac__3__1700000000").mkdir()  # crashed before writing anything
    make_run(runs, "awac", EASY, 4, 10.0).joinpath("summary.json").write_text('{"algorithm": "aw')
    bad = make_run(runs, "awac", EASY, 5, 10.0)
    summary = json.loads((bad / "summary.json").read_text())
    del summary["sps"], summary["wall_time_s"]
    (bad / "summary.json").write_text(json.dumps(summary))
    make_run(runs, "awac", EASY, 6, 10.0, status="interrupted", reason="KeyboardInterrupt")
    make_run(runs, "awac", EASY, 7, 10.0, events=False)
    garbage = make_run(runs, "awac", EASY, 8, 10.0, events=False)
    (garbage / "events.out.tfevents.1.host").write_bytes(b"not an event file" * 20)
    make_run(runs, "iql", EASY, 1, 0.0, status="diverged", reason="nan in losses/value_loss",
             return_mean=float("nan"), normalized_score=float("nan"))
    make_run(runs, "iql", EASY, 2, 30.0, status="diverged", reason="nan in losses/actor_loss")
    make_run(runs, "iql", EASY, 3, 50.0, sps="fast")

    result = build(runs, tmp_path / "out")
    reasons = {Path(s["run"]).name.split("__")[1] + "/" + Path(s["run"]).name.split("__")[2]: s["reason"]
               for s in result["skipped"]}
    assert reasons["awac/3"].startswith("summary.json missing")
    assert reasons["awac/4"].startswith("summary.json unreadable")
    assert reasons["awac/5"] == "summary.json lacks keys: wall_time_s, sps"
    assert reasons["awac/6"] == "interrupted: KeyboardInterrupt"
    assert reasons["awac/7"] == "no TensorBoard event file"
    assert reasons["awac/8"].startswith("TensorBoard event file unreadable")
    assert reasons["iql/1"].startswith("diverged: return_mean, normalized_score not finite")
    assert reasons["iql/3"] == "summary.json: sps has type str"
    assert len(reasons) == 8

    awac = row_of(result, "awac", EASY)
    assert awac["runs"] == 2 and awac["score_mean"] == pytest.approx(60.0)
    iql = row_of(result, "iql", EASY)  # a diverged run with finite numbers still counts, flagged
    assert iql["runs"] == 1 and iql["diverged"] == 1
    assert md_row(result["markdown"], "iql", "iql", EASY)[3] == "1 (1 diverged)"
    (agg,) = [a for a in result["aggregate"] if a["method"] == "iql"]  # flagged in the aggregate too
    assert agg["diverged"] == 1 and md_row(result["markdown"], "iql", "Easy")[2] == "1 (1 diverged)"
    md = (tmp_path / "out" / "results.md").read_text()
    assert md.count("\n- `") == 8 and "interrupted: KeyboardInterrupt" in md


def test_newest_run_of_a_seed_wins(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "iql", EASY, 1, 10.0, unix_time=1_700_000_000)
    make_run(runs, "iql", EASY, 1, 90.0, unix_time=1_700_000_500)
    result = build(runs, tmp_path / "out")
    assert row_of(result, "iql", EASY)["score_mean"] == 90.0
    (skip,) = result["skipped"]
    assert skip["run"].endswith("__1700000000") and "superseded" in skip["reason"]


def test_plots_coverage_and_sweeps(tmp_path):
    main_runs, extra = tmp_path / "full", tmp_path / "extra"
    for algorithm in report.ALGORITHM_ORDER:
        for env_id in (EASY, MEDIUM):
            for seed in (1, 2, 3):
                make_run(main_runs, algorithm, env_id, seed, 20.0 * seed)
    for env_id in (EASY, MEDIUM):
        make_run(extra, "rnd_cql", env_id, 1, 5.0, exp_name="rnd_cql_unsup_rnd", coverage=0.9, density_value=200)
        make_run(extra, "rnd_cql", env_id, 2, 5.0, exp_name="rnd_cql_unsup_rnd", coverage=0.7)
        make_run(extra, "rnd_cql", env_id, 1, 5.0, exp_name="rnd_cql_unsup_random", coverage=0.3, density_value=50)
    for lam, score in [(0.1, 10.0), (1, 50.0), (10, 80.0)]:
        make_run(extra, "awac", EASY, 1, score, exp_name=f"awac_lam{lam}", args={"lam": float(lam)})
        make_run(extra, "awac", EASY, 1, score / 2, exp_name=f"awac_lam{lam}_unsup", args={"lam": float(lam)})
    make_run(extra, "iql", MEDIUM, 1, 40.0, exp_name="iql_tau0.9", args={"expectile": 0.9})
    result = build(main_runs, tmp_path / "out", extra)
    out = tmp_path / "out"

    for name in ("learning_curves", "interval_estimates", "coverage_heatmaps", "sweep_awac_lam", "sweep_iql_tau"):
        image = mpimg.imread(out / f"{name}.png")
        assert image.ndim == 3 and image.shape[0] > 100, name
        assert f"]({name}.png)" in result["markdown"]
    assert not (out / "sweep_rnd_cql_alpha.png").exists()

    cov = {r["env_id"]: r for r in result["coverage"]}
    assert cov[EASY]["rnd"]["coverage"] == pytest.approx(0.8) and cov[EASY]["rnd"]["runs"] == 2
    assert cov[EASY]["rnd"]["density_seed"] == 1 and cov[MEDIUM]["random"]["coverage"] == pytest.approx(0.3)
    row = "| PointmassEasy-v0 | rnd_cql | 0.80 [0.70, 0.90] (2 runs) | 0.30 [0.30, 0.30] (1 run) | never (0 of 2) |"
    assert row in result["markdown"]

    lam = result["sweeps"]["awac_lam"]
    assert [(r["variant"], r["value"], r["score_mean"]) for r in lam] == [
        ("", 0.1, 10.0), ("", 1.0, 50.0), ("", 10.0, 80.0),
        ("unsup", 0.1, 5.0), ("unsup", 1.0, 25.0), ("unsup", 10.0, 40.0)]
    assert result["sweeps"]["iql_tau"][0]["value"] == 0.9

    # aggregate over mazes: each main algorithm pooled over Easy and Medium (scores 20, 40, 60 twice)
    agg = {a["method"]: a for a in result["aggregate"]}
    assert set(agg) == {"rnd_cql", "awac", "iql"}
    assert agg["iql"]["score_mean"] == pytest.approx(40.0) and agg["iql"]["runs"] == 6


def test_sweep_value_comes_from_args(tmp_path):
    # the name says 10 but the run's own args say 12.5: the args are what actually ran
    make_run(tmp_path / "runs", "awac", EASY, 1, 30.0, exp_name="awac_lam10", args={"lam": 12.5})
    result = build(tmp_path / "runs", tmp_path / "out")
    assert result["sweeps"]["awac_lam"][0]["value"] == 12.5


def test_no_usable_runs_still_writes_a_report(tmp_path):
    (tmp_path / "runs" / f"{EASY}__iql__1__1700000000").mkdir(parents=True)
    result = build(tmp_path / "runs", tmp_path / "out")
    assert result["groups"] == [] and len(result["skipped"]) == 1 and result["machines"] == {}
    text = (tmp_path / "out" / "results.md").read_text()
    assert "No usable runs." in text and "Computed on" not in text


def test_other_envs_have_no_score(tmp_path):
    run = make_run(tmp_path / "runs", "iql", EASY, 1, 0.0)
    summary = json.loads((run / "summary.json").read_text())
    summary.update(env_id="CartPole-v1", normalized_score=None, success_rate=None, return_mean=200.0)
    (run / "summary.json").write_text(json.dumps(summary))
    result = build(tmp_path / "runs", tmp_path / "out")
    cells = md_row(result["markdown"], "iql", "iql", "CartPole-v1")
    assert cells[4:8] == ["—", "—", "200.0", "—"] and cells[-2:] == ["—", "—"]


@pytest.mark.parametrize("argv, message", [
    ([], "give at least one RUNS_DIR"),
    (["does/not/exist"], "RUNS_DIR does/not/exist is not a directory"),
    ([".", "--seed", "-1"], "--seed must be in [0, 2**32 - 1], got -1"),
    ([".", "--seed", str(2**32)], f"--seed must be in [0, 2**32 - 1], got {2**32}"),
    ([".", "--rep", "3"], "--rep is not a flag of report.py; did you mean --reps?"),  # tyro: a box of help text
    (["a", "b", "--reps", "2.5"], "--reps must be an integer, got '2.5'"),
    ([".", "--out"], "--out needs a value: a string"),
    ([".", "--reps", "3", "runs2"], "runs2: give all positional arguments of report.py together, not split by flags"),
    ([".", "-5"], "RUNS_DIR -5 is not a directory"),  # tyro's reading: -5 is a RUNS_DIR, not a flag
])
def test_bad_command_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        report.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err == f"report.py: error: {message}\n"


def test_no_runs_or_a_file_as_out_writes_nothing(tmp_path, capsys):
    empty, out = tmp_path / "empty", tmp_path / "results"
    empty.mkdir()
    out.mkdir()
    (out / "results.md").write_text("the last report")
    for argv, message in [([str(empty), "--out", str(out)], f"no run directory under {empty}"),
                          ([str(empty), "--out", str(out / "results.md")], "is not a directory"),
                          ([str(empty), "--out", str(out / "results.md" / "sub")], "results.md exists and is not a")]:
        with pytest.raises(SystemExit) as exc:
            report.main(argv)
        assert exc.value.code == 2 and message in capsys.readouterr().err
    assert (out / "results.md").read_text() == "the last report" and len(list(out.iterdir())) == 1


def test_runs_of_one_name_with_other_flags_are_neither_merged_nor_superseded(tmp_path):
    """`python awac.py --lam 1`, then `--lam 10`, both named awac: two rows, each named after its flag."""
    runs = tmp_path / "runs"
    for seed, score in ((1, 80.0), (2, 90.0)):
        make_run(runs, "awac", EASY, seed, score, args={"lam": 1.0}, unix_time=1_700_000_000 + seed)
    make_run(runs, "awac", EASY, 1, 20.0, args={"lam": 10.0}, unix_time=1_700_000_100)  # newer, same seed
    result = build(runs, tmp_path / "out")
    rows = {r["exp_name"]: r for r in result["groups"] if r["algorithm"] == "awac"}
    assert set(rows) == {"awac (--lam 1.0)", "awac (--lam 10.0)"}
    assert rows["awac (--lam 1.0)"]["runs"] == 2 and rows["awac (--lam 10.0)"]["runs"] == 1
    assert "superseded" not in (tmp_path / "out" / "results.md").read_text()


def test_a_newer_run_of_the_same_flags_still_supersedes(tmp_path):
    runs = tmp_path / "runs"
    old = make_run(runs, "awac", EASY, 1, 20.0, args={"lam": 1.0}, unix_time=1_700_000_000)
    make_run(runs, "awac", EASY, 1, 80.0, args={"lam": 1.0}, unix_time=1_700_000_100)
    result = build(runs, tmp_path / "out")
    assert [r["exp_name"] for r in result["groups"] if r["algorithm"] == "awac"] == ["awac"]
    assert f"`{old}`: superseded by the newer run" in (tmp_path / "out" / "results.md").read_text()


def test_every_maze_weighs_the_same_in_the_aggregate_whatever_its_seeds(tmp_path):
    """A half-finished grid: Easy has 5 seeds at 100, Hard 1 seed at 0. Pooling the runs would give a mean of 83.3
    and an IQM of 100 (Hard trimmed away); per maze, as rliable's aggregate_mean does, both are 50."""
    runs = tmp_path / "runs"
    for seed in range(1, 6):
        make_run(runs, "iql", EASY, seed, 100.0)
    make_run(runs, "iql", HARD, 1, 0.0)
    result = build(runs, tmp_path / "out")
    (row,) = [r for r in result["aggregate"] if r["method"] == "iql"]
    assert row["score_mean"] == pytest.approx(50.0) and row["score_iqm"] == pytest.approx(50.0)


def test_equal_seeds_aggregate_as_rliable_does():
    tasks = [np.array([[10.0], [20.0], [30.0], [40.0]]), np.array([[0.0], [100.0], [50.0], [70.0]])]
    matrix = np.hstack(tasks)  # rliable's (runs, tasks) score matrix
    from rliable import metrics

    assert report.iqm_and_mean(*tasks) == pytest.approx([metrics.aggregate_iqm(matrix), metrics.aggregate_mean(matrix)])


@pytest.mark.parametrize("course, ours", [
    ("q1_env1_rnd", "q1_env1_unsup_rnd"), ("q1_env2_random", "q1_env2_unsup_random"),
    ("q2_dqn", "rnd_cql_alpha0"), ("q2_cql", "rnd_cql_alpha0.1"), ("q2_alpha0.02", "rnd_cql_alpha0.02"),
    ("q2_cql_numsteps_5000", "rnd_cql_numsteps5000_alpha0.1"),
    ("q2_dqn_numsteps_15000", "rnd_cql_numsteps15000_alpha0"),
    ("q4_awac_easy_unsupervised_lam0.1", "awac_lam0.1_unsup"), ("q4_awac_medium_supervised_lam20", "awac_lam20"),
    ("q5_easy_unsupervised_lam0.1_tau0.95", "iql_tau0.95_unsup"), ("q5_medium_supervised_lam0.1_tau0.5", "iql_tau0.5"),
    ("q3_medium_dqn", "q3_medium_dqn"), ("iql", "iql")])
def test_the_course_names_read_as_the_benchmarks(course, ours):
    assert report.canonical(course) == ours


def test_coverage_says_how_fast_each_side_reached_95_percent(tmp_path):
    """Where both sides end at every cell (Medium), the steps to the issue's 95% still tell them apart."""
    runs = tmp_path / "runs"
    rnd = [[(1000, 0.5), (2000, 0.96), (3000, 1.0)], [(1000, 0.6), (2000, 0.9), (3000, 0.95), (4000, 1.0)]]
    for seed, curve in enumerate(rnd, start=1):
        make_run(runs, "rnd_cql", MEDIUM, seed, 5.0, exp_name="rnd_cql_unsup_rnd", coverage=1.0, coverage_curve=curve)
    make_run(runs, "rnd_cql", MEDIUM, 1, 5.0, exp_name="rnd_cql_unsup_random", coverage=0.9,
             coverage_curve=[(1000, 0.3), (5000, 0.9)])  # never reaches 95%
    (cov,) = build(runs, tmp_path / "out")["coverage"]
    assert (cov["rnd"]["steps_to_target"], cov["rnd"]["reached_target"]) == (2500.0, 2)  # steps 2000 and 3000
    assert (cov["random"]["steps_to_target"], cov["random"]["reached_target"]) == (None, 0)
    assert "| 2500 (2 of 2) | never (0 of 1) |" in (tmp_path / "out" / "results.md").read_text()


def test_the_readmes_course_commands_make_sweeps_and_coverage(tmp_path):
    """Runs named as in the README's course command lines land in the sweep and coverage tables, not the main one."""
    runs = tmp_path / "runs"
    for lam, score in [(0.1, 10.0), (1, 50.0)]:
        make_run(runs, "awac", EASY, 1, score, exp_name=f"q4_awac_easy_unsupervised_lam{lam}", args={"lam": float(lam)})
    make_run(runs, "rnd_cql", EASY, 1, 5.0, exp_name="q1_env1_rnd", coverage=0.9)
    make_run(runs, "rnd_cql", EASY, 1, 5.0, exp_name="q1_env1_random", coverage=0.5)
    make_run(runs, "rnd_cql", MEDIUM, 1, 70.0, exp_name="q3_medium_cql")
    result = build(runs, tmp_path / "out")
    assert [(r["variant"], r["value"]) for r in result["sweeps"]["awac_lam"]] == [("unsup", 0.1), ("unsup", 1.0)]
    (cov,) = result["coverage"]
    assert cov["rnd"]["coverage"] == pytest.approx(0.9) and cov["random"]["coverage"] == pytest.approx(0.5)
    assert [r["exp_name"] for r in result["groups"] if r["category"] == "main"] == ["q3_medium_cql"]


def test_a_flag_label_keeps_sweep_and_coverage_runs_in_their_own_tables(tmp_path):
    """Seeds of a coverage or sweep name whose flags differ (an older run without a newer flag) get a label, and
    stay coverage and sweep runs: neither main rows nor methods of the aggregate."""
    runs = tmp_path / "runs"
    make_run(runs, "rnd_cql", EASY, 1, 5.0, exp_name="rnd_cql_unsup_rnd", coverage=0.9, args={"extend": False})
    make_run(runs, "rnd_cql", EASY, 2, 5.0, exp_name="rnd_cql_unsup_rnd", coverage=0.7)
    make_run(runs, "rnd_cql", EASY, 1, 5.0, exp_name="rnd_cql_unsup_random", coverage=0.3)
    make_run(runs, "awac", EASY, 1, 60.0, exp_name="awac_lam1", args={"lam": 1.0, "extend": False})
    make_run(runs, "awac", EASY, 2, 70.0, exp_name="awac_lam1", args={"lam": 1.0})
    make_run(runs, "awac", EASY, 1, 90.0)
    result = build(runs, tmp_path / "out")
    assert [r["exp_name"] for r in result["groups"] if r["category"] == "main"] == ["awac"]
    assert [a["method"] for a in result["aggregate"]] == ["awac"]
    cov = {r["experiment"]: r for r in result["coverage"]}
    assert sorted(cov) == ["rnd_cql", "rnd_cql (--extend False)", "rnd_cql (--extend unset)"]
    assert cov["rnd_cql (--extend False)"]["rnd"]["coverage"] == pytest.approx(0.9)
    assert cov["rnd_cql"]["random"]["coverage"] == pytest.approx(0.3)
    assert sorted(r["variant"] for r in result["sweeps"]["awac_lam"]) == ["--extend False", "--extend unset"]


def test_a_label_is_the_same_on_every_maze_and_output_names_split_nothing(tmp_path):
    """A try-out with other flags on one maze labels that name's runs on every maze, so the aggregate compares
    like with like; --save-dataset-id, which each seed must set anew, does not split seeds."""
    runs = tmp_path / "runs"
    for env_id in (EASY, MEDIUM):
        for seed in (1, 2):
            make_run(runs, "iql", env_id, seed, 90.0 + seed, args={"total_steps": 50_000})
    make_run(runs, "iql", EASY, 3, 10.0, args={"total_steps": 3_000})
    for seed in (1, 2):
        make_run(runs, "rnd_cql", EASY, seed, 80.0, args={"save_dataset_id": f"pointmass/easy-s{seed}-v0"})
    result = build(runs, tmp_path / "out")
    agg = {a["method"]: a["mazes"] for a in result["aggregate"]}
    assert agg == {"rnd_cql": ["Easy"], "iql (--total-steps 50000)": ["Easy", "Medium"],
                   "iql (--total-steps 3000)": ["Easy"]}
    assert [(r["env_id"], r["seed"]) for r in result["phases"]] == [(EASY, 1), (EASY, 2), (EASY, 3), (MEDIUM, 1),
                                                                     (MEDIUM, 2)]


def test_a_course_name_and_the_benchmarks_name_for_one_run_count_once(tmp_path):
    """q2_dqn is rnd_cql_alpha0: the same flags and seed under both names are one run (the newer counts); the same
    sweep point with other flags (iql_tau0.9 at beta 3, the README's q5 command at beta 10) is labelled."""
    runs = tmp_path / "runs"
    make_run(runs, "rnd_cql", MEDIUM, 1, 30.0, exp_name="rnd_cql_alpha0", args={"cql_alpha": 0.0})
    make_run(runs, "rnd_cql", MEDIUM, 1, 40.0, exp_name="q2_dqn", args={"cql_alpha": 0.0}, unix_time=1_700_000_100)
    make_run(runs, "iql", EASY, 1, 40.0, exp_name="iql_tau0.9", args={"expectile": 0.9, "beta": 3.0})
    make_run(runs, "iql", EASY, 1, 80.0, exp_name="q5_easy_supervised_lam0.1_tau0.9",
             args={"expectile": 0.9, "beta": 10.0})
    result = build(runs, tmp_path / "out")
    (alpha,) = result["sweeps"]["rnd_cql_alpha"]
    assert alpha["runs"] == 1 and alpha["score_mean"] == pytest.approx(40.0)
    tau = {r["variant"]: r["score_mean"] for r in result["sweeps"]["iql_tau"]}
    assert tau == {"--beta 3.0": pytest.approx(40.0), "--beta 10.0": pytest.approx(80.0)}


def test_a_diverged_sweep_run_is_flagged_in_its_sweep_table(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "awac", EASY, 1, 30.0, exp_name="awac_lam1", args={"lam": 1.0}, status="diverged",
             reason="nan in losses/actor_loss")
    make_run(runs, "awac", EASY, 2, 60.0, exp_name="awac_lam1", args={"lam": 1.0})
    result = build(runs, tmp_path / "out")
    (row,) = result["sweeps"]["awac_lam"]
    assert row["runs"] == 2 and row["diverged"] == 1
    assert md_row(result["markdown"], EASY, "—", "1")[3] == "2 (1 diverged)"


def test_a_plot_the_new_report_does_not_make_is_removed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "coverage_heatmaps.png").write_bytes(b"an earlier report's plot")
    (out / "notes.png").write_bytes(b"not ours")
    make_run(tmp_path / "runs", "awac", EASY, 1, 60.0)
    build(tmp_path / "runs", out)
    assert not (out / "coverage_heatmaps.png").exists() and (out / "notes.png").exists()
    assert (out / "learning_curves.png").exists()
