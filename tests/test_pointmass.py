"""Tests of pointmass.py: env semantics, vector env, oracle, reference returns, plots, datasets, bad input."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import pointmass as pm

ROOT = Path(__file__).resolve().parents[1]


def run_actions(env, actions, seed):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        out.append(obs)
        if terminated or truncated:
            break
    return np.array(out)


@pytest.mark.parametrize("env_id", pm.ENV_IDS)
@pytest.mark.parametrize("render_mode", [None, "rgb_array"])
def test_check_env_passes_with_warnings_as_errors(env_id, render_mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(env_id, render_mode=render_mode).unwrapped)


@pytest.mark.parametrize("env_id", pm.ENV_IDS)
def test_spaces_and_registration(env_id):
    env = gym.make(env_id)
    assert env.observation_space == gym.spaces.Box(0, 1, (2,), np.float32)
    assert env.action_space == gym.spaces.Discrete(5)
    assert env.spec.max_episode_steps == pm.HORIZONS[env_id]
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    maze = env.unwrapped.maze
    np.testing.assert_allclose(obs, maze.start / (maze.height, maze.width), rtol=1e-6)


def test_same_seed_same_trajectory_different_seed_differs():
    env = gym.make("PointmassHard-v0")
    actions = np.random.default_rng(0).integers(5, size=100)
    a, b, c = run_actions(env, actions, 3), run_actions(env, actions, 3), run_actions(env, actions, 4)
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


@settings(max_examples=40, deadline=None)
@given(env_id=st.sampled_from(pm.ENV_IDS), seed=st.integers(0, 2**31 - 1),
       actions=st.lists(st.integers(0, 4), min_size=1, max_size=200))
def test_random_actions_never_enter_walls_or_leave_the_maze(env_id, seed, actions):
    env = gym.make(env_id, max_episode_steps=1000)
    maze = env.unwrapped.maze
    obs = run_actions(env, actions, seed)
    assert ((obs >= 0) & (obs <= 1)).all()
    assert not maze.blocked(obs.astype(np.float64) * (maze.height, maze.width)).any()
    assert not maze.blocked(np.array(env.unwrapped._path)).any()


def test_goal_terminates_with_reward_zero_and_time_limit_truncates():
    env = gym.make("PointmassEasy-v0")
    obs, _ = env.reset(seed=0)
    rewards = []
    for _ in range(50):
        obs, reward, terminated, truncated, _ = env.step(pm.oracle_action(env, obs))
        rewards.append(reward)
        if terminated or truncated:
            break
    assert terminated and not truncated
    assert rewards[-1] == 0.0 and set(rewards[:-1]) == {-1.0}
    maze = env.unwrapped.maze
    assert np.linalg.norm(obs * (maze.height, maze.width) - maze.goal) < maze.goal_radius + 1e-5

    env.reset(seed=0)
    for t in range(50):  # "stay" never reaches the goal from the start on Easy
        _, reward, terminated, truncated, _ = env.step(0)
        assert reward == -1.0 and not terminated
        assert truncated == (t == 49)


def test_dense_reward_is_minus_distance():
    env = pm.PointmassEnv("Small", start=(0.5, 0.5), goal=(3.5, 3.5), action_noise=0.0, dense_reward=True)
    env.reset(seed=0)
    _, reward, _, _, _ = env.step(4)  # +x is +row: (1.5, 0.5)
    assert reward == pytest.approx(-np.hypot(2.0, 3.0))


def test_noise_free_moves_and_walls_by_hand():
    env = pm.PointmassEnv(np.array([[0, 1], [0, 0]]), start=(0.5, 0.5), goal=(1.5, 1.5), goal_radius=0.1,
                          action_noise=0.0)
    env.reset(seed=0)
    # Sub-steps of 0.1 stop the point within one sub-step of a wall's face, never past it.
    obs, *_ = env.step(2)  # +y towards the wall cell (0, 1)
    assert obs[0] * 2 == pytest.approx(0.5) and 0.9 < obs[1] * 2 <= 1.0
    obs, *_ = env.step(4)  # +x: one cell down, free
    assert obs[0] * 2 == pytest.approx(1.5) and 0.9 < obs[1] * 2 <= 1.0
    obs, *_ = env.step(4)  # +x again: stopped by the maze's edge at row 2
    assert 1.9 - 1e-6 <= obs[0] * 2 <= 2.0
    obs, *_ = env.step(0)  # stay
    assert 1.9 - 1e-6 <= obs[0] * 2 <= 2.0


@pytest.mark.parametrize("env_id", pm.ENV_IDS)
def test_oracle_reaches_the_goal_in_99_percent(env_id):
    result = pm.rollout(env_id, pm.OraclePolicy(env_id), episodes=300, seed=1)
    assert result["success"].mean() >= 0.99


@pytest.mark.parametrize("env_id", pm.ENV_IDS)
def test_reference_returns_agree_within_monte_carlo_error(env_id):
    n = 400
    for k, policy in enumerate((pm.random_policy(123), pm.OraclePolicy(env_id))):
        returns = pm.rollout(env_id, policy, episodes=n, seed=123)["returns"]
        # The stored constants come from 2000 episodes: both estimates carry sampling error.
        tol = 4 * returns.std(ddof=1) * np.sqrt(1 / n + 1 / 2000) + 1e-9
        assert abs(returns.mean() - pm.REF_RETURNS[env_id][k]) <= tol


def test_normalized_score_scalar_and_array():
    lo, hi = pm.REF_RETURNS["PointmassHard-v0"]
    assert pm.normalized_score("PointmassHard-v0", lo) == pytest.approx(0.0)
    assert pm.normalized_score("PointmassHard-v0", hi) == pytest.approx(100.0)
    np.testing.assert_allclose(pm.normalized_score("PointmassHard-v0", np.array([lo, (lo + hi) / 2, hi])),
                               [0.0, 50.0, 100.0])
    with pytest.raises(ValueError, match="env_id"):
        pm.normalized_score("CartPole-v1", 0.0)


def test_vector_env_matches_single_env_exactly_without_noise():
    rng = np.random.default_rng(0)
    n, steps = 6, 400
    vec = gym.make_vec("PointmassMedium-v0", num_envs=n, action_noise=0.0, max_episode_steps=30)
    assert isinstance(vec, pm.PointmassVectorEnv)
    singles = [gym.make("PointmassMedium-v0", action_noise=0.0, max_episode_steps=30) for _ in range(n)]
    vobs, _ = vec.reset(seed=0)
    sobs = [e.reset(seed=0)[0] for e in singles]
    needs_reset, resets = np.zeros(n, dtype=bool), 0
    for _ in range(steps):
        actions = rng.integers(5, size=n)
        vobs, vrew, vterm, vtrunc, _ = vec.step(actions)
        for i, env in enumerate(singles):
            if needs_reset[i]:  # NEXT_STEP autoreset: this step only resets
                expected = (env.reset()[0], 0.0, False, False)
            else:
                expected = env.step(actions[i])[:4]
            np.testing.assert_array_equal(vobs[i], expected[0])
            assert (vrew[i], vterm[i], vtrunc[i]) == tuple(expected[1:4])
        needs_reset = vterm | vtrunc
        resets += needs_reset.sum()
    assert resets > n  # the comparison went through many autoresets


def test_vector_env_with_one_env_draws_the_same_noise_as_the_single_env():
    actions = np.random.default_rng(1).integers(5, size=300)
    vec = gym.make_vec("PointmassHard-v0", num_envs=1)
    single = gym.make("PointmassHard-v0")
    vobs, _ = vec.reset(seed=7)
    sobs, _ = single.reset(seed=7)
    for a in actions:
        vobs, *_ = vec.step(np.array([a]))
        sobs, _, terminated, truncated, _ = single.step(a)
        np.testing.assert_array_equal(vobs[0], sobs)
        if terminated or truncated:
            break


def test_vector_env_random_policy_mean_return_matches_single_env():
    env_id, n = "PointmassMedium-v0", 400
    vec_returns = pm.rollout(env_id, pm.random_policy(5), episodes=n, seed=5)["returns"]
    env, rng, single_returns = gym.make(env_id), np.random.default_rng(6), []
    env.reset(seed=6)
    for _ in range(n):
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(5)))
            total, done = total + reward, terminated or truncated
        single_returns.append(total)
        env.reset()
    se = np.sqrt(vec_returns.var(ddof=1) / n + np.var(single_returns, ddof=1) / n)
    assert abs(vec_returns.mean() - np.mean(single_returns)) <= 4 * se


def test_coverage_counts_free_cells():
    maze = pm._maze_of("PointmassEasy-v0")
    free = np.argwhere(~maze.walls)
    centres = (free + 0.5) / (maze.height, maze.width)
    assert pm.coverage("PointmassEasy-v0", centres) == 1.0
    assert pm.coverage("PointmassEasy-v0", centres[:1]) == pytest.approx(1 / len(free))
    assert pm.coverage(gym.make("PointmassEasy-v0"), np.empty((0, 2))) == 0.0


def test_plots_return_rgb_arrays_and_write_pngs(tmp_path):
    obs = pm.rollout("PointmassHard-v0", pm.random_policy(0), episodes=20, seed=0, record=20)["paths"]
    images = [
        pm.plot_state_density("PointmassHard-v0", np.concatenate(obs), path=tmp_path / "a.png"),
        pm.plot_value_map("PointmassHard-v0", lambda o: o.sum(1), path=tmp_path / "b.png", title="r + c"),
        pm.plot_trajectories("PointmassHard-v0", obs[:3], path=tmp_path / "c.png"),
    ]
    for img, name in zip(images, "abc"):
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.std() > 0
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    env = gym.make("PointmassHard-v0", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(4)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape[2] == 3 and (frame == (220, 40, 40)).all(-1).any()


@pytest.mark.parametrize("kwargs, match", [
    (dict(maze="Nope"), "unknown layout"),
    (dict(maze=np.array([[0, 2]])), "0 \\(free\\) and 1 \\(wall\\)"),
    (dict(maze=np.zeros(3)), "2-D"),
    (dict(maze=np.ones((2, 2))), "no free cell"),
    (dict(maze="Maze5x5", start=(1.5, 0.5)), "start.*inside a wall"),
    (dict(maze="Maze5x5", goal=(9.0, 9.0)), "goal.*outside"),
    (dict(maze=np.array([[0, 1, 0]]), start=(0.5, 0.5), goal=(0.5, 2.5)), "cannot be reached"),
    (dict(maze="Small", resize_factor=0), "resize_factor"),
    (dict(maze="Small", goal_radius=0), "goal_radius"),
    (dict(maze="Small", action_noise=-1), "action_noise"),
])
def test_bad_env_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pm.PointmassEnv(**kwargs)


def collect(*args, env=None):
    return subprocess.run([sys.executable, str(ROOT / "pointmass.py"), "collect", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT)


@pytest.fixture
def minari_dir(tmp_path, monkeypatch):
    path = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(path))
    return path


def test_dataset_round_trip(minari_dir):
    import minari

    args = ["--env-id", "PointmassEasy-v0", "--policy", "noisy-oracle", "--epsilon", "0.2", "--steps", "3000",
            "--dataset-id", "pointmass/easy-test-v0", "--seed", "0", "--num-envs", "16"]
    proc = collect(*args, env=os.environ)
    assert proc.returncode == 0, proc.stderr
    data = minari.load_dataset("pointmass/easy-test-v0")
    assert data.total_steps == 3000
    assert data.spec.observation_space == gym.spaces.Box(0, 1, (2,), np.float32)
    assert data.spec.action_space == gym.spaces.Discrete(5)
    expected = pm.collect_episodes(pm.Collect(env_id="PointmassEasy-v0", epsilon=0.2, steps=3000, seed=0,
                                              num_envs=16))
    loaded = list(data.iterate_episodes())
    assert len(loaded) == len(expected)
    for got, want in zip(loaded, expected):
        for key in ("observations", "actions", "rewards", "terminations", "truncations"):
            np.testing.assert_array_equal(getattr(got, key), want[key])
        assert got.terminations[-1] or got.truncations[-1]
        assert not (got.terminations[:-1] | got.truncations[:-1]).any()
    # Successive observations are one step apart: the autoreset steps are not in the data.
    maze = pm._maze_of("PointmassEasy-v0")
    for ep in loaded:
        assert (np.abs(np.diff(ep.observations, axis=0)) * maze.height < 4).all()
        np.testing.assert_allclose(ep.observations[0], maze.start / maze.height, rtol=1e-6)


@pytest.mark.parametrize("args, flag", [
    (["--dataset-id", "no-version"], "--dataset-id"),
    (["--env-id", "CartPole-v1", "--dataset-id", "x/y-v0"], "--env-id"),
    (["--epsilon", "1.5", "--dataset-id", "x/y-v0"], "--epsilon"),
    (["--policy", "oracle", "--epsilon", "0.1", "--dataset-id", "x/y-v0"], "--epsilon"),  # it would be ignored
    (["--steps", "0", "--dataset-id", "x/y-v0"], "--steps"),
    (["--num-envs", "0", "--dataset-id", "x/y-v0"], "--num-envs"),
    (["--seed", "-1", "--dataset-id", "x/y-v0"], "--seed"),
    (["--dataset-id", ""], "--dataset-id"),  # not the default id
    (["--steps", str(10**15), "--dataset-id", "x/y-v0"], "--steps"),  # petabytes: refused, not a MemoryError
])
def test_bad_collect_flags_give_one_line_and_exit_2(minari_dir, args, flag):
    proc = collect(*args, env=os.environ)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0]
    assert not minari_dir.exists() or not any(minari_dir.rglob("*-v*"))


@pytest.mark.parametrize("args, flag", [
    (["refs", "--episodes", "0"], "--episodes"),
    (["refs", "--seed", "-1"], "--seed"),
    (["bench", "--steps", "999"], "--steps"),
    (["bench", "--repeats", "0"], "--repeats"),
])
def test_bad_refs_and_bench_flags_give_one_line_and_exit_2(args, flag):
    proc = subprocess.run([sys.executable, str(ROOT / "pointmass.py"), *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pointmass.py {args[0]}: error: {flag}")


@pytest.mark.parametrize("argv, message", [
    (["colect"], "pointmass.py: error: colect is not a subcommand; did you mean collect?"),
    (["xyz"], "pointmass.py: error: xyz is not a subcommand (they are collect, show, refs, bench)"),
    (["collect", "--stpes", "3"], "pointmass.py collect: error: --stpes is not a flag of pointmass.py collect; "
                                  "did you mean --steps?"),
    (["collect", "--policy", "greedy"], "pointmass.py collect: error: --policy must be one of random, oracle, "
                                        "noisy-oracle, got 'greedy'"),
    (["collect", "--policy"], "pointmass.py collect: error: --policy needs a value: one of random, oracle, "
                              "noisy-oracle"),
    (["collect", "--epsilon", "None", "--steps", "1e5"], "pointmass.py collect: error: --steps must be an integer, "
                                                         "got '1e5'"),
    (["refs", "--episodes=x"], "pointmass.py refs: error: --episodes must be an integer, got 'x'"),
    (["collect", "--epsilon", "none"], "pointmass.py collect: error: --epsilon must be a number or None, got 'none'"),
    (["show", "3"], "pointmass.py show: error: 3 is not a flag of pointmass.py show: flags come as --name value "
                    "(see --help)"),
])
def test_a_misspelt_command_line_gets_one_line_not_tyros_box(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        pm.main(argv)
    assert exc.value.code == 2 and capsys.readouterr().err == message + "\n"


def test_check_flags_lets_through_what_tyro_parses():
    pm.check_flags(["--policy", "oracle", "--epsilon", "None", "--steps=1_000", "--dataset-id", "a/b-v0",
                    "--seed", "-3", "--env-id", "-_x"], pm.Collect, "pointmass.py collect")
    pm.check_flags(["--bogus", "--help"], pm.Collect, "pointmass.py collect")  # tyro prints the help
    pm.check_flags(["--seed", "3", "--", "--bogus"], pm.Refs, "pointmass.py refs")  # after --: tyro's to judge


def test_existing_dataset_id_is_refused_and_left_untouched(minari_dir):
    target = minari_dir / "pointmass" / "taken-v0"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("precious")
    proc = collect("--env-id", "PointmassEasy-v0", "--steps", "100", "--dataset-id", "pointmass/taken-v0",
                   env=os.environ)
    assert proc.returncode == 2 and "already exists" in proc.stderr
    assert (target / "keep.txt").read_text() == "precious"


def test_a_dataset_id_inside_an_existing_dataset_is_refused(minari_dir):
    """Minari would write it into that dataset's folder, where its own listing never finds it."""
    (minari_dir / "pointmass" / "ds-v0" / "data").mkdir(parents=True)
    proc = collect("--env-id", "PointmassEasy-v0", "--steps", "100", "--dataset-id", "pointmass/ds-v0/inner-v0",
                   env=os.environ)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "would lie inside the dataset at" in lines[0]
    assert sorted(p.name for p in (minari_dir / "pointmass" / "ds-v0").iterdir()) == ["data"]


