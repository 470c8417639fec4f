"""benchmark.sh: validation of variables and options, the commands it builds, and its job runner.

Nothing here trains (but for a few tiny updates of the d3rlpy comparison's Python): each test runs a copy of
benchmark.sh in tmp_path, either with DRY_RUN=1 or with stand-in algorithm scripts that only write a run
directory.
"""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)  # the environment running these tests stands in for .venv
ENV_IDS = ["PointmassEasy-v0", "PointmassMedium-v0", "PointmassHard-v0", "PointmassVeryHard-v0"]

# Stand-in for rnd_cql.py / awac.py / iql.py: same flag spelling (dataclass Args for the pre-flight
# check), logs its command line and OMP_NUM_THREADS, fails when FAKE_FAIL is in its arguments, and
# otherwise leaves a completed run directory the way the real scripts name it.
FAKE_SCRIPT = '''
import dataclasses, json, os, sys, time
from pathlib import Path

@dataclasses.dataclass
class Args:
    env_id: str = "PointmassHard-v0"
    exp_name: str = Path(__file__).stem
    seed: int = 1
    runs_dir: str = "runs"
    progress: bool = True
    use_rnd: bool = True
    unsupervised_exploration: bool = False
    offline_exploitation: bool = False
    num_exploration_steps: int = 10_000
{extra}

def check_args(args):
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {{args.seed}}")

if __name__ == "__main__":
    argv = sys.argv[1:]
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(f"{{Path(__file__).name}} {{' '.join(argv)}} OMP={{os.environ.get('OMP_NUM_THREADS')}}\\n")
    if os.environ.get("FAKE_FAIL") and os.environ["FAKE_FAIL"] in " ".join([Path(__file__).name, *argv]):
        print("Traceback: boom", file=sys.stderr)
        sys.exit(3)
    opts = {{a: b for a, b in zip(argv, argv[1:] + [""]) if a.startswith("--") and not b.startswith("--")}}
    exp = opts.get("--exp-name", Path(__file__).stem)
    env_id, seed = opts.get("--env-id", "PointmassHard-v0"), opts.get("--seed", 1)
    run_dir = Path(opts.get("--runs-dir", "runs")) / f"{{env_id}}__{{exp}}__{{seed}}__{{time.time_ns()}}"
    run_dir.mkdir(parents=True)
    words, args = argv + [""], {{}}
    for a, b in zip(words, words[1:]):
        if a.startswith("--"):
            args[a[2:].replace("-", "_")] = b if b and not b.startswith("--") else not a.startswith("--no-")
    (run_dir / "summary.json").write_text(json.dumps({{"status": "completed", "args": args}}))
'''
EXTRA = {
    "rnd_cql": "    cql_alpha: float = 0.0",
    "awac": "    lam: float = 1.0",
    "iql": "    expectile: float = 0.8\n    beta: float = 1.0",
}
FAKE_REPORT = '''
import os, sys
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write("report.py " + " ".join(sys.argv[1:]) + "\\n")
print("fake results table")
'''


@pytest.fixture
def repo(tmp_path):
    """A directory holding only a copy of benchmark.sh."""
    (tmp_path / "benchmark.sh").write_bytes((ROOT / "benchmark.sh").read_bytes())
    (tmp_path / "benchmark.sh").chmod(0o755)
    return tmp_path


@pytest.fixture
def fake_repo(repo):
    """benchmark.sh beside stand-in scripts and a .venv that is this interpreter's environment."""
    for stem, extra in EXTRA.items():
        (repo / f"{stem}.py").write_text(FAKE_SCRIPT.format(extra=extra))
    (repo / "report.py").write_text(FAKE_REPORT)
    (repo / "requirements.txt").write_text("")
    (repo / ".venv").symlink_to(VENV, target_is_directory=True)
    return repo


