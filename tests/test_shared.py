"""The pieces that every algorithm script carries are the same text in each.

DESIGN.md accepts duplication between scripts, so that a reader finds a whole algorithm in one file; it
does not accept copies that drift apart, so that a fix in one script reaches all three. A piece listed here
is copied between the scripts as is; a piece that must differ (Args, check_args, train) is not listed, but
the flags that every script has read the same in each --help and are refused with the same message.
"""
import ast
import inspect
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

import awac
import iql
import rnd_cql

SCRIPTS = {"rnd_cql": rnd_cql, "awac": awac, "iql": iql}
SHARED = ["ConfigError", "check_common_args", "make_env", "Tanh", "mlp", "FourierMLP", "rnd_networks", "ReplayBuffer",
          "parse_args", "check_new_dataset_id", "evaluate", "exploration_schedule", "reward_weights", "rnd_bonus",
          "double_dqn_target", "make_run_dir", "sigint_ignored", "write_json", "machine", "code_commit"]


@pytest.mark.parametrize("name", SHARED)
def test_a_shared_piece_is_the_same_text_in_every_script(name):
    sources = {script: inspect.getsource(getattr(module, name)) for script, module in SCRIPTS.items()}
    assert all(getattr(module, name).__module__ == script for script, module in SCRIPTS.items())  # not imported
    differ = [script for script, source in sources.items() if source != sources["rnd_cql"]]
    assert differ == [], f"{name} in {differ} differs from rnd_cql.py's"


def test_the_update_schedule_after_a_phase_is_the_same_text_in_awac_and_iql():
    """rnd_cql.py's CQL critic learns from --learning-starts on, through the phase, so it has no phase to wait for."""
    assert inspect.getsource(awac.update_due) == inspect.getsource(iql.update_due)
    assert awac.update_due.__module__ == "awac" and iql.update_due.__module__ == "iql"


def test_the_shared_buffer_samples_in_one_order():
    """(s, a, r, s', terminated, extra) everywhere: a batch line copied from one script means the same in another."""
    buffer = rnd_cql.ReplayBuffer(2, 4, extra_dim=1)
    for i in range(4):  # transition i: s = (i, 0), a = i % 3, r = -i, s' = (i + 1, 0), terminated at i = 3
        buffer.add([i, 0], [i + 1, 0], i % 3, -1.0 * i, i == 3, False, [10 * i])
    s, a, r, s_next, term, extra = buffer.sample(8, np.random.default_rng(0), "cpu")
    i = s[:, 0]
    assert a.tolist() == (i.long() % 3).tolist() and r.tolist() == (-i).tolist()
    assert s_next[:, 0].tolist() == (i + 1).tolist() and term.tolist() == (i == 3).float().tolist()
    assert extra[:, 0].tolist() == (10 * i).tolist()



def test_the_head_of_a_batch_is_its_first_rows_of_every_part():
    """One draw of the larger size serves two learners: the smaller takes the first rows of s, a, r, s', ..."""
    buffer = rnd_cql.ReplayBuffer(2, 10, extra_dim=1)
    for i in range(10):
        buffer.add([i, 0], [i + 1, 0], i % 5, -1.0 * i, False, False, [i])
    drawn = buffer.sample(8, np.random.default_rng(0), "cpu")
    head = rnd_cql.ReplayBuffer.head(drawn, 3)
    assert len(head) == len(drawn) == 6
    assert all(len(h) == 3 and torch.equal(h, d[:3]) for h, d in zip(head, drawn))
    assert head[1].tolist() == (head[0][:, 0].long() % 5).tolist()  # still whole transitions

def args_fields(module) -> dict:
    """Each Args field as (annotation, default, docstring), read from the source: what --help shows."""
    body = ast.parse(inspect.getsource(module.Args)).body[0].body
    return {field.target.id: (ast.unparse(field.annotation), ast.unparse(field.value), after.value.value)
            for field, after in zip(body, body[1:]) if isinstance(field, ast.AnnAssign)}


FIELDS = {script: args_fields(module) for script, module in SCRIPTS.items()}
IN_EVERY_SCRIPT = [name for name in FIELDS["rnd_cql"] if all(name in fields for fields in FIELDS.values())]
# flags of every script whose default and help belong to its algorithm (its networks, its tuned values)
OWN = {"save_model", "gamma", "learning_rate", "exploit_rew_shift", "fourier_features", "target_update_period",
            "train_frequency"}


