"""Turn finished runs into a results table (markdown + JSON) and plots.

Reads every run directory under the given paths (a run directory holds the
`summary.json` and TensorBoard event file that `rnd_cql.py`, `awac.py` and
`iql.py` write), groups runs by (algorithm, env_id, exp_name and the flags
that change what a run computes) and writes to `--out` (default `results/`):

- `results.md`: the machines and the commits that computed the runs (summary.json `machine` and `commit`),
  the results table (normalised score as IQM and mean with 95%
  stratified-bootstrap confidence intervals from rliable, mean return, success
  rate, wall time, SPS, and the random/oracle reference returns), the default
  runs' exploration phases seed by seed, a speed and memory table, the
  coverage table (with the steps each side took to cover 95% of the free
  cells), the sweep tables and the skipped runs.
- `results.json`: the same numbers, machine readable.
- `learning_curves.png`, `interval_estimates.png`, `coverage_heatmaps.png`,
  `sweep_<name>.png`: each only when the runs it needs are there.

Normalised score = 100 * (R - R_random) / (R_oracle - R_random) (D4RL's
convention; the constants live in `pointmass.REF_RETURNS`).

Naming conventions the grouping relies on (benchmark.sh follows them):
- sweeps: exp_name `awac_lam<v>`, `iql_tau<v>`, `rnd_cql_alpha<v>`,
  `rnd_cql_numsteps<v>`, optionally followed by `_<variant>` (e.g. `_unsup`);
  the swept value itself is read from summary["args"].
- coverage: exp_name `<anything>_unsup_rnd` against `<anything>_unsup_random`.
- the course's names of the README's command lines (`q1_env1_rnd`, `q2_alpha0.02`,
  `q4_awac_easy_unsupervised_lam0.1`, `q5_medium_supervised_lam0.1_tau0.9`...)
  count as the matching sweep or coverage runs (the same setting and seed under
  both names is one run); `q3_...` are main runs.
- everything else (e.g. the defaults `rnd_cql`, `awac`, `iql`) is a main run.

A run whose summary.json or event file is missing or corrupt, or that was
interrupted, is listed under "Skipped runs" with the reason; the report is
still written. Of several runs with the same (algorithm, env, exp_name, flags,
seed) only the newest counts, so re-running a failed benchmark job does not
double-count a seed. Runs of one exp_name with other flags (`python awac.py
--lam 1`, then `--lam 10`) are neither merged nor superseded: each setting is
its own row, named after the flags that tell it apart ("awac (--lam 1.0)"),
the same on every maze; flags that only name or place outputs (--seed,
--exp-name, --runs-dir, --save-dataset-id...) never split a setting.

Usage:
    python report.py runs/full --out results
    python report.py runs/sweeps runs/coverage --out results/extra --reps 5000
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Callable, Optional

import matplotlib

matplotlib.use("Agg")  # files only, never a window (also works on headless CI)
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402
import tyro  # noqa: E402
from rliable import library as rly  # noqa: E402
from rliable import plot_utils  # noqa: E402
from tensorboard.backend.event_processing import event_accumulator  # noqa: E402

try:
    import pointmass  # reference returns and maze order; the report also works on other envs
except ModuleNotFoundError as err:
    if err.name != "pointmass":
        raise
    pointmass = None


@dataclasses.dataclass
class Args:
    runs_dirs: Annotated[tyro.conf.Positional[tuple[str, ...]], tyro.conf.arg(metavar="RUNS_DIR...")]
    """run directories, or directories to search (recursively) for run directories"""
    out: str = "results"
    """directory that receives results.md, results.json and the PNG plots"""
    reps: int = 2000
    """bootstrap resamples per confidence interval"""
    seed: int = 0
    """seed of the bootstrap, so that the same runs give the same report"""


class ReportError(ValueError):
    """Bad command-line input (reported on one line, exit status 2)."""


ALGORITHM_ORDER = ("rnd_cql", "awac", "iql")
FALLBACK_ENV_ORDER = ("PointmassEasy-v0", "PointmassMedium-v0", "PointmassHard-v0", "PointmassVeryHard-v0")
RUN_DIR_RE = re.compile(r"^(?P<env>.+)__(?P<exp>.+)__(?P<seed>-?\d+)__(?P<time>\d+)$")
STATUSES = ("completed", "diverged", "interrupted")
NUMBER = (int, float)
COVERAGE_TARGET = 0.95  # the share of the free cells that unsupervised RND should visit in 10 000 steps
UNRECORDED_COMMIT = "an unrecorded commit"  # runs from before summary.json had a commit, or from outside git

# summary.json schema from the team contract: key -> accepted types (None = JSON null allowed)
SUMMARY_SCHEMA: dict[str, tuple] = {
    "algorithm": (str,), "env_id": (str,), "seed": (int,), "exp_name": (str,),
    "status": (str,), "reason": (str, type(None)),
    "global_step": (int,), "num_updates": (int,),
    "return_mean": NUMBER, "return_std": NUMBER, "success_rate": (*NUMBER, type(None)),
    "normalized_score": (*NUMBER, type(None)), "eval_episodes": (int,), "coverage": (*NUMBER, type(None)),
    "wall_time_s": NUMBER, "sps": NUMBER, "updates_per_s": NUMBER, "peak_memory_mb": NUMBER,
    "args": (dict,), "run_dir": (str,),
}


@dataclasses.dataclass(frozen=True)
class Sweep:
    """One of the course's hyperparameter sweeps, recognised by its exp_name prefix."""

    algorithm: str
    prefix: str
    arg: str
    label: str
    xscale: str