def bench(repo, *args, **env):
    # the caller's own settings (e.g. CI's SKIP_INSTALL=1) must not leak into the script under test
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("RUN_", "EXPL_", "AWAC_", "IQL_", "SKIP_INSTALL", "DRY_RUN", "PYTHON"))}
    # PYTHON=false: if validation ever let something through, no .venv could be created by accident
    full_env.update(PYTHON="false", FAKE_LOG=str(repo / "calls.log"), **env)
    return subprocess.run(["bash", str(repo / "benchmark.sh"), *args], cwd=repo, env=full_env,
                          capture_output=True, text=True, timeout=120)


def commands(result) -> list[str]:
    """The script and report command lines of a dry run, interpreter prefix removed."""
    out = []
    for line in result.stdout.splitlines():
        for prefix in ("+ .venv/bin/python ", "+ OMP_NUM_THREADS=1 .venv/bin/python "):
            if line.startswith(prefix) and " -m pip " not in line:
                out.append(line[len(prefix):])
    return out


def calls(repo) -> list[str]:
    log = repo / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("args, env, message", [
    ((), {"EXPL_ENV_NAME": "PointmassFoo-v0"}, "EXPL_ENV_NAME must be one of PointmassEasy-v0 PointmassMedium-v0 "
                                               "PointmassHard-v0 PointmassVeryHard-v0, got 'PointmassFoo-v0'"),
    ((), {"AWAC_ENV_NAME": "CartPole-v1"}, "AWAC_ENV_NAME must be one of"),
    ((), {"IQL_ENV_NAME": "pointmasshard-v0"}, "IQL_ENV_NAME must be one of"),
    ((), {"AWAC_LAMBDA": "ten"}, "AWAC_LAMBDA must be a number > 0, got 'ten'"),
    ((), {"AWAC_LAMBDA": "-1"}, "AWAC_LAMBDA must be a number > 0, got '-1'"),
    ((), {"IQL_EXPECTILE": "0.8x"}, "IQL_EXPECTILE must be a number in (0, 1), got '0.8x'"),
    ((), {"IQL_EXPECTILE": "1"}, "IQL_EXPECTILE must be a number in (0, 1), got '1'"),
    ((), {"RUN_AWAC": "yes"}, "RUN_AWAC must be 0 or 1, got 'yes'"),
    ((), {"RUN_EXPLORATION": "2"}, "RUN_EXPLORATION must be 0 or 1"),
    ((), {"EXPL_USE_RND": "true"}, "EXPL_USE_RND must be 0 or 1"),
    ((), {"IQL_USE_RND": "on"}, "IQL_USE_RND must be 0 or 1"),
    ((), {"SKIP_INSTALL": "y"}, "SKIP_INSTALL must be 0 or 1"),
    ((), {"IQL_EXTRA_FLAGS": "--awac_lambda abc"}, "IQL_EXTRA_FLAGS: --awac_lambda must be a number > 0, got 'abc'"),
    (("extra",), {}, "unknown subcommand 'extra'"),
    (("full", "--seeds", "0"), {}, "--seeds must be a whole number >= 1, got '0'"),
    (("full", "--seeds", "two"), {}, "--seeds must be a whole number >= 1, got 'two'"),
    (("full", "--workers"), {}, "--workers needs a value"),
    (("full", "--workers=-1"), {}, "--workers must be a whole number >= 1, got '-1'"),
    (("full", "--fast"), {}, "full: unknown option '--fast'"),
    (("full", "--only", "lam"), {}, "--only is an option of sweeps only"),
    *[(("sweeps", "--only", only), {},
       f"--only takes a comma-separated list of alpha, numsteps, lam, tau; got '{only}'")
      for only in ("lam,beta", "lam tau", "", "*", "lam,,tau")],
    (("coverage", "--seeds", "1.5"), {}, "--seeds must be a whole number >= 1"),
    (("speed", "--seeds", "3"), {}, "speed takes no options"),
    (("d3rlpy", "--threads", "2"), {}, "d3rlpy takes no options"),
    (("test",), {"SKIP_INSTALL": "no"}, "SKIP_INSTALL must be 0 or 1"),
])
def test_bad_value_stops_before_anything(repo, args, env, message):
    result = bench(repo, *args, **env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"benchmark.sh: error: {message}")
    assert result.stdout == ""
    assert sorted(p.name for p in repo.iterdir()) == ["benchmark.sh"]  # no .venv, no runs