def test_the_common_flags_come_in_one_order():
    assert len(IN_EVERY_SCRIPT) >= 35 and OWN < set(IN_EVERY_SCRIPT)
    orders = {script: [name for name in fields if name in IN_EVERY_SCRIPT] for script, fields in FIELDS.items()}
    assert orders["awac"] == orders["rnd_cql"] and orders["iql"] == orders["rnd_cql"]


@pytest.mark.parametrize("name", IN_EVERY_SCRIPT)
def test_a_common_flag_reads_the_same_in_every_script(name):
    """The same type, default and --help everywhere; the same type for an algorithm's own flag."""
    seen = {script: fields[name][:1] if name in OWN else fields[name] for script, fields in FIELDS.items()}
    differ = [script for script, value in seen.items() if value != seen["rnd_cql"]]
    assert differ == [], f"--{name.replace('_', '-')} in {differ} differs from rnd_cql.py's: {seen}"


# a value of a common flag that every script refuses (check_common_args runs before a script's own checks)
BAD = [({"total_steps": 0}, "--total-steps must be >= 1, got 0"),
       ({"batch_size": 0}, "--batch-size must be >= 1, got 0"),
       ({"rnd_layers": 0}, "--rnd-layers must be >= 1, got 0"),
       ({"explore_target_update_period": 0}, "--explore-target-update-period must be >= 1, got 0"),
       ({"train_frequency": 0}, "--train-frequency must be >= 1, got 0"),
       ({"num_exploration_steps": -1}, "--num-exploration-steps must be >= 0, got -1"),
       ({"fourier_features": -1}, "--fourier-features must be >= 0, got -1"),
       ({"eps": 1.5}, "--eps must be in [0, 1], got 1.5"),
       ({"rnd_gamma": -0.1}, "--rnd-gamma must be in [0, 1], got -0.1"),
       ({"learning_rate": 0.0}, "--learning-rate must be > 0, got 0.0"),
       ({"fourier_sigma": -1.0}, "--fourier-sigma must be > 0, got -1.0"),
       ({"learning_starts": 50_000}, "--learning-starts must be below --total-steps (50000), got 50000: no gradient "
                                     "step would be taken"),
       ({"dataset_id": ""}, "--dataset-id must be a Minari dataset id such as pointmass/hard-noisy-oracle-v0, got ''"),
       ({"save_dataset_id": ""},
        "--save-dataset-id must be a Minari dataset id such as pointmass/hard-noisy-oracle-v0, got ''"),
       ({"dataset_id": "a/b-v0", "save_dataset_id": "a/c-v0"},
        "--save-dataset-id cannot be combined with --dataset-id (nothing is collected)"),
       ({"save_dataset_id": "a/c-v0", "num_exploration_steps": 0},
        "--save-dataset-id needs --num-exploration-steps > 0 (it saves that phase's data)"),
       ({"offline_exploitation": True, "num_exploration_steps": 0},
        "--offline-exploitation needs --num-exploration-steps > 0 (it trains on that phase's data)"),
       ({"explore_batch_size": 0}, "--explore-batch-size must be >= 1, got 0"),
       ({"explore_batch_size": 1}, "--explore-batch-size must be >= 2 with --use-rnd, got 1: the bonus is divided by "
                                   "the batch's standard deviation"),
       ({"explore_batch_size": 600, "num_exploration_steps": 500},
        "--explore-batch-size must be at most the exploration phase's 500 transitions, got 600"),
       ({"explore_batch_size": 600, "num_exploration_steps": 5000, "total_steps": 500, "learning_starts": 100},
        "--explore-batch-size must be at most the exploration phase's 500 transitions, got 600"),
       ({"seed": 2**31}, "--seed must be in [0, 2**31 - 1], got 2147483648"),
       ({"eval_episodes": 10_001}, "--eval-episodes must be at most 10000 (one vector sub-env each), got 10001"),
       ({"exp_name": "a/b"}, "--exp-name must be a non-empty name without '/', got 'a/b'")]


