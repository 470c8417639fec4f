"""Every algorithm script runs on any gymnasium env with a Box observation space and a Discrete action space,
whatever the Box's shape: make_env flattens an image or a grid, and the Minari datasets follow."""
import gymnasium as gym
import minari
import numpy as np
import pytest

import awac
import iql
import rnd_cql

SCRIPTS = {"rnd_cql": rnd_cql, "awac": awac, "iql": iql}


class GridEnv(gym.Env):
    """A 3x4 one-hot grid of the agent's cell; action 1 moves one cell on (row-major), action 0 stays; the last
    cell ends the episode with reward 1."""

    observation_space = gym.spaces.Box(0.0, 1.0, (3, 4), np.float32)
    action_space = gym.spaces.Discrete(2)

    def _obs(self) -> np.ndarray:
        grid = np.zeros((3, 4), np.float32)
        grid.flat[self.cell] = 1.0
        return grid

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.cell = 0
        return self._obs(), {}

    def step(self, action):
        self.cell = min(self.cell + int(action), 11)
        return self._obs(), float(self.cell == 11), self.cell == 11, False, {}


gym.register("test/Grid-v0", entry_point=f"{__name__}:GridEnv", max_episode_steps=30)


@pytest.mark.parametrize("script", SCRIPTS)
def test_make_env_flattens_a_grid_and_leaves_a_vector_alone(script):
    grid, vector = SCRIPTS[script].make_env("test/Grid-v0"), SCRIPTS[script].make_env("CartPole-v1")
    assert isinstance(grid, gym.wrappers.FlattenObservation)
    assert grid.observation_space == gym.spaces.Box(0.0, 1.0, (12,), np.float32)
    assert grid.reset(seed=0)[0].tolist() == [1.0] + [0.0] * 11
    assert not isinstance(vector, gym.wrappers.FlattenObservation) and vector.observation_space.shape == (4,)