def test_default_pipeline_is_the_course_runner(repo):
    result = bench(repo, DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("+ false -m venv .venv\n")  # PYTHON creates .venv when it is missing
    assert "+ .venv/bin/python -m pip install --quiet -r requirements.txt" in result.stdout
    assert commands(result) == [
        "rnd_cql.py --env-id PointmassHard-v0 --use-rnd --runs-dir runs",
        "awac.py --env-id PointmassHard-v0 --use-rnd --runs-dir runs",
        "iql.py --env-id PointmassHard-v0 --use-rnd --runs-dir runs",
        "report.py <the new run directories> --out runs/report",
    ]
    assert not (repo / ".venv").exists() and not (repo / "runs").exists()


def test_course_readme_examples(repo):
    first = bench(repo, DRY_RUN="1", RUN_AWAC="0", RUN_IQL="0", EXPL_ENV_NAME="PointmassMedium-v0")
    assert commands(first)[:-1] == ["rnd_cql.py --env-id PointmassMedium-v0 --use-rnd --runs-dir runs"]
    second = bench(repo, DRY_RUN="1", EXPL_EXTRA_FLAGS="--unsupervised_exploration")
    assert commands(second)[0] == ("rnd_cql.py --env-id PointmassHard-v0 --use-rnd --runs-dir runs "
                                   "--unsupervised-exploration")
    assert len(commands(second)) == 4


def test_variables_map_to_our_flags(repo):
    result = bench(
        repo, DRY_RUN="1", SKIP_INSTALL="1", EXPL_USE_RND="0", AWAC_LAMBDA="2", IQL_EXPECTILE="0.9",
        AWAC_ENV_NAME="PointmassEasy-v0", IQL_ENV_NAME="PointmassVeryHard-v0",
        EXPL_EXTRA_FLAGS="--num_exploration_steps=5000 --exp_name q1_rnd --cql_alpha 0.1",
        AWAC_EXTRA_FLAGS="--awac_lambda 10 --unsupervised-exploration",
        IQL_EXTRA_FLAGS="--awac_lambda=4 --iql_expectile 0.7 --env_name PointmassEasy-v0",
    )
    assert result.returncode == 0, result.stderr
    assert "SKIP_INSTALL=1: not installing requirements.txt" in result.stdout and " -m pip " not in result.stdout
    assert commands(result)[:3] == [
        "rnd_cql.py --env-id PointmassHard-v0 --no-use-rnd --runs-dir runs "
        "--num-exploration-steps=5000 --exp-name q1_rnd --cql-alpha 0.1",
        # extra flags come last, so they win over the variables (argparse keeps the last value)
        "awac.py --env-id PointmassEasy-v0 --use-rnd --runs-dir runs --lam 2 --lam 10 --unsupervised-exploration",
        # the course's lambda reaches IQL as beta = 1/lambda
        "iql.py --env-id PointmassVeryHard-v0 --use-rnd --runs-dir runs --beta 0.5 --expectile 0.9 "
        "--beta 0.25 --expectile 0.7 --env-id PointmassEasy-v0",
    ]


def test_skipped_stages(repo):
    result = bench(repo, DRY_RUN="1", RUN_EXPLORATION="0", RUN_IQL="0")
    assert [c.split()[0] for c in commands(result)] == ["awac.py", "report.py"]
    nothing = bench(repo, DRY_RUN="1", RUN_EXPLORATION="0", RUN_AWAC="0", RUN_IQL="0")
    assert nothing.returncode == 0 and "nothing to run" in nothing.stdout and commands(nothing) == []


def test_grids(repo):
    full = commands(bench(repo, "full", DRY_RUN="1"))
    assert full[-1] == "report.py runs/full --out results"
    grid = full[:-1]
    assert len(grid) == 3 * 4 * 5 and len(set(grid)) == len(grid)
    for algo in ("rnd_cql", "awac", "iql"):
        for env in ENV_IDS:
            for seed in range(1, 6):
                assert (f"{algo}.py --env-id {env} --exp-name {algo} --seed {seed} --runs-dir runs/full --no-progress"
                        in grid)
    dry = bench(repo, "full", "--seeds", "2", "--workers=4", DRY_RUN="1").stdout
    assert dry.count("+ OMP_NUM_THREADS=1 .venv/bin/python ") == 24

    sweeps = commands(bench(repo, "sweeps", DRY_RUN="1"))
    assert sweeps[-1] == "report.py runs/sweeps --out results/sweeps"
    assert len(sweeps) - 1 == 4 + 6 + 2 * 2 * 6 + 2 * 2 * 7
    assert ("awac.py --env-id PointmassMedium-v0 --use-rnd --num-exploration-steps 20000 --unsupervised-exploration "
            "--lam 0.1 --exp-name awac_lam0.1_unsup --seed 1 --runs-dir runs/sweeps --no-progress") in sweeps
    assert ("iql.py --env-id PointmassEasy-v0 --use-rnd --num-exploration-steps 20000 --expectile 0.99 "
            "--exp-name iql_tau0.99 --seed 1 --runs-dir runs/sweeps --no-progress") in sweeps
    only = commands(bench(repo, "sweeps", "--only", "alpha", "--seeds", "2", DRY_RUN="1"))
    assert len(only) - 1 == 8 and all("--offline-exploitation" in c for c in only[:-1])

    coverage = commands(bench(repo, "coverage", "--seeds", "1", DRY_RUN="1"))
    assert coverage[-1] == "report.py runs/coverage --out results/coverage"
    assert len(coverage) - 1 == 8
    assert sum("--no-use-rnd --total-steps 10000 --exp-name rnd_cql_unsup_random" in c for c in coverage) == 4
    assert sum("--use-rnd --total-steps 10000 --exp-name rnd_cql_unsup_rnd" in c for c in coverage) == 4


@pytest.mark.parametrize("job", [(), ("full",), ("sweeps",), ("coverage",), ("speed",)])
def test_every_run_of_a_job_passes_the_real_scripts_checks(repo, job):
    """The dry run's command lines, parsed and checked by the real scripts: a flag renamed or a value refused
    since a grid was written would otherwise surface only when that job reaches it (the pipeline checks its own
    stages before it starts; the grids do not)."""
    import shlex

    import awac
    import iql
    import rnd_cql

    modules = {"rnd_cql.py": rnd_cql, "awac.py": awac, "iql.py": iql}
    runs = [shlex.split(c) for c in commands(bench(repo, *job, DRY_RUN="1")) if c.split()[0] in modules]
    assert len(runs) >= 3
    for script, *argv in runs:
        modules[script].check_args(modules[script].parse_args(argv))


def test_d3rlpy_comparison_has_a_venv_of_its_own(repo):
    result = bench(repo, "d3rlpy", DRY_RUN="1")
    lines = [line for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert result.returncode == 0 and lines[0] == "+ false -m venv .venv-d3rlpy"
    assert all(".venv/" not in line for line in lines)  # the project's own .venv is left alone
    assert "--no-deps d3rlpy==2.8.1" in lines[2] and "torch==2.13.0" in lines[1]
    assert lines[-1].startswith("+ OMP_NUM_THREADS=1 .venv-d3rlpy/bin/python -")
    assert sorted(p.name for p in repo.iterdir()) == ["benchmark.sh"]


def test_oldest_installs_each_lower_bound_in_a_venv_of_its_own(repo):
    """./benchmark.sh oldest reads every ">=" of requirements.txt as "==", keeps the other specifiers, drops the
    comments, and hands its arguments to pytest in .venv-oldest."""
    (repo / "requirements.txt").write_text("torch==2.13.0\ngymnasium>=1.1,<2\n\ntyro>=1.0.2  # why\npandas<3\n")
    result = bench(repo, "oldest", "-k", "flags", DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "+ false -m venv .venv-oldest",
        "+ .venv-oldest/bin/python -m pip install --quiet torch==2.13.0 gymnasium==1.1,<2 tyro==1.0.2 pandas<3",
        "+ .venv-oldest/bin/python -m pytest -k flags"]
    assert not (repo / ".venv-oldest").exists()


def test_d3rlpy_comparison_calls_todays_rnd_cql(monkeypatch, capsys):
    """The comparison's Python, d3rlpy stubbed and shrunk to a few small updates, runs against today's rnd_cql.py
    (critic_update lost an argument at 837fb08, and the comparison failed, unseen, until this test)."""
    from unittest import mock

    import torch

    code = (ROOT / "benchmark.sh").read_text().split("<<'PYTHON_END'\n")[-1].split("\nPYTHON_END")[0]
    sizes = "N, HIDDEN, BATCH, UPDATES, REPEATS = 50_000, 256, 256, 1_500, 5"
    assert code.startswith("# updates/s of d3rlpy's DiscreteCQL") and sizes in code
    monkeypatch.setitem(sys.modules, "d3rlpy", mock.MagicMock(__version__="stub"))
    threads = torch.get_num_threads()
    try:
        exec(compile(code.replace(sizes, "N, HIDDEN, BATCH, UPDATES, REPEATS = 600, 16, 32, 3, 2"), "d3rlpy", "exec"),
             {"__name__": "__main__"})
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "| rnd_cql.py (denormals flushed, as its train() does) |" in out
    assert "ratio of the medians, rnd_cql.py / d3rlpy DiscreteCQL, as shipped: " in out


def test_pipeline_runs_stages_in_order_and_reports_only_them(fake_repo):
    old = fake_repo / "runs" / "PointmassHard-v0__iql__1__1"  # an earlier run must not enter the table
    old.mkdir(parents=True)
    result = bench(fake_repo, SKIP_INSTALL="1", AWAC_LAMBDA="4")
    assert result.returncode == 0, result.stderr
    log = calls(fake_repo)
    assert [line.split()[0] for line in log] == ["rnd_cql.py", "awac.py", "iql.py", "report.py"]
    assert "--lam 4" in log[1] and "--beta 0.25" in log[2]
    reported = log[3].split()[1:]
    assert reported[-2:] == ["--out", "runs/report"]
    new = sorted(p.name.split("__")[1] for p in map(Path, reported[:-2]))
    assert new == ["awac", "iql", "rnd_cql"] and str(old) not in log[3]
    assert "fake results table" in result.stdout


def test_preflight_rejects_bad_flags_before_the_first_run(fake_repo):
    result = bench(fake_repo, SKIP_INSTALL="1", IQL_EXTRA_FLAGS="--lam 3")  # --lam is awac's, not iql's
    assert result.returncode == 2
    assert "benchmark.sh: error: iql.py rejects its flags" in result.stderr
    assert calls(fake_repo) == [] and not (fake_repo / "runs").exists()
    checked = bench(fake_repo, SKIP_INSTALL="1", EXPL_EXTRA_FLAGS="--seed -3")
    assert checked.returncode == 2 and "rnd_cql.py: --seed must be >= 0, got -3" in checked.stderr
    assert calls(fake_repo) == []


def test_stage_failure_stops_the_pipeline(fake_repo):
    result = bench(fake_repo, SKIP_INSTALL="1", FAKE_FAIL="awac.py")
    assert result.returncode == 3
    assert "benchmark.sh: awac.py failed (exit 3)" in result.stderr
    assert [line.split()[0] for line in calls(fake_repo)] == ["rnd_cql.py", "awac.py"]


def test_grid_reports_failures_and_resumes(fake_repo):
    result = bench(fake_repo, "full", "--seeds", "1", "--workers", "3", SKIP_INSTALL="1",
                   FAKE_FAIL="iql.py --env-id PointmassMedium-v0")
    assert result.returncode == 1
    log = calls(fake_repo)
    assert len([c for c in log if c.startswith(("rnd_cql", "awac", "iql"))]) == 12
    assert all(c.endswith("OMP=1") for c in log if not c.startswith("report.py"))
    assert log[-1] == "report.py runs/full --out results"  # the report still comes out
    name = "PointmassMedium-v0__iql__1"
    assert f"FAILED: {name} (exit 3), log: runs/full/logs/{name}.log" in result.stderr
    assert "    Traceback: boom" in result.stderr and "1 of 12 runs failed" in result.stderr
    assert (fake_repo / "runs" / "full" / "logs" / f"{name}.log").read_text() == "Traceback: boom\n"

    (fake_repo / "calls.log").unlink()
    again = bench(fake_repo, "full", "--seeds", "1", SKIP_INSTALL="1")
    assert again.returncode == 0, again.stderr
    assert "11 runs already completed in runs/full are kept" in again.stdout
    assert [c.split()[:3] for c in calls(fake_repo)] == [
        ["iql.py", "--env-id", "PointmassMedium-v0"], ["report.py", "runs/full", "--out"]]


def test_a_kept_run_must_have_the_jobs_flags(fake_repo):
    """A run left under a job's name by other flags (an older grid, a hand-made run) is redone, not kept."""
    assert bench(fake_repo, "sweeps", "--only", "alpha", "--seeds", "1", SKIP_INSTALL="1").returncode == 0
    (summary,) = (fake_repo / "runs" / "sweeps").glob("*__rnd_cql_alpha0.1__1__*/summary.json")
    run = json.loads(summary.read_text())
    assert run["args"]["cql_alpha"] == "0.1" and run["args"]["use_rnd"] is True
    run["args"]["cql_alpha"] = 0.5
    summary.write_text(json.dumps(run))
    (fake_repo / "calls.log").unlink()
    again = bench(fake_repo, "sweeps", "--only", "alpha", "--seeds", "1", SKIP_INSTALL="1")
    assert again.returncode == 0, again.stderr
    assert "3 runs already completed in runs/sweeps are kept" in again.stdout
    (redone,) = [c for c in calls(fake_repo) if c.startswith("rnd_cql.py")]
    assert "--cql-alpha 0.1 --exp-name rnd_cql_alpha0.1" in redone


def test_test_subcommand_keeps_pytest_exit_status(fake_repo):
    (fake_repo / "tests").mkdir()
    result = bench(fake_repo, "test", SKIP_INSTALL="1")
    assert result.returncode == 5  # pytest: no tests collected, which must fail CI
    (fake_repo / "tests" / "test_one.py").write_text("def test_fails():\n    assert False\n")
    assert bench(fake_repo, "test", SKIP_INSTALL="1").returncode == 1
    (fake_repo / "tests" / "test_one.py").write_text("def test_passes():\n    pass\n")
    passed = bench(fake_repo, "test", "-q", SKIP_INSTALL="1")
    assert passed.returncode == 0 and "1 passed" in passed.stdout


def test_help(repo):
    result = bench(repo, "help")
    assert result.returncode == 0 and "./benchmark.sh full [--seeds 5] [--workers 2]" in result.stdout
    assert "RUN_EXPLORATION" in result.stdout and not result.stdout.startswith("#")


def test_help_from_another_directory(repo):
    """The script cds to its own directory first: a relative path to it must still find its own text."""
    result = subprocess.run(["bash", f"{repo.name}/benchmark.sh", "help"], cwd=repo.parent, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "./benchmark.sh full [--seeds 5] [--workers 2]" in result.stdout


@pytest.mark.parametrize("script", ["rnd_cql", "awac", "iql"])
def test_runs_started_in_the_same_second_get_their_own_directories(script, tmp_path, monkeypatch):
    # `full` starts runs in parallel: a shared directory would mix two runs' event files
    module = importlib.import_module(script)
    monkeypatch.setattr(module.time, "time", lambda: 1_700_000_000.5)
    args = module.Args(runs_dir=str(tmp_path / "runs"), seed=3)
    dirs = [module.make_run_dir(args) for _ in range(3)]
    assert [d.name for d in dirs] == [f"PointmassHard-v0__{script}__3__{1_700_000_000 + i}" for i in range(3)]
    assert all(d.is_dir() for d in dirs)