SWEEPS = {
    "rnd_cql_alpha": Sweep("rnd_cql", "rnd_cql_alpha", "cql_alpha", "CQL α", "symlog"),
    "rnd_cql_numsteps": Sweep("rnd_cql", "rnd_cql_numsteps", "num_exploration_steps", "exploration steps", "linear"),
    "awac_lam": Sweep("awac", "awac_lam", "lam", "AWAC λ", "log"),
    "iql_tau": Sweep("iql", "iql_tau", "expectile", "IQL τ (expectile)", "linear"),
}
SWEEP_RE = re.compile(
    r"^(?P<prefix>" + "|".join(re.escape(s.prefix) for s in SWEEPS.values()) + r")"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:_(?P<variant>.+))?$"
)
COVERAGE_RE = re.compile(r"^(?P<base>.+)_unsup_(?P<side>rnd|random)$")
# the course's own exp names (README, "The course's experiments"), read as benchmark.sh's names for them
_ALPHA, _MODE = {"dqn": "0", "cql": "0.1"}, {"unsupervised": "_unsup", "supervised": ""}
COURSE_NAMES = [
    (re.compile(r"^q1_(env\d+)_(rnd|random)$"), lambda m: f"q1_{m[1]}_unsup_{m[2]}"),
    (re.compile(r"^q2_(dqn|cql)$"), lambda m: f"rnd_cql_alpha{_ALPHA[m[1]]}"),
    (re.compile(r"^q2_alpha(.+)$"), lambda m: f"rnd_cql_alpha{m[1]}"),
    (re.compile(r"^q2_(dqn|cql)_numsteps_(\d+)$"), lambda m: f"rnd_cql_numsteps{m[2]}_alpha{_ALPHA[m[1]]}"),
    (re.compile(r"^q4_awac_.+?_(unsupervised|supervised)_lam(.+)$"), lambda m: f"awac_lam{m[2]}{_MODE[m[1]]}"),
    (re.compile(r"^q5_.+?_(unsupervised|supervised)_lam[^_]+_tau(.+)$"), lambda m: f"iql_tau{m[2]}{_MODE[m[1]]}"),
]


def canonical(exp_name: str) -> str:
    """A course exp name (q4_awac_easy_unsupervised_lam0.1) as benchmark.sh's (awac_lam0.1_unsup); others as is."""
    for pattern, name in COURSE_NAMES:
        m = pattern.match(exp_name)
        if m:
            return name(m)
    return exp_name


@dataclasses.dataclass
class Run:
    path: Path
    summary: dict
    scalars: dict[str, tuple[np.ndarray, np.ndarray]]  # tag -> (steps, values)
    density: Optional[np.ndarray]  # last maps/state_density image (H, W, C), if logged


# ---------------------------------------------------------------- loading


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Every run directory at or below the given paths, each once, in a stable order."""
    found: dict[Path, None] = {}
    for top in paths:
        if not top.is_dir():
            raise ReportError(f"RUNS_DIR {top} is not a directory")
        stack = [top]
        while stack:
            d = stack.pop()
            if is_run_dir(d):
                found.setdefault(d.resolve(), None)
                continue  # a run's subfolders are its own files, never other runs
            stack.extend(sorted((p for p in d.iterdir() if p.is_dir()), reverse=True))
    return list(found)


def is_run_dir(d: Path) -> bool:
    # the name alone counts so that a crashed run without files still shows up as skipped
    return (
        RUN_DIR_RE.match(d.name) is not None
        or (d / "summary.json").exists()
        or any(d.glob("events.out.tfevents.*"))
    )


def summary_problem(summary) -> Optional[str]:
    """Why a parsed summary.json cannot be used, or None."""
    if not isinstance(summary, dict):
        return "summary.json is not a JSON object"
    missing = [k for k in SUMMARY_SCHEMA if k not in summary]
    if missing:
        return "summary.json lacks keys: " + ", ".join(missing)
    if summary["status"] not in STATUSES:
        return f"summary.json: unknown status {summary['status']!r}"
    if summary["status"] == "interrupted":  # checked first: an interrupted run may lack its numbers
        return "interrupted" + (f": {summary['reason']}" if summary["reason"] else "")
    for key, types in SUMMARY_SCHEMA.items():
        value = summary[key]
        # bool is an int subclass in Python, but true/false is never a valid number here
        if isinstance(value, bool) or not isinstance(value, types):
            return f"summary.json: {key} has type {type(value).__name__}"
    bad = [k for k in ("return_mean", "normalized_score") if summary[k] is not None and not math.isfinite(summary[k])]
    if bad:
        why = "diverged" if summary["status"] == "diverged" else "summary.json"
        return f"{why}: {', '.join(bad)} not finite" + (f" ({summary['reason']})" if summary["reason"] else "")
    return None


def read_events(run_dir: Path) -> tuple[dict, Optional[np.ndarray]]:
    """Scalars and the last state-density image of a run; ValueError says why it cannot be read."""
    if not any(run_dir.glob("events.out.tfevents.*")):
        raise ValueError("no TensorBoard event file")
    # keep every scalar (learning curves) but only the newest image of each tag
    acc = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 1}
    )
    try:
        acc.Reload()
    except Exception as exc:  # the reader raises several unrelated types on damaged files
        raise ValueError(f"TensorBoard event file unreadable: {exc}") from exc
    # every event file starts with a file_version record: garbage or an empty file has none
    if acc.file_version is None:
        raise ValueError("TensorBoard event file unreadable: no valid records")
    tags = acc.Tags()
    scalars = {}
    for tag in tags["scalars"]:
        events = acc.Scalars(tag)
        scalars[tag] = (np.array([e.step for e in events]), np.array([e.value for e in events], dtype=float))
    density = None
    if "maps/state_density" in tags["images"]:
        encoded = acc.Images("maps/state_density")[-1].encoded_image_string
        try:
            density = mpimg.imread(io.BytesIO(encoded), format="png")
        except Exception:  # a broken image only costs the heatmap, not the run
            density = None
    return scalars, density


def load_run(run_dir: Path) -> Run:
    """One run; ValueError says why it must be skipped."""
    path = run_dir / "summary.json"
    if not path.exists():
        raise ValueError("summary.json missing (run crashed or still running)")
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"summary.json unreadable: {exc}") from exc
    problem = summary_problem(summary)
    if problem:
        raise ValueError(problem)
    scalars, density = read_events(run_dir)
    return Run(run_dir, summary, scalars, density)


def run_time(run: Run) -> float:
    """When the run started: the unix time in its directory name, else summary.json's mtime."""
    m = RUN_DIR_RE.match(run.path.name)
    return float(m["time"]) if m else (run.path / "summary.json").stat().st_mtime