@pytest.mark.parametrize("flags, message", BAD, ids=[" ".join(flags) for flags, _ in BAD])
def test_a_bad_common_flag_gives_one_message_in_every_script(flags, message, tmp_path):
    for script, module in SCRIPTS.items():
        with pytest.raises(module.ConfigError) as err:
            module.check_args(module.Args(**flags, runs_dir=str(tmp_path / "runs")))
        assert str(err.value) == message, script
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("flags", [{"explore_batch_size": 1, "use_rnd": False},
                                   {"explore_batch_size": 1, "num_exploration_steps": 0},
                                   {"explore_batch_size": 1, "dataset_id": "a/b-v0"}, {"batch_size": 1},
                                   {"explore_batch_size": 10**6, "num_exploration_steps": 0},
                                   {"explore_batch_size": 10**6, "dataset_id": "a/b-v0"},
                                   {"explore_batch_size": 10**6, "unsupervised_exploration": True, "use_rnd": False}],
                         ids=["no RND", "no phase", "dataset", "the learner's batch", "big, no phase", "big, dataset",
                              "big, random phase"])
def test_a_batch_of_one_is_fine_where_no_bonus_is_normalised(flags, tmp_path):
    """Only the explorer's batch normalises the bonus, and only a phase whose explorer learns draws it."""
    for module in SCRIPTS.values():
        module.check_args(module.Args(**flags, runs_dir=str(tmp_path / "runs")))  # raises nothing


@pytest.mark.parametrize("flags, warned", [
    ({"env_id": "CartPole-v1", "num_exploration_steps": 1000}, True),  # no goal to extend the phase to
    ({"num_exploration_steps": 1000, "extend_exploration": False}, True),
    ({"num_exploration_steps": 1000}, False),  # a maze's phase goes on, learning, until its data hold the goal
    ({"num_exploration_steps": 1000, "unsupervised_exploration": True, "use_rnd": False}, False),  # random anyway
    ({"num_exploration_steps": 2001, "extend_exploration": False}, False)])
def test_a_fixed_phase_that_ends_before_learning_starts_is_warned_of(flags, warned, tmp_path, capsys):
    """Its actions are all uniformly random (RND never drives them): one line on stderr, and the run goes on."""
    for script, module in SCRIPTS.items():
        module.check_args(module.Args(**flags, runs_dir=str(tmp_path / "runs")))
        expected = (f"{script}.py: warning: the exploration phase ends by --learning-starts (2000): its actions are "
                    "all uniformly random and its critic never learns\n")
        assert capsys.readouterr().err == (expected if warned else ""), script


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_commit_names_the_checkout_and_its_changes(script, tmp_path):
    """summary.json's `commit`: the checkout's commit, "+" once a tracked Python file changed (not a results file),
    None outside git."""
    import shutil
    import subprocess

    module = SCRIPTS[script]
    assert module.code_commit(tmp_path) is None  # not a repository
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args):
        return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
                              cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "results" / "results.md").write_text("one\n")
    git("add", "a.py", "results/results.md")
    git("commit", "-q", "-m", "one")
    sha = git("rev-parse", "--short=7", "HEAD")
    assert module.code_commit(tmp_path) == sha
    (tmp_path / "results" / "results.md").write_text("two\n")  # a report rewritten by an earlier run
    (tmp_path / "b.py").write_text("y = 1\n")  # untracked
    assert module.code_commit(tmp_path) == sha
    (tmp_path / "a.py").write_text("x = 2\n")
    assert module.code_commit(tmp_path) == sha + "+"