@pytest.mark.parametrize("script", SCRIPTS)
def test_runs_on_a_grid_observation_and_its_dataset_round_trips(script, tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    module = SCRIPTS[script]
    common = dict(env_id="test/Grid-v0", batch_size=32, eval_episodes=10, progress=False, runs_dir=str(tmp_path))
    online = module.train(module.Args(**common, total_steps=700, num_exploration_steps=300, learning_starts=100,
                                      rnd_hidden=32, save_dataset_id="test/grid-v0"))
    assert online["status"] == "completed" and 0.0 <= online["return_mean"] <= 1.0
    assert online["normalized_score"] is None and online["coverage"] is None  # no pointmass extras

    dataset = minari.load_dataset("test/grid-v0")
    assert dataset.total_steps == 300
    assert dataset.observation_space == gym.spaces.Box(0.0, 1.0, (12,), np.float32)  # as the data are stored
    episode = next(dataset.iterate_episodes())
    assert episode.observations.shape == (len(episode.actions) + 1, 12)
    assert episode.observations[0].tolist() == [1.0] + [0.0] * 11  # the one-hot start cell, row-major
    assert dataset.recover_environment().observation_space.shape == (12,)  # the flattening is in the spec

    offline = module.train(module.Args(**common, total_steps=60, dataset_id="test/grid-v0"))
    assert offline["status"] == "completed" and 0.0 <= offline["return_mean"] <= 1.0


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_id_whose_module_is_missing_is_a_config_error(script):
    """gymnasium imports the module of an id written "module:Name-v0" and lets its ImportError through."""
    module = SCRIPTS[script]
    expected = "^--env-id 'no_such_module:Grid-v0' cannot be imported \\(No module named 'no_such_module'"
    with pytest.raises(module.ConfigError, match=expected):
        module.make_env("no_such_module:Grid-v0")


class ShiftedActionsEnv(GridEnv):
    """GridEnv whose actions are numbered 1 and 2 (gymnasium's Discrete(n, start))."""

    action_space = gym.spaces.Discrete(2, start=1)


gym.register("test/ShiftedActions-v0", entry_point=f"{__name__}:ShiftedActionsEnv", max_episode_steps=30)


@pytest.mark.parametrize("script", SCRIPTS)
def test_actions_that_do_not_start_at_zero_are_a_config_error(script, tmp_path):
    """The networks' outputs index the actions from 0: such an env would crash mid-run (action 2 is output 1)."""
    module = SCRIPTS[script]
    with pytest.raises(module.ConfigError, match="^--env-id must have a Discrete action space that starts at 0, "
                                                 "test/ShiftedActions-v0's starts at 1$"):
        module.train(module.Args(env_id="test/ShiftedActions-v0", runs_dir=str(tmp_path / "runs")))
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("script", SCRIPTS)
def test_learning_starts_at_or_after_the_last_step_is_a_config_error(script, tmp_path):
    """Such a run would collect random data and never take a gradient step."""
    module = SCRIPTS[script]
    with pytest.raises(module.ConfigError, match=r"^--learning-starts must be below --total-steps \(3000\), got 3000"):
        module.check_args(module.Args(total_steps=3000, num_exploration_steps=1000, learning_starts=3000))
    module.check_args(module.Args(total_steps=3000, num_exploration_steps=0, learning_starts=2996))


@pytest.mark.parametrize("script, flags, above", [
    ("rnd_cql", dict(learning_starts=2998, train_frequency=3), 3000),  # updates at steps t = 0, 3, ..., 2997, 3000
    ("rnd_cql", dict(learning_starts=2997, train_frequency=3), None),
    ("iql", dict(learning_starts=100, num_exploration_steps=2999, train_frequency=2), 3000),  # after the phase
    ("iql", dict(learning_starts=2999, num_exploration_steps=0, train_frequency=2), 3000),
    ("iql", dict(learning_starts=100, num_exploration_steps=2998, train_frequency=2), None),
    ("awac", dict(learning_starts=100, num_exploration_steps=2997, train_frequency=7), 3003),  # t = 2996, 3003, ...
    ("awac", dict(learning_starts=2997, num_exploration_steps=0, train_frequency=7), 3003),
    ("awac", dict(learning_starts=100, num_exploration_steps=2996, train_frequency=7), None)])
def test_a_run_whose_update_steps_all_fall_past_the_last_step_is_a_config_error(script, flags, above, tmp_path):
    """Updates come every --train-frequency steps from --learning-starts on (in awac.py and iql.py after the phase):
    a run that would end before the first is refused, with the --total-steps it needs; one step earlier is fine."""
    module = SCRIPTS[script]
    args = module.Args(**flags, total_steps=3000, batch_size=32)
    if above is None:
        module.check_args(args)
    else:
        with pytest.raises(module.ConfigError, match=rf"^--total-steps must be above {above}, got 3000: with "):
            module.check_args(args)


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_phase_that_never_ends_says_so_in_the_summary(script, tmp_path):
    """Hard's goal is hundreds of steps beyond what 600 steps of exploration reach, so an extended phase fills the
    run: awac.py and iql.py then never train, and summary.json must say why instead of a bare 'completed'."""
    module = SCRIPTS[script]
    common = dict(env_id="PointmassHard-v0", total_steps=600, num_exploration_steps=100, learning_starts=100,
                  eval_every=10_000, eval_episodes=5, batch_size=32, explore_batch_size=32, rnd_hidden=32,
                  progress=False)
    extended = module.train(module.Args(**common, runs_dir=str(tmp_path / "a")))
    assert extended["status"] == "completed" and extended["exploration_end_step"] is None
    assert extended["first_goal_step"] is None
    assert extended["reason"].startswith("the exploration phase lasted the whole run: its data never reached the goal")
    if script != "rnd_cql":  # their learners wait for the phase's end (rnd_cql.py's critic trains from the start)
        assert extended["num_updates"] == 0 and extended["reason"].endswith("took 0 updates")
    fixed = module.train(module.Args(**common, extend_exploration=False, runs_dir=str(tmp_path / "b")))
    assert fixed["status"] == "completed" and fixed["reason"] is None and fixed["exploration_end_step"] == 100
    assert fixed["num_updates"] > 0


@pytest.mark.parametrize("script", SCRIPTS)
def test_coverage_is_logged_every_1000_steps_and_ends_in_the_summary(script, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    module = SCRIPTS[script]
    summary = module.train(module.Args(env_id="PointmassEasy-v0", total_steps=2000, num_exploration_steps=1000,
                                       learning_starts=500, eval_every=10_000, eval_episodes=5, batch_size=32,
                                       rnd_hidden=32, progress=False, runs_dir=str(tmp_path)))
    ea = EventAccumulator(summary["run_dir"], size_guidance={"scalars": 0})
    ea.Reload()
    logged = ea.Scalars("exploration/coverage")
    assert [e.step for e in logged] == [1000, 2000]
    assert logged[0].value <= logged[1].value == pytest.approx(summary["coverage"])


class LockEnv(gym.Env):
    """A combination lock of 6 one-hot cells: action 1 moves one cell on, action 0 back to the first; the last
    cell ends the episode with reward 1. Deterministic, so a greedy policy scores 1 on every episode or on none."""

    observation_space = gym.spaces.Box(0.0, 1.0, (6,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def _obs(self) -> np.ndarray:
        return np.eye(6, dtype=np.float32)[self.cell]

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.cell = 0
        return self._obs(), {}

    def step(self, action):
        self.cell = self.cell + 1 if action == 1 else 0
        return self._obs(), float(self.cell == 5), self.cell == 5, False, {}


gym.register("test/Lock-v0", entry_point=f"{__name__}:LockEnv", max_episode_steps=10)


def test_every_script_learns_a_non_pointmass_task_from_a_dataset(tmp_path, monkeypatch):
    """From 6 000 steps of a behaviour that presses 0 more often than 1 (so that copying its likelier action fails;
    it opens the lock in 3% of its episodes), 2 000 updates take each script's greedy policy to the goal in every
    episode. The reward is 0 or 1, so the Pointmass shift of -1 per step is switched off; gamma 0.9 makes
    pressing 0 cost a clear margin. In a trial (seeds 1 to 6) every script solved it after 1 000, 2 000 and
    3 000 updates, and none after 50."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    env, rng = rnd_cql.make_env("test/Lock-v0"), np.random.default_rng(0)
    buffer, returns, episode_return = rnd_cql.ReplayBuffer(6, 6_000), [], 0.0
    obs, _ = env.reset(seed=0)
    for _ in range(6_000):
        action = int(rng.random() < 0.4)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, next_obs, action, reward, terminated, truncated)
        obs, episode_return = next_obs, episode_return + reward
        if terminated or truncated:
            (obs, _), returns, episode_return = env.reset(), returns + [episode_return], 0.0
    buffer.to_minari("test/lock-v0", env)
    assert 0.01 < np.mean(returns) < 0.06
    for script, module in SCRIPTS.items():
        summary = module.train(module.Args(env_id="test/Lock-v0", dataset_id="test/lock-v0", total_steps=2_000,
                                           batch_size=64, gamma=0.9, exploit_rew_shift=0.0, eval_every=10**6,
                                           eval_episodes=10, progress=False, runs_dir=str(tmp_path / "runs")))
        assert summary["status"] == "completed" and summary["num_updates"] == 2_000, script
        assert summary["return_mean"] == 1.0, script