# flags that say how a run was executed or named, not what it computed
RUN_FIELDS = frozenset({"seed", "exp_name", "runs_dir", "progress", "save_model", "cuda", "num_threads",
                        "torch_deterministic", "save_dataset_id"})


def setting(run: Run) -> tuple:
    """The flags that change what a run computes: runs of one name but other flags are never merged."""
    return tuple(sorted((k, json.dumps(v)) for k, v in run.summary["args"].items() if k not in RUN_FIELDS))


def load_runs(paths: list[Path]) -> tuple[list[Run], list[tuple[Path, str]]]:
    """All usable runs and, for each unusable one, its directory and the reason."""
    runs, skipped = [], []
    for run_dir in find_run_dirs(paths):
        try:
            runs.append(load_run(run_dir))
        except ValueError as exc:
            skipped.append((run_dir, str(exc)))
    newest: dict[tuple, Run] = {}
    for run in sorted(runs, key=run_time):
        s = run.summary
        key = (s["algorithm"], s["env_id"], canonical(s["exp_name"]), setting(run), s["seed"])
        if key in newest:
            skipped.append((newest[key].path, f"superseded by the newer run {run.path.name}"))
        newest[key] = run
    return list(newest.values()), skipped


# ---------------------------------------------------------------- grouping and statistics


def category(exp_name: str) -> tuple[str, str]:
    """('sweep', sweep name) | ('coverage', 'rnd'/'random') | ('main', '')."""
    name = canonical(exp_name)
    m = SWEEP_RE.match(name)
    if m:
        return "sweep", m["prefix"]
    m = COVERAGE_RE.match(name)
    if m:
        return "coverage", m["side"]
    return "main", ""


def env_order() -> tuple[str, ...]:
    return tuple(pointmass.ENV_IDS) if pointmass is not None else FALLBACK_ENV_ORDER


def env_label(env_id: str) -> str:
    m = re.fullmatch(r"Pointmass(.+)-v0", env_id)
    return m[1] if m else env_id


def sort_key(env_id: str, algorithm: str = "", exp_name: str = "") -> tuple:
    envs, cats = env_order(), ("main", "sweep", "coverage")
    return (
        cats.index(category(exp_name)[0]),
        ALGORITHM_ORDER.index(algorithm) if algorithm in ALGORITHM_ORDER else len(ALGORITHM_ORDER),
        algorithm,
        exp_order(exp_name),
        envs.index(env_id) if env_id in envs else len(envs),
        env_id,
    )


def exp_order(exp_name: str) -> tuple:
    # sweep members in numeric order of their value (awac_lam2 before awac_lam10)
    m = SWEEP_RE.match(canonical(exp_name))
    return (m["prefix"], m["variant"] or "", float(m["value"])) if m else (exp_name, "", 0.0)


def group_runs(runs: list[Run]) -> dict[tuple[str, str, str, str], list[Run]]:
    """(algorithm, env_id, exp_name, flags) -> runs sorted by seed, groups in table order. exp_name is canonical
    (a course name as benchmark.sh's). Runs of one name whose flags differ (`python awac.py --lam 1`, then
    `--lam 10`) form one group per setting; `flags` names the flags that tell them apart ("--lam 1.0"), the
    same on every maze, and is "" where all the name's runs share their flags."""
    by_setting: dict[tuple, list[Run]] = {}
    for run in runs:
        s = run.summary
        by_setting.setdefault((s["algorithm"], s["env_id"], canonical(s["exp_name"]), setting(run)), []).append(run)
    settings_of: dict[tuple[str, str], list[dict]] = {}  # (algorithm, exp_name) -> its settings on every maze
    for algorithm, _, exp_name, flags in by_setting:
        settings_of.setdefault((algorithm, exp_name), []).append(dict(flags))
    varying_of = {name: sorted({k for s in settings for k in s
                                if k != "env_id" and len({s2.get(k) for s2 in settings}) > 1})
                  for name, settings in settings_of.items()}
    groups: dict[tuple[str, str, str, str], list[Run]] = {}
    for (algorithm, env_id, exp_name, flags), members in by_setting.items():
        varying, own = varying_of[(algorithm, exp_name)], dict(flags)
        label = ", ".join(f"--{k.replace('_', '-')} {json.loads(own[k]) if k in own else 'unset'}" for k in varying)
        groups[(algorithm, env_id, exp_name, label)] = members
    ordered = sorted(groups, key=lambda k: (sort_key(k[1], k[0], k[2]), k[3]))
    return {k: sorted(groups[k], key=lambda r: r.summary["seed"]) for k in ordered}