def test_a_dataset_id_that_minari_would_refuse_is_refused_before_collecting(minari_dir):
    """A one-character namespace passes a simple [namespace/]name-vN pattern, but not Minari 0.5's own rules."""
    proc = collect("--env-id", "PointmassEasy-v0", "--steps", "100", "--dataset-id", "t/easy-v0", env=os.environ)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("pointmass.py collect: error: --dataset-id")
    assert not minari_dir.exists() or not any(minari_dir.rglob("*.hdf5"))


def test_a_collection_without_a_complete_episode_says_so(minari_dir):
    """500 steps over 100 sub-envs are 5 steps each: no Medium episode (horizon 150) ends, and none is averaged."""
    proc = collect("--env-id", "PointmassMedium-v0", "--steps", "500", "--dataset-id", "test/short-v0", env=os.environ)
    assert proc.returncode == 0 and "mean return of complete episodes - (none complete)" in proc.stdout
    assert "Warning" not in proc.stderr


def test_show_prints_every_maze_and_reference_returns():
    out = subprocess.run([sys.executable, str(ROOT / "pointmass.py")], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    for env_id, (lo, hi) in pm.REF_RETURNS.items():
        assert env_id in out and f"{hi:g}" in out
    # Easy: 9 free cells of Maze5x5, each split in 2x2; the radius-2 disc around (9, 9) holds rows and
    # columns 8-9 entirely (farthest corner at distance sqrt(2))
    assert "PointmassEasy-v0" in out and "36 free cells, 4 of them wholly inside the goal disc" in out


@pytest.mark.parametrize("bad", [-1, 5, 4.9])
def test_an_action_outside_the_space_is_refused_not_wrapped(bad):
    """ACTIONS[-1] is +x: without a check, action -1 would quietly move right in both envs, and 4.9 become 4."""
    env = gym.make("PointmassEasy-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.unwrapped.step(bad)
    envs = gym.make_vec("PointmassEasy-v0", num_envs=3)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="actions must be integers in 0..4"):
        envs.step(np.array([0, bad, 1]))


@pytest.mark.parametrize("env_id", pm.ENV_IDS)
def test_oracle_reaches_the_goal_without_action_noise_from_every_cell(env_id):
    """Without noise nothing shakes the planner out of a tie at a bend, or out of a wall it reads itself beyond
    (sliding leaves c = 8 - 1e-14, whose float32 observation reads 8 + 1e-7): from every free cell's centre, it
    must still arrive."""
    maze = pm._maze_of(env_id)
    for cell in np.argwhere(~maze.walls):
        env = gym.make(env_id, action_noise=0.0, start=tuple((cell + 0.5).tolist()))
        obs, _ = env.reset(seed=0)
        terminated = truncated = False
        while not (terminated or truncated):
            obs, _, terminated, truncated, _ = env.step(pm.oracle_action(env, obs))
        assert terminated, f"{env_id}: stuck from cell {tuple(cell)}"


def test_oracle_policy_plans_noise_free_only_for_a_noise_free_env():
    """The rule with noise is the one REF_RETURNS come from; an id or a Maze means the registered noise."""
    assert pm.OraclePolicy(gym.make("PointmassMedium-v0", action_noise=0.0)).noise_free
    assert pm.OraclePolicy(gym.make_vec("PointmassMedium-v0", num_envs=2, action_noise=0.0)).noise_free
    assert not pm.OraclePolicy("PointmassMedium-v0").noise_free
    assert not pm.OraclePolicy(gym.make("PointmassMedium-v0")).noise_free


@pytest.mark.parametrize("limit, truncates_at", [(None, None), (-1, None), (7, 7)])
def test_vector_env_time_limit_none_or_minus_one_is_no_limit(limit, truncates_at):
    """-1 is gym.make's "no TimeLimit" (before, the vector env truncated every step: t >= -1). None differs from
    gym.make's, which keeps the id's horizon: make_vec hands an explicit None to the vector entry point as is."""
    envs = gym.make_vec("PointmassEasy-v0", num_envs=2, max_episode_steps=limit)
    envs.reset(seed=0)
    truncated = [bool(envs.step(np.zeros(2, dtype=int))[3].any()) for _ in range(60)]
    assert truncated.index(True) + 1 == truncates_at if truncates_at else not any(truncated)


@pytest.mark.parametrize("limit", [0, -2, 2.5])
def test_vector_env_refuses_a_meaningless_time_limit(limit):
    with pytest.raises(ValueError, match="max_episode_steps: must be a positive integer, None or -1"):
        gym.make_vec("PointmassEasy-v0", num_envs=2, max_episode_steps=limit)


def test_vector_env_reset_mask_resets_only_those_sub_envs():
    envs = gym.make_vec("PointmassEasy-v0", num_envs=3)
    envs.reset(seed=0)
    for _ in range(3):
        moved, *_ = envs.step(np.full(3, 4))
    obs, _ = envs.reset(options={"reset_mask": np.array([True, False, True])})
    start = (pm._maze_of("PointmassEasy-v0").start / 10).astype(np.float32)
    np.testing.assert_array_equal(obs[[0, 2]], [start, start])
    np.testing.assert_array_equal(obs[1], moved[1])
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": np.array([1, 0, 1])})


def test_single_and_vector_env_compute_the_goal_distance_alike():
    """math.hypot and np.linalg.norm differ in the last bit for some positions: the dense reward (and, at the
    disc's rim, termination) must not depend on which env computed it."""
    env = gym.make("PointmassEasy-v0", dense_reward=True, action_noise=0.0).unwrapped
    envs = gym.make_vec("PointmassEasy-v0", num_envs=1, dense_reward=True, action_noise=0.0)
    rng = np.random.default_rng(0)
    for pos in rng.uniform(0, 10, (2000, 2)):
        env._pos, envs.unwrapped._pos[0] = tuple(pos.tolist()), pos
        assert env.step(0)[1] == envs.step(np.zeros(1, dtype=int))[1][0]
        envs.unwrapped._autoreset[0] = False


def test_oracle_policy_answers_one_observation_with_an_int():
    env = gym.make("PointmassEasy-v0")
    obs, _ = env.reset(seed=0)
    single = pm.OraclePolicy(env)(obs)
    assert isinstance(single, int) and single == pm.oracle_action(env, obs)
    assert pm.OraclePolicy(env)(obs[None]).shape == (1,)