@pytest.mark.parametrize("cuda, available, warned", [(True, False, True), (True, True, False), (False, False, False)])
def test_cuda_without_a_device_is_warned_of(cuda, available, warned, tmp_path, capsys, monkeypatch):
    """--cuda falls back to the CPU when torch finds no GPU (as CleanRL's scripts do), but says so on stderr."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    for script, module in SCRIPTS.items():
        module.check_args(module.Args(cuda=cuda, runs_dir=str(tmp_path / "runs")))
        expected = f"{script}.py: warning: --cuda, but torch finds no CUDA device: the run trains on the CPU\n"
        assert capsys.readouterr().err == (expected if warned else ""), script


def test_a_dataset_from_another_maze_is_refused(tmp_path, monkeypatch):
    """The four mazes share their spaces, so only the env id that the dataset records tells their data apart."""
    import minari

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    env = rnd_cql.make_env("PointmassEasy-v0")
    buffer = rnd_cql.ReplayBuffer(2, 300)
    obs, _ = env.reset(seed=0)
    for _ in range(300):
        next_obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        buffer.add(obs, next_obs, 0, reward, terminated, truncated)
        obs = env.reset()[0] if terminated or truncated else next_obs
    buffer.to_minari("test/easy-v0", env)
    assert minari.load_dataset("test/easy-v0").env_spec.id == "PointmassEasy-v0"
    for script, module in SCRIPTS.items():
        assert module.ReplayBuffer.from_minari("test/easy-v0", module.make_env("PointmassEasy-v0")).size == 300
        with pytest.raises(module.ConfigError) as err:
            module.ReplayBuffer.from_minari("test/easy-v0", module.make_env("PointmassHard-v0"))
        assert str(err.value) == "--dataset-id 'test/easy-v0' was collected on PointmassEasy-v0, not on --env-id " \
                                 "PointmassHard-v0", script


def test_a_bound_of_float32_max_leaves_the_input_unscaled():
    """A Box whose bound is float32's max (a common stand-in for none) must not scale that input to a constant."""
    import gymnasium as gym
    import torch

    big = np.finfo(np.float32).max
    space = gym.spaces.Box(np.array([-big, 0.0], np.float32), np.array([big, 10.0], np.float32))
    for module in SCRIPTS.values():
        torch.manual_seed(0)
        net = module.FourierMLP(space, 3, 8, 4, 1.0)
        torch.manual_seed(0)
        B = 2 * np.pi * torch.randn(2, 4)
        z = torch.tensor([[3.0, 5.0]]) * torch.tensor([1.0, 0.1]) @ B  # raw first input, second scaled to [0, 1]
        assert torch.allclose(net.weight[:4] @ torch.tensor([3.0, 5.0]) + net.phase[:4], z[0], atol=1e-4)


@pytest.mark.parametrize("script", SCRIPTS)
def test_ctrl_c_in_the_final_evaluation_still_writes_the_summary(script, tmp_path, monkeypatch):
    """A second Ctrl-C (the first one ends the loop and starts the final evaluation) must not lose summary.json."""
    import json

    module = SCRIPTS[script]
    periodic = module.evaluate

    def evaluate(net, env_id, n_episodes, *args, **kwargs):
        if n_episodes >= 100:  # only the final evaluation has 100 episodes here
            raise KeyboardInterrupt
        return periodic(net, env_id, n_episodes, *args, **kwargs)

    monkeypatch.setattr(module, "evaluate", evaluate)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    summary = module.train(module.Args(env_id="PointmassEasy-v0", total_steps=600, num_exploration_steps=300,
                                       learning_starts=100, batch_size=32, rnd_hidden=32, eval_every=300,
                                       eval_episodes=5, progress=False, runs_dir=str(tmp_path / "runs")))
    written = json.loads((tmp_path / "runs" / summary["run_dir"].split("/")[-1] / "summary.json").read_text())
    assert written["status"] == "interrupted" and written["global_step"] == 600
    assert written["reason"] == "KeyboardInterrupt in the final evaluation, after step 600"
    assert written["return_mean"] is None and written["normalized_score"] is None