def labelled(exp_name: str, flags: str) -> str:
    return f"{exp_name} ({flags})" if flags else exp_name


def ref_returns(env_id: str) -> tuple[Optional[float], Optional[float]]:
    if pointmass is None or env_id not in pointmass.REF_RETURNS:
        return None, None
    random_return, oracle_return = pointmass.REF_RETURNS[env_id]
    return float(random_return), float(oracle_return)


def iqm(x: np.ndarray, axis=None):
    """Interquartile mean (25% trimmed on each side), rliable's aggregate_iqm."""
    return scipy.stats.trim_mean(x, proportiontocut=0.25, axis=axis)


def bootstrap(scores: list[np.ndarray], func: Callable, reps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Point estimates and 95% CIs (2, K) of func over per-task score arrays, stratified by task.

    Each array holds one task's runs (n_runs_i, ...); tasks may have different numbers of runs,
    so rliable's independent-samples form resamples runs within each task.
    """
    # rliable draws its resampling indices from numpy's global RNG, not from random_state
    np.random.seed(seed)
    points, intervals = rly.get_interval_estimates(
        {"x": [np.asarray(s, dtype=float) for s in scores]}, func, reps=reps
    )
    return np.asarray(points["x"]), np.asarray(intervals["x"])


def iqm_and_mean(*tasks: np.ndarray) -> np.ndarray:
    """IQM and mean over tasks (mazes) that weigh the same whatever their numbers of seeds: each task's runs are
    repeated up to the least common multiple of the counts, so a half-finished grid does not let its most-seeded
    maze dominate; with equal counts this is rliable's aggregate_iqm and aggregate_mean."""
    n = math.lcm(*(t.size for t in tasks))
    pooled = np.concatenate([np.repeat(t.ravel(), n // t.size) for t in tasks])
    return np.array([iqm(pooled), pooled.mean()])


def mean_or_none(values: list) -> Optional[float]:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def summarize_group(key: tuple[str, str, str, str], runs: list[Run], reps: int, seed: int) -> dict:
    """One row of the results table."""
    algorithm, env_id, exp_name, flags = key
    s = [r.summary for r in runs]
    random_return, oracle_return = ref_returns(env_id)
    returns = np.array([x["return_mean"] for x in s])
    scores = [x["normalized_score"] for x in s if x["normalized_score"] is not None]
    row = {
        "algorithm": algorithm, "env_id": env_id, "exp_name": labelled(exp_name, flags),
        "category": category(exp_name)[0],
        "runs": len(runs), "diverged": sum(x["status"] == "diverged" for x in s), "seeds": [x["seed"] for x in s],
        "score_iqm": None, "score_iqm_ci": None, "score_mean": None, "score_mean_ci": None,
        "return_mean": float(returns.mean()), "return_sd": float(returns.std(ddof=1)) if len(runs) > 1 else None,
        "success_rate": mean_or_none([x["success_rate"] for x in s]),
        "coverage": mean_or_none([x["coverage"] for x in s]),
        "wall_time_s": float(np.mean([x["wall_time_s"] for x in s])),
        "sps": float(np.mean([x["sps"] for x in s])),
        "updates_per_s": float(np.mean([x["updates_per_s"] for x in s])),
        "peak_memory_mb": float(np.max([x["peak_memory_mb"] for x in s])),
        "random_return": random_return, "oracle_return": oracle_return,
    }
    if scores:
        points, cis = bootstrap([np.array(scores)[:, None]], iqm_and_mean, reps, seed)
        row["score_iqm"], row["score_mean"] = float(points[0]), float(points[1])
        if len(scores) > 1:  # one seed has no spread to resample
            row["score_iqm_ci"] = [float(cis[0, 0]), float(cis[1, 0])]
            row["score_mean_ci"] = [float(cis[0, 1]), float(cis[1, 1])]
    return row


def score_curve(run: Run) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """Normalised score against env steps, from eval/normalized_score or else eval/return_mean."""
    if "eval/normalized_score" in run.scalars:
        return run.scalars["eval/normalized_score"]
    random_return, oracle_return = ref_returns(run.summary["env_id"])
    if "eval/return_mean" in run.scalars and random_return is not None:
        steps, returns = run.scalars["eval/return_mean"]
        return steps, 100 * (returns - random_return) / (oracle_return - random_return)
    return None


def align_curves(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Put every seed's curve on the union of their eval steps that all of them span (linear interpolation),
    (n_runs, T): an IQM over seeds is only defined where every seed has data, not extrapolated past its end."""
    lo = max(steps.min() for steps, _ in curves)
    hi = min(steps.max() for steps, _ in curves)
    grid = np.unique(np.concatenate([steps for steps, _ in curves]))
    grid = grid[(grid >= lo) & (grid <= hi)]
    return grid, np.stack([np.interp(grid, steps, values) for steps, values in curves])


# ---------------------------------------------------------------- plots


def display_name(algorithm: str, exp_name: str, flags: str) -> str:
    """awac, awac (--lam 1.0), awac (awac_lam1), awac (awac_lam1, --lam 2.0)."""
    inside = ", ".join(x for x in (exp_name if exp_name != algorithm else "", flags) if x)
    return f"{algorithm} ({inside})" if inside else algorithm


def plot_learning_curves(groups: dict, path: Path, reps: int, seed: int) -> Optional[str]:
    """IQM normalised score against env steps with 95% bootstrap bands, one panel per maze."""
    per_env: dict[str, dict[str, tuple]] = {}
    for (algorithm, env_id, exp_name, flags), runs in groups.items():
        curves = [c for c in map(score_curve, runs) if c is not None and len(c[0])]
        if category(exp_name)[0] != "main" or not curves:
            continue
        steps, matrix = align_curves(curves)
        if not len(steps):
            continue
        # rliable's layout is (runs, tasks, steps): one task here, IQM at every step
        point, ci = bootstrap([matrix[:, None, :]], lambda x: iqm(x.reshape(-1, x.shape[-1]), axis=0), reps, seed)
        per_env.setdefault(env_id, {})[display_name(algorithm, exp_name, flags)] = (steps, point, ci)
    if not per_env:
        return None
    envs = sorted(per_env, key=sort_key)
    colors = colors_for(list(dict.fromkeys(n for e in envs for n in per_env[e])))
    fig, axes = plt.subplots(1, len(envs), figsize=(4.5 * len(envs), 3.8), squeeze=False)
    for ax, env_id in zip(axes[0], envs):
        methods = per_env[env_id]
        for name, (steps, point, ci) in methods.items():
            plot_utils.plot_sample_efficiency_curve(
                steps, {name: point}, {name: ci}, algorithms=[name], ax=ax, colors={name: colors[name]},
                xlabel="env steps", ylabel="normalised score (IQM)", labelsize="medium", ticklabelsize="small",
                marker=".", linewidth=1.5,
            )
        ax.set_title(env_label(env_id))
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def colors_for(names: list[str]) -> dict:
    # one colour per method, the same in every panel of a figure
    cmap = plt.get_cmap("tab10")
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def aggregate_scores(groups: dict, reps: int, seed: int) -> list[dict]:
    """IQM and mean normalised score of each main method across all its mazes (stratified by maze)."""
    per_method: dict[str, list[np.ndarray]] = {}
    envs_of: dict[str, list[str]] = {}
    diverged: Counter = Counter()
    for (algorithm, env_id, exp_name, flags), runs in groups.items():
        scores = [r.summary["normalized_score"] for r in runs if r.summary["normalized_score"] is not None]
        if category(exp_name)[0] == "main" and scores:
            name = display_name(algorithm, exp_name, flags)
            per_method.setdefault(name, []).append(np.array(scores)[:, None])
            envs_of.setdefault(name, []).append(env_label(env_id))
            diverged[name] += sum(r.summary["status"] == "diverged" for r in runs)
    rows = []
    for name, tasks in per_method.items():
        points, cis = bootstrap(tasks, iqm_and_mean, reps, seed)
        spread = max(len(t) for t in tasks) > 1  # one seed per maze: every resample is the same
        rows.append({
            "method": name, "mazes": envs_of[name], "runs": int(sum(len(t) for t in tasks)),
            "diverged": diverged[name],
            "score_iqm": float(points[0]), "score_iqm_ci": [float(cis[0, 0]), float(cis[1, 0])] if spread else None,
            "score_mean": float(points[1]), "score_mean_ci": [float(cis[0, 1]), float(cis[1, 1])] if spread else None,
        })
    return rows


def plot_interval_estimates(rows: list[dict], path: Path) -> Optional[str]:
    if not rows:
        return None
    names = [r["method"] for r in rows]
    points = {r["method"]: np.array([r["score_iqm"], r["score_mean"]]) for r in rows}
    cis = {r["method"]: np.array([r["score_iqm_ci"] or [r["score_iqm"]] * 2,
                                  r["score_mean_ci"] or [r["score_mean"]] * 2]).T for r in rows}
    fig, _ = plot_utils.plot_interval_estimates(
        points, cis, metric_names=["IQM", "Mean"], algorithms=names,
        colors=colors_for(names), xlabel="normalised score (all mazes)", xlabel_y_coordinate=-0.35,
        row_height=0.6, subfigure_width=4.0,
    )
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.name


def phase_rows(groups: dict) -> list[dict]:
    """The default runs (exp_name = algorithm) per maze and seed: the step of the exploration phase's first
    goal transition and of its end (summary.json; the scripts' phases are alike, so one value each is
    expected, several are all listed) and each algorithm's score."""
    rows: dict[tuple[str, int], dict] = {}
    for (algorithm, env_id, exp_name, flags), runs in groups.items():
        if exp_name != algorithm:
            continue
        for run in runs:
            s = run.summary
            row = rows.setdefault((env_id, s["seed"]), {"env_id": env_id, "seed": s["seed"], "first_goal_step": [],
                                                        "exploration_end_step": [], "scores": {}})
            for key in ("first_goal_step", "exploration_end_step"):
                if s.get(key) not in row[key]:
                    row[key].append(s.get(key))
            row["scores"][display_name(algorithm, exp_name, flags)] = s["normalized_score"]
    return [rows[k] for k in sorted(rows, key=lambda k: (sort_key(k[0]), k[1]))]


def steps_to_coverage(run: Run, target: float = COVERAGE_TARGET) -> Optional[int]:
    """The first logged step (every 1 000) at which the run's data covered `target` of the free cells."""
    steps, values = run.scalars.get("exploration/coverage", (np.array([]), np.array([])))
    hit = np.flatnonzero(values >= target - 1e-6)  # TensorBoard keeps float32: 0.95 reads back as 0.9499999
    return int(steps[hit[0]]) if len(hit) else None


def coverage_rows(groups: dict) -> list[dict]:
    """Per maze: coverage of unsupervised RND exploration against random exploration."""
    table: dict[tuple[str, str], dict] = {}
    for (algorithm, env_id, exp_name, flags), runs in groups.items():
        kind, side = category(exp_name)
        if kind != "coverage":
            continue
        base = labelled(COVERAGE_RE.match(exp_name)["base"], flags)
        row = table.setdefault((env_id, base), {"env_id": env_id, "experiment": base})
        values = [r.summary["coverage"] for r in runs if r.summary["coverage"] is not None]
        reached = [step for step in map(steps_to_coverage, runs) if step is not None]
        row[side] = {
            "coverage": float(np.mean(values)) if values else None,
            "coverage_min": float(np.min(values)) if values else None,
            "coverage_max": float(np.max(values)) if values else None,
            "runs": len(runs),
            # how fast, where both sides end at every cell (Medium): the mean over the seeds that got there
            "steps_to_target": float(np.mean(reached)) if reached else None, "reached_target": len(reached),
            # the heatmap shows the lowest seed that logged one; the others would look alike
            "density": next((r.density for r in runs if r.density is not None), None),
            "density_seed": next((r.summary["seed"] for r in runs if r.density is not None), None),
        }
    return [table[k] for k in sorted(table, key=lambda k: (sort_key(k[0]), k[1]))]


def plot_coverage(rows: list[dict], path: Path) -> Optional[str]:
    """State-density heatmaps, RND beside random, one row per maze."""
    if not rows:
        return None
    fig, axes = plt.subplots(len(rows), 2, figsize=(9, 4.2 * len(rows)), squeeze=False)
    for (ax_rnd, ax_random), row in zip(axes, rows):
        for ax, side, label in ((ax_rnd, "rnd", "RND"), (ax_random, "random", "random")):
            ax.set_xticks([])
            ax.set_yticks([])
            cell = row.get(side)
            title = f"{env_label(row['env_id'])}: {label}"
            if cell is None or cell["density"] is None:
                ax.text(0.5, 0.5, "no maps/state_density image", ha="center", va="center", fontsize="small")
            else:
                ax.imshow(cell["density"])
                ax.axis("off")  # the logged image brings its own frame and colour bar
                title += f" (seed {cell['density_seed']})"
            if cell is not None and cell["coverage"] is not None:
                title += f"\ncoverage {cell['coverage']:.2f}"
            ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def sweep_rows(groups: dict, reps: int, seed: int) -> dict[str, list[dict]]:
    """Sweep name -> one row per (maze, variant, value): mean normalised score over seeds with 95% CI."""
    out: dict[str, list[dict]] = {}
    for (algorithm, env_id, exp_name, flags), runs in groups.items():
        m = SWEEP_RE.match(exp_name)
        if m is None:
            continue
        sweep = SWEEPS[m["prefix"]]
        # the run's own args are the truth; the name is only a label (and the fallback)
        value = runs[0].summary["args"].get(sweep.arg)
        if isinstance(value, bool) or not isinstance(value, NUMBER):
            value = m["value"]
        scores = [r.summary["normalized_score"] for r in runs if r.summary["normalized_score"] is not None]
        row = {
            "algorithm": algorithm, "env_id": env_id, "value": float(value),
            "variant": ", ".join(x for x in (m["variant"], flags) if x),
            "runs": len(runs), "diverged": sum(r.summary["status"] == "diverged" for r in runs),
            "score_mean": None, "score_mean_ci": None,
            "return_mean": float(np.mean([r.summary["return_mean"] for r in runs])),
        }
        if scores:
            points, cis = bootstrap([np.array(scores)[:, None]], iqm_and_mean, reps, seed)
            row["score_mean"] = float(points[1])
            if len(scores) > 1:
                row["score_mean_ci"] = [float(cis[0, 1]), float(cis[1, 1])]
        out.setdefault(m["prefix"], []).append(row)
    for rows in out.values():
        rows.sort(key=lambda r: (sort_key(r["env_id"]), r["variant"], r["value"]))
    return {name: out[name] for name in SWEEPS if name in out}


def plot_sweep(name: str, rows: list[dict], path: Path) -> Optional[str]:
    """Final normalised score against the swept value, one line per (maze, variant)."""
    sweep = SWEEPS[name]
    lines: dict[str, list[dict]] = {}
    for row in rows:
        if row["score_mean"] is not None:
            label = env_label(row["env_id"]) + (f" {row['variant']}" if row["variant"] else "")
            lines.setdefault(label, []).append(row)
    if not lines:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, line in lines.items():
        x = np.array([r["value"] for r in line])
        y = np.array([r["score_mean"] for r in line])
        # seeds' spread as error bars; a single seed has none
        lo = np.array([y_ - r["score_mean_ci"][0] if r["score_mean_ci"] else 0.0 for r, y_ in zip(line, y)])
        hi = np.array([r["score_mean_ci"][1] - y_ if r["score_mean_ci"] else 0.0 for r, y_ in zip(line, y)])
        ax.errorbar(x, y, yerr=[lo, hi], marker="o", capsize=3, label=label)
    if sweep.xscale == "symlog":
        ax.set_xscale("symlog", linthresh=0.01)  # keeps α = 0 (plain DQN) on the axis
    elif sweep.xscale == "log" and all(r["value"] > 0 for r in rows):
        ax.set_xscale("log")
    ax.set_xlabel(sweep.label)
    ax.set_ylabel("normalised score (mean over seeds)")
    ax.set_title(f"{sweep.algorithm}: {sweep.label} sweep")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


# ---------------------------------------------------------------- markdown


def fmt(x: Optional[float], digits: int = 1) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def fmt_ci(point: Optional[float], ci: Optional[list]) -> str:
    if point is None:
        return "—"
    return f"{point:.1f} [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else f"{point:.1f} (1 seed)"


def fmt_runs(row: dict) -> str:
    return str(row["runs"]) + (f" ({row['diverged']} diverged)" if row.get("diverged") else "")


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def results_table(rows: list[dict]) -> str:
    header = [
        "algorithm", "experiment", "maze", "runs", "score IQM [95% CI]", "score mean [95% CI]",
        "return (mean ± sd)", "success rate", "wall time (s)", "SPS", "random return", "oracle return",
    ]
    body = [[
        r["algorithm"], r["exp_name"], r["env_id"], fmt_runs(r),
        fmt_ci(r["score_iqm"], r["score_iqm_ci"]), fmt_ci(r["score_mean"], r["score_mean_ci"]),
        fmt(r["return_mean"]) + (f" ± {r['return_sd']:.1f}" if r["return_sd"] is not None else ""),
        "—" if r["success_rate"] is None else fmt(100 * r["success_rate"], 0) + "%",
        fmt(r["wall_time_s"]), fmt(r["sps"], 0), fmt(r["random_return"]), fmt(r["oracle_return"]),
    ] for r in rows]
    return md_table(header, body)


def speed_table(rows: list[dict]) -> str:
    header = ["algorithm", "experiment", "maze", "runs", "wall time (s)", "env steps/s", "updates/s",
              "peak memory (MB)"]
    body = [[
        r["algorithm"], r["exp_name"], r["env_id"], str(r["runs"]), fmt(r["wall_time_s"]),
        fmt(r["sps"], 0), fmt(r["updates_per_s"], 0), fmt(r["peak_memory_mb"], 0),
    ] for r in rows]
    return md_table(header, body)


def phase_table(rows: list[dict]) -> str:
    algorithms = sorted({a for r in rows for a in r["scores"]}, key=lambda a: sort_key("", a))

    def steps(values: list) -> str:
        return " / ".join("—" if v is None else str(v) for v in sorted(values, key=lambda v: (v is None, v or 0)))

    body = [[r["env_id"], str(r["seed"]), steps(r["first_goal_step"]), steps(r["exploration_end_step"]),
             *[fmt(r["scores"].get(a)) for a in algorithms]] for r in rows]
    return md_table(["maze", "seed", "first goal (step)", "phase end (step)", *algorithms], body)


def coverage_table(rows: list[dict]) -> str:
    def cell(c):
        if c is None or c["coverage"] is None:
            return "—"
        return f"{c['coverage']:.2f} [{c['coverage_min']:.2f}, {c['coverage_max']:.2f}] ({counted(c['runs'], 'run')})"

    def speed(c):
        if c is None:
            return "—"
        mean = "never" if c["steps_to_target"] is None else f"{c['steps_to_target']:.0f}"
        return f"{mean} ({c['reached_target']} of {c['runs']})"

    body = [[r["env_id"], r["experiment"], cell(r.get("rnd")), cell(r.get("random")), speed(r.get("rnd")),
             speed(r.get("random"))] for r in rows]
    target = f"{COVERAGE_TARGET:.0%}"
    return md_table(["maze", "experiment", "RND coverage mean [min, max]", "random coverage mean [min, max]",
                     f"RND: steps to {target} (seeds)", f"random: steps to {target} (seeds)"], body)


def sweep_table(name: str, rows: list[dict]) -> str:
    body = [[
        r["env_id"], r["variant"] or "—", f"{r['value']:g}", fmt_runs(r),
        fmt_ci(r["score_mean"], r["score_mean_ci"]), fmt(r["return_mean"]),
    ] for r in rows]
    return md_table(["maze", "variant", SWEEPS[name].label, "runs", "score mean [95% CI]", "mean return"], body)


def display_path(p: Path) -> str:
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


# ---------------------------------------------------------------- report


def summary_counts(runs: list[Run], key: str, unrecorded: str) -> dict[str, int]:
    """How many runs each value of summary.json's `key` computed: `machine`, or `commit` ("+" for uncommitted
    changes to the scripts' Python files); runs without one (older, or outside git) count as `unrecorded`."""
    return dict(Counter(run.summary.get(key) or unrecorded for run in runs))


def counted(n: int, noun: str) -> str:
    """"1 run", "2 runs"."""
    return f"{n} {noun}{'s' * (n != 1)}"


def shown_commit(commit: str) -> str:
    return commit if commit == UNRECORDED_COMMIT else f"commit `{commit}`"


def describe_counts(counts: dict[str, int]) -> str:
    """Seeds give the same numbers only on the same kind of machine and the same code, so the report says which
    machines and commits computed the runs: "a (2 runs); b (1 run)"."""
    return "; ".join(f"{name} ({counted(n, 'run')})" for name, n in counts.items())


def write_report(runs: list[Run], skipped: list[tuple[Path, str]], out: Path, reps: int, seed: int,
                 command: str = "python report.py") -> dict:
    """Write results.md, results.json and the plots into out; return the JSON content."""
    out.mkdir(parents=True, exist_ok=True)
    groups = group_runs(runs)
    rows = [summarize_group(k, v, reps, seed) for k, v in groups.items()]
    aggregate = aggregate_scores(groups, reps, seed)
    coverage = coverage_rows(groups)
    phases = phase_rows(groups)
    sweeps = sweep_rows(groups, reps, seed)
    machines = summary_counts(runs, "machine", "an unrecorded machine")
    commits = summary_counts(runs, "commit", UNRECORDED_COMMIT)
    plots = {
        "learning_curves": plot_learning_curves(groups, out / "learning_curves.png", reps, seed),
        "interval_estimates": plot_interval_estimates(aggregate, out / "interval_estimates.png"),
        "coverage_heatmaps": plot_coverage(coverage, out / "coverage_heatmaps.png"),
        **{f"sweep_{n}": plot_sweep(n, r, out / f"sweep_{n}.png") for n, r in sweeps.items()},
    }
    for name in ("learning_curves", "interval_estimates", "coverage_heatmaps", *(f"sweep_{n}" for n in SWEEPS)):
        if plots.get(name) is None:  # an earlier report's plot would sit beside tables that no longer show it
            (out / f"{name}.png").unlink(missing_ok=True)

    md = [
        "# Results",
        "",
        f"`{command}`: {counted(len(runs), 'run')} in {counted(len(rows), 'group')}, {len(skipped)} skipped.",
        *([f"Computed on {describe_counts(machines)}."] if machines else []),
        *([f"Code at {describe_counts({shown_commit(c): n for c, n in commits.items()})}."] if commits else []),
        "Normalised score = 100·(R − R_random)/(R_oracle − R_random): 0 is the uniform-random policy, "
        "100 the oracle. "
        f"IQM and mean over seeds with 95% stratified-bootstrap confidence intervals (rliable, {reps} resamples); "
        "return, success rate, wall time and SPS are means over seeds.",
        "",
        "## Results table",
        "",
        results_table(rows) if rows else "No usable runs.",
    ]
    if aggregate:
        md += ["", "## Aggregate over mazes", "",
               md_table(["method", "mazes", "runs", "score IQM [95% CI]", "score mean [95% CI]"], [[
                   a["method"], ", ".join(a["mazes"]), fmt_runs(a),
                   fmt_ci(a["score_iqm"], a["score_iqm_ci"]), fmt_ci(a["score_mean"], a["score_mean_ci"]),
               ] for a in aggregate])]
        if plots["interval_estimates"]:
            md += ["", f"![interval estimates]({plots['interval_estimates']})"]
    if plots["learning_curves"]:
        md += ["", "## Learning curves", "", "IQM normalised score over seeds, 95% bootstrap band.", "",
               f"![learning curves]({plots['learning_curves']})"]
    if phases:
        md += ["", "## Exploration phases, seed by seed", "",
               "Default runs only. Steps from summary.json (`first_goal_step`: the first collected transition that "
               "reached the goal; `exploration_end_step`: where the exploration critic stopped collecting, 0 when "
               "learning from a dataset; — if none, or not recorded); scores are normalised.",
               "", phase_table(phases)]
    if coverage:
        md += ["", "## Coverage: RND against random exploration", "",
               "Fraction of free maze cells visited (summary.json `coverage`).", "", coverage_table(coverage)]
        if plots["coverage_heatmaps"]:
            md += ["", f"![state density: RND and random]({plots['coverage_heatmaps']})"]
    for name, sweep in sweeps.items():
        md += ["", f"## Sweep: {SWEEPS[name].label}", "", sweep_table(name, sweep)]
        if plots[f"sweep_{name}"]:
            md += ["", f"![{name}]({plots[f'sweep_{name}']})"]
    if rows:
        md += ["", "## Speed and memory", "", speed_table(rows)]
    md += ["", "## Skipped runs", ""]
    md += [f"- `{display_path(p)}`: {why}" for p, why in sorted(skipped)] or ["None."]
    text = "\n".join(md) + "\n"
    write_atomic(out / "results.md", text)

    data = {
        "machines": machines, "commits": commits, "groups": rows, "aggregate": aggregate, "phases": phases,
        "coverage": [{k: {kk: vv for kk, vv in v.items() if kk != "density"} if isinstance(v, dict) else v
                      for k, v in r.items()} for r in coverage],
        "sweeps": sweeps, "plots": {k: v for k, v in plots.items() if v},
        "skipped": [{"run": display_path(p), "reason": why} for p, why in sorted(skipped)],
    }
    write_atomic(out / "results.json", json.dumps(data, indent=2) + "\n")
    return {**data, "markdown": text}


def write_atomic(path: Path, text: str) -> None:
    # a reader (or a crash) never sees half a file
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: Optional[list[str]] = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:  # every bad input gets one line and exit status 2
        if pointmass is not None:  # a misspelt flag or a wrong type in one line, before tyro's box of help text
            try:
                pointmass.check_flags(argv, Args, "report.py", positionals=True)
            except ValueError as err:
                raise ReportError(str(err)) from None
        args = tyro.cli(Args, args=argv, description=__doc__.split("\n\n")[0])
        if not args.runs_dirs:
            raise ReportError("give at least one RUNS_DIR")
        if args.reps < 1:
            raise ReportError(f"--reps must be >= 1, got {args.reps}")
        if not 0 <= args.seed < 2**32:
            raise ReportError(f"--seed must be in [0, 2**32 - 1], got {args.seed}")
        out = Path(args.out).absolute()
        taken = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
        if taken is not None:
            raise ReportError(f"--out {args.out}: {taken} exists and is not a directory")
        runs, skipped = load_runs([Path(p) for p in args.runs_dirs])
        if not runs and not skipped:  # an empty report would overwrite --out's tables with nothing
            raise ReportError(f"no run directory under {' '.join(args.runs_dirs)}; nothing written to {args.out}")
    except ReportError as err:
        print(f"report.py: error: {err}", file=sys.stderr)
        raise SystemExit(2)
    command = "python report.py " + " ".join(args.runs_dirs) + f" --out {args.out}"
    result = write_report(runs, skipped, Path(args.out), args.reps, args.seed, command)
    # the terminal gets the tables; image links only make sense inside results.md
    print("\n".join(line for line in result["markdown"].splitlines() if not line.startswith("![")))
    print(f"report written to {Path(args.out) / 'results.md'}")
    return result


if __name__ == "__main__":
    main()