@pytest.mark.parametrize("script", SCRIPTS)
def test_ctrl_c_while_the_model_is_saved_loses_neither_model_nor_summary(script, tmp_path, monkeypatch):
    """The run is over once the final evaluation ends: a Ctrl-C (a real SIGINT) during torch.save is ignored,
    model.pt and summary.json are written whole, and the caller's own Ctrl-C handler is back afterwards."""
    import json
    import os
    import signal

    import torch

    module = SCRIPTS[script]
    save = torch.save

    def save_with_ctrl_c(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        return save(*args, **kwargs)

    monkeypatch.setattr(module.torch, "save", save_with_ctrl_c)
    handler = signal.getsignal(signal.SIGINT)
    summary = module.train(module.Args(env_id="PointmassEasy-v0", total_steps=300, num_exploration_steps=100,
                                       learning_starts=50, batch_size=32, explore_batch_size=32, rnd_hidden=32,
                                       eval_every=300, eval_episodes=5, progress=False, save_model=True,
                                       runs_dir=str(tmp_path / "runs")))
    run_dir = tmp_path / "runs" / summary["run_dir"].split("/")[-1]
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
    assert torch.load(run_dir / "model.pt", weights_only=False)["args"]["seed"] == 1
    assert signal.getsignal(signal.SIGINT) is handler


PARAMETERS = {"rnd_cql": "the exploitation critic", "awac": "the critic or the actor", "iql": "Q, V or the policy"}


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_step_to_nan_after_a_finite_loss_is_caught_and_not_kept(script, tmp_path, monkeypatch):
    """The losses read at a log step come from before that step's update: the parameters are checked too, so the
    model kept as the last good one is never the nan one."""
    import json

    import torch

    module = SCRIPTS[script]
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    env = module.make_env("PointmassEasy-v0")
    buffer = module.ReplayBuffer(2, 300)
    obs, _ = env.reset(seed=0)
    for _ in range(300):
        next_obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        buffer.add(obs, next_obs, env.action_space.sample(), reward, terminated, truncated)
        obs = env.reset()[0] if terminated or truncated else next_obs
    buffer.to_minari("test/nan-v0", env)
    step, calls = torch.optim.Adam.step, {"n": 0}

    def step_then_nan(self, *args, **kwargs):  # the 200th and last update leaves its network's weights nan
        out = step(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 200:
            with torch.no_grad():
                for p in self.param_groups[0]["params"]:
                    p.fill_(float("nan"))
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", step_then_nan)
    summary = module.train(module.Args(env_id="PointmassEasy-v0", dataset_id="test/nan-v0", total_steps=200,
                                       train_frequency=1, batch_size=32, eval_every=1000, eval_episodes=5,
                                       progress=False, runs_dir=str(tmp_path / "runs")))
    assert calls["n"] == 200 and summary["status"] == "diverged"
    assert summary["reason"] == f"a parameter of {PARAMETERS[script]} is not finite at step 200"
    model = torch.load(tmp_path / "runs" / summary["run_dir"].split("/")[-1] / "model.pt", weights_only=False)
    tensors = [v for part in model.values() if isinstance(part, dict) for v in part.values() if torch.is_tensor(v)]
    assert tensors and all(v.isfinite().all() for v in tensors)
    assert json.loads((tmp_path / "runs" / summary["run_dir"].split("/")[-1] / "summary.json").read_text())["status"] \
        == "diverged"


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_interrupted_dataset_write_leaves_no_half_dataset(script, tmp_path, monkeypatch):
    """Ctrl-C while Minari writes --save-dataset-id removes what it wrote; an older dataset is never touched."""
    import minari
    from minari.storage import get_dataset_path

    module = SCRIPTS[script]
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    env = module.make_env("PointmassEasy-v0")
    buffer = module.ReplayBuffer(2, 10)
    obs, _ = env.reset(seed=0)
    for _ in range(10):
        next_obs, reward, terminated, truncated, _ = env.step(0)
        buffer.add(obs, next_obs, 0, reward, terminated, truncated)
        obs = next_obs

    def interrupted_write(dataset_id, *args, **kwargs):
        (get_dataset_path(dataset_id) / "data").mkdir(parents=True, exist_ok=True)
        (get_dataset_path(dataset_id) / "data" / "main_data.hdf5").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(minari, "create_dataset_from_buffers", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        buffer.to_minari("test/half-v0", env)
    assert not get_dataset_path("test/half-v0").exists()
    (get_dataset_path("test/old-v0") / "data").mkdir(parents=True)  # written earlier, by someone else
    with pytest.raises(KeyboardInterrupt):
        buffer.to_minari("test/old-v0", env)
    assert (get_dataset_path("test/old-v0") / "data").is_dir()



@pytest.mark.parametrize("script", SCRIPTS)
def test_ctrl_c_while_the_last_dataset_is_written_still_writes_the_summary(script, tmp_path, monkeypatch):
    """A phase that lasts the whole run is saved after the last step: a Ctrl-C then is caught like one in the loop."""
    import json

    module = SCRIPTS[script]
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(module.ReplayBuffer, "to_minari", interrupted)
    summary = module.train(module.Args(env_id="PointmassHard-v0", total_steps=600, num_exploration_steps=100,
                                       learning_starts=100, batch_size=32, explore_batch_size=32, rnd_hidden=32,
                                       eval_every=10_000, eval_episodes=5, save_dataset_id="test/hard-v0",
                                       progress=False, runs_dir=str(tmp_path / "runs")))
    assert summary["exploration_end_step"] is None  # Hard's goal is far beyond 600 steps: the phase never ended
    written = json.loads((tmp_path / "runs" / summary["run_dir"].split("/")[-1] / "summary.json").read_text())
    assert written["status"] == "interrupted" and written["global_step"] == 600
    assert written["reason"] == "KeyboardInterrupt after step 600"  # every step was done: only the write was cut


@pytest.mark.parametrize("where", ["mid-step", "evaluation"])
@pytest.mark.parametrize("script", SCRIPTS)
def test_an_interrupted_run_counts_the_steps_it_finished(script, where, tmp_path, monkeypatch):
    """global_step counts the env steps done with their updates: not the step a Ctrl-C cut, but the step whose
    evaluation it cut (rnd_cql.py once reported 999 for an evaluation after step 1 000, iql.py and awac.py one
    step too many for a Ctrl-C inside a step)."""
    module = SCRIPTS[script]
    make_env = module.make_env

    class CutAtStep250(gym.Wrapper):
        calls = 0

        def step(self, action):
            self.calls += 1
            if self.calls == 250:  # inside the 250th step; updates began after step 100
                raise KeyboardInterrupt
            return self.env.step(action)

    evaluate = module.evaluate

    def cut_evaluation(*args, **kwargs):  # the first is the periodic one after step 300; the final one runs
        cut_evaluation.calls = getattr(cut_evaluation, "calls", 0) + 1
        if cut_evaluation.calls == 1:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    if where == "mid-step":
        monkeypatch.setattr(module, "make_env", lambda env_id: CutAtStep250(make_env(env_id)))
    else:
        monkeypatch.setattr(module, "evaluate", cut_evaluation)
    summary = module.train(module.Args(env_id="PointmassEasy-v0", total_steps=600, num_exploration_steps=400,
                                       learning_starts=100, batch_size=32, explore_batch_size=32, rnd_hidden=32,
                                       eval_every=300, eval_episodes=5, progress=False, runs_dir=str(tmp_path)))
    done = 249 if where == "mid-step" else 300
    assert summary["status"] == "interrupted" and summary["global_step"] == done
    assert summary["reason"] == f"KeyboardInterrupt after step {done}"
    assert summary["normalized_score"] is not None  # the final evaluation still ran


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_episode_is_logged_at_the_count_of_env_steps_that_ended_it(script, tmp_path):
    """The x axis of charts/episodic_* is the env steps done, as every other scalar's: the first episode's length."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    module = SCRIPTS[script]
    summary = module.train(module.Args(env_id="PointmassEasy-v0", total_steps=300, num_exploration_steps=200,
                                       learning_starts=100, batch_size=32, explore_batch_size=32, rnd_hidden=32,
                                       eval_every=300, eval_episodes=5, progress=False, runs_dir=str(tmp_path)))
    ea = EventAccumulator(summary["run_dir"])
    ea.Reload()
    first = ea.Scalars("charts/episodic_length")[0]
    assert first.step == first.value and [e.step for e in ea.Scalars("charts/episodic_return")][0] == first.step


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_diverged_model_is_never_evaluated(script, tmp_path):
    """The finite checks also run before each evaluation (every LOG_EVERY = 1000 steps is not enough at
    --eval-every 700): an inf reward makes the first update's loss inf, so the run stops at step 700 instead of
    evaluating the broken model there (sampling from nan logits, with --eval-sample, raised an error)."""
    module = SCRIPTS[script]
    flags = dict(env_id="PointmassEasy-v0", total_steps=2000, num_exploration_steps=300, learning_starts=100,
                 batch_size=32, explore_batch_size=32, rnd_hidden=32, exploit_rew_shift=1e20, exploit_rew_scale=1e20,
                 extend_exploration=False, eval_every=700, eval_episodes=5, progress=False, runs_dir=str(tmp_path))
    if script != "rnd_cql":  # its greedy critic has no policy to sample from
        flags["eval_sample"] = True
    summary = module.train(module.Args(**flags))
    assert summary["status"] == "diverged" and summary["reason"].endswith(" at step 700")


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_phase_that_outlasts_the_run_after_its_goal_says_so(script, tmp_path):
    """Seed 1's random actions (before --learning-starts 900) reach Easy's goal at step 631, after N/2 = 500: the
    phase then lasts until step 631 + 500, past the run's 1 100 steps; the summary says so, not "never reached"."""
    module = SCRIPTS[script]
    summary = module.train(module.Args(env_id="PointmassEasy-v0", total_steps=1100, num_exploration_steps=1000,
                                       learning_starts=900, batch_size=32, explore_batch_size=32, rnd_hidden=32,
                                       eval_every=10_000, eval_episodes=5, progress=False, runs_dir=str(tmp_path)))
    assert summary["first_goal_step"] == 631 and summary["exploration_end_step"] is None
    assert summary["reason"].startswith("the exploration phase lasted the whole run: it lasts past its data's first "
                                        "goal, at step 631 (--extend-exploration)")


@pytest.mark.parametrize("script", ["awac", "iql"])
def test_the_explorer_does_not_wait_for_a_larger_learner_batch(script, tmp_path):
    """Each learner draws once the buffer holds its own batch: the RND predictor (batch 32) learns through a
    300-step phase although the learners' batch of 1 000, drawn at every step, only fits after it."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    module = SCRIPTS[script]
    summary = module.train(module.Args(env_id="PointmassEasy-v0", total_steps=1200, num_exploration_steps=300,
                                       learning_starts=50, batch_size=1000, explore_batch_size=32, rnd_hidden=32,
                                       train_during_exploration=True, train_frequency=1, extend_exploration=False,
                                       eval_every=10_000,
                                       eval_episodes=5, progress=False, runs_dir=str(tmp_path)))
    ea = EventAccumulator(summary["run_dir"])
    ea.Reload()
    assert summary["num_updates"] > 0 and [e.step for e in ea.Scalars("losses/rnd_loss")] == [1000]

class CoinEnv(gym.Env):
    """100 steps of a one-armed choice: action 1 earns 1, action 0 nothing, so a return counts the 1s."""
    observation_space, action_space = gym.spaces.Box(0.0, 1.0, (1,)), gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(1, np.float32), float(action), False, self.t == 100, {}


gym.register("TestCoin-v0", entry_point=CoinEnv)


class ConstantLogits(torch.nn.Module):
    def forward(self, obs):
        return torch.tensor([0.0, math.log(3.0)]).expand(len(obs), 2)  # softmax: (1/4, 3/4)


@pytest.mark.parametrize("sample, share_of_ones", [(False, 1.0), (True, 0.75)])
def test_evaluate_acts_greedily_or_samples_the_softmax(sample, share_of_ones):
    torch.manual_seed(0)
    result = rnd_cql.evaluate(ConstantLogits(), "TestCoin-v0", 40, seed=0, device=torch.device("cpu"), sample=sample)
    share = result["returns"].mean() / 100  # 4 000 draws: the sampled share is within 0.03 of 3/4 (4.5 sigma)
    assert share == pytest.approx(share_of_ones, abs=0.03) and (sample or share == 1.0)


@pytest.mark.parametrize("script", ["awac", "iql"])
@pytest.mark.parametrize("eval_sample", [False, True])
def test_eval_sample_reaches_every_evaluation(script, eval_sample, tmp_path, monkeypatch):
    module, calls = SCRIPTS[script], []
    real, signature = module.evaluate, inspect.signature(module.evaluate)
    monkeypatch.setattr(module, "evaluate", lambda *a, **kw: (calls.append(signature.bind(*a, **kw).arguments),
                                                              real(*a, **kw))[1])
    module.train(module.Args(env_id="PointmassEasy-v0", total_steps=1_200, num_exploration_steps=600,
                             learning_starts=300, eval_every=600, eval_episodes=5, rnd_hidden=32, batch_size=64,
                             eval_sample=eval_sample, runs_dir=str(tmp_path / "runs"), progress=False,
                             extend_exploration=False))
    assert len(calls) >= 2 and all(call.get("sample", False) is eval_sample for call in calls)
