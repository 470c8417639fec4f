"""Tests of awac.py: the losses against hand-computed numbers, short end-to-end runs, determinism, bad input,
faults (NaN, Ctrl-C), Minari datasets in and out, and a slow learning check (`-m slow`)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import awac

ROOT = Path(__file__).resolve().parents[1]
TIMING = {"wall_time_s", "sps", "updates_per_s", "peak_memory_mb", "run_dir"}
SUMMARY_KEYS = {"algorithm", "env_id", "seed", "exp_name", "status", "reason", "global_step", "num_updates",
                "return_mean", "return_std", "success_rate", "normalized_score", "eval_episodes", "coverage",
                "wall_time_s", "sps", "updates_per_s", "peak_memory_mb", "machine", "commit", "args", "run_dir",
                "first_goal_step", "exploration_end_step"}
# A short run: 1500 exploration steps with a small RND, updates from step 500, 3000 steps in all. The phase ends
# at 1500 whether or not its data reach the goal, which depends on the CPU's float rounding (see the extension's tests).
SHORT = dict(env_id="PointmassEasy-v0", total_steps=3000, num_exploration_steps=1500, learning_starts=500,
             eval_every=1000, eval_episodes=10, batch_size=64, rnd_hidden=64, progress=False, extend_exploration=False)
# the global steps (from 1) of the short run's AWAC updates: env step t = global_step - 1 updates when t is a
# multiple of --train-frequency, from the phase's end (t = 1500) on
SHORT_UPDATES = [step for step in range(1501, 3001) if (step - 1) % awac.Args.train_frequency == 0]
NOISY_ORACLE = "pointmass/easy-noisy-oracle-v0"


@pytest.fixture(scope="module")
def datasets_dir(tmp_path_factory):
    """A noisy-oracle dataset written once by `pointmass.py collect`, in a private Minari folder."""
    path = tmp_path_factory.mktemp("minari")
    subprocess.run([sys.executable, "pointmass.py", "collect", "--env-id", "PointmassEasy-v0", "--policy",
                    "noisy-oracle", "--epsilon", "0.2", "--steps", "3000", "--dataset-id", NOISY_ORACLE,
                    "--seed", "0"], cwd=ROOT, env={**os.environ, "MINARI_DATASETS_PATH": str(path)},
                   check=True, capture_output=True)
    return path


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """A private Minari folder, and one torch thread: on a busy 2-core machine two threads that wait on each
    other make these small networks ~10x slower."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run(tmp_path, **overrides) -> dict:
    return awac.train(awac.Args(runs_dir=str(tmp_path / "runs"), **{**SHORT, **overrides}))


# ------------------------------------------------------------------------------------------ losses
# A 2-state, 3-action table: pi(.|s), Q(s, .), the data's actions, rewards, terminations.
PROBS = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
Q = torch.tensor([[1.0, 2.0, 4.0], [0.0, 10.0, -5.0]])
ACTIONS = torch.tensor([2, 1])


def test_policy_value_is_the_exact_expectation():
    # V(s0) = .5*1 + .25*2 + .25*4 = 2;  V(s1) = .1*0 + .1*10 + .8*(-5) = -3
    assert torch.allclose(awac.policy_value(PROBS, Q), torch.tensor([2.0, -3.0]))


def test_critic_target_bootstraps_unless_terminated():
    reward, terminated = torch.tensor([-1.0, 0.0]), torch.tensor([0.0, 1.0])
    y = awac.awac_critic_target(reward, terminated, PROBS, Q, gamma=0.9)
    assert torch.allclose(y, torch.tensor([-1.0 + 0.9 * 2.0, 0.0]))  # s1 terminated: no bootstrap


def test_advantage_is_q_minus_v_and_detached():
    q = Q.clone().requires_grad_()
    adv = awac.awac_advantage(q, PROBS, ACTIONS)
    assert torch.allclose(adv, torch.tensor([4.0 - 2.0, 10.0 - (-3.0)]))
    assert not adv.requires_grad


def test_weights_use_lam_and_are_clipped():
    adv = torch.tensor([2.0, 13.0, -1.0])
    w = awac.awac_weights(adv, lam=1.0, max_weight=100.0)
    assert torch.allclose(w, torch.tensor([math.exp(2.0), 100.0, math.exp(-1.0)]))  # e^13 > 100 is clipped
    w10 = awac.awac_weights(adv, lam=10.0, max_weight=100.0)
    assert torch.allclose(w10, torch.tensor([math.exp(0.2), math.exp(1.3), math.exp(-0.1)]))
    assert torch.allclose(awac.awac_weights(torch.tensor([1e6]), 0.1, 5.0), torch.tensor([5.0]))  # no inf


def test_actor_loss_and_its_gradient():
    logits = PROBS.log().requires_grad_()
    weights = torch.tensor([math.exp(2.0), 100.0])
    loss = awac.awac_actor_loss(logits, ACTIONS, weights)
    # -(w0 log .25 + w1 log .1) / 2
    expected = -(math.exp(2.0) * math.log(0.25) + 100.0 * math.log(0.1)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    onehot = torch.nn.functional.one_hot(ACTIONS, 3).float()
    assert torch.allclose(logits.grad, -weights[:, None] * (onehot - PROBS) / 2, atol=1e-5)


def test_lam_reaches_the_actor_loss():
    logits, adv = PROBS.log(), awac.awac_advantage(Q, PROBS, ACTIONS)
    losses = {lam: awac.awac_actor_loss(logits, ACTIONS, awac.awac_weights(adv, lam, 100.0)).item()
              for lam in (0.1, 1.0, 10.0, 50.0)}
    assert len(set(losses.values())) == 4


def test_one_update_computes_the_critic_and_actor_losses_on_the_right_inputs(table):
    """A 3-state, 3-action table, worked out with numpy: the target is sum_a' pi(a'|s') Q_target(s', a') with the
    terminal mask, the advantage is Q(s, a) - sum_a pi(a|s) Q(s, a) of the online critic, the weights are clipped."""
    Q = np.array([[1.0, 4.0, 0.0], [2.0, -1.0, 3.0], [0.5, 0.0, -2.0]])
    Q_target = np.array([[0.0, 2.0, 1.0], [3.0, 1.0, -1.0], [1.0, 1.0, 4.0]])
    PI = np.array([[0.2, -0.3, 1.0], [0.0, 0.4, -1.0], [1.0, 0.0, 0.5]])
    state, action = np.array([0, 1, 2, 0]), np.array([0, 1, 2, 1])
    r, next_state, term = np.array([-1.0, 0.0, -1.0, -1.0]), np.array([1, 2, 0, 2]), np.array([0.0, 1.0, 0.0, 0.0])
    args = awac.Args(exploit_rew_shift=1.0, exploit_rew_scale=10.0, gamma=0.9, lam=0.5, max_weight=5.0)

    softmax = lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)
    pi, pi_next = softmax(PI[:, state].T), softmax(PI[:, next_state].T)
    y = (r + 1.0) * 10.0 + 0.9 * (1 - term) * (pi_next * Q_target[:, next_state].T).sum(1)
    q_data = Q[action, state]
    advantage = q_data - (pi * Q[:, state].T).sum(1)
    w = np.minimum(np.exp(advantage / 0.5), 5.0)
    assert (w == 5.0).any() and (w < 1.0).any()  # the clip is used, and some actions are worse than pi's average

    one_hot = lambda idx: torch.nn.functional.one_hot(torch.as_tensor(idx), 3).float()
    batch = (one_hot(state), torch.as_tensor(action), torch.tensor(r, dtype=torch.float32), one_hot(next_state),
             torch.tensor(term, dtype=torch.float32))
    out = awac.awac_losses(table(Q), table(Q_target), table(PI), batch, args)
    assert out["td_loss"].item() == pytest.approx(np.mean((q_data - y) ** 2), rel=1e-5)
    assert out["actor_loss"].item() == pytest.approx(-np.mean(w * np.log(pi[np.arange(4), action])), rel=1e-5)
    np.testing.assert_allclose(out["q_values"].detach().numpy(), q_data, rtol=1e-6)
    np.testing.assert_allclose(out["awac_weights"].numpy(), w, rtol=1e-5)


def test_double_dqn_target_evaluates_the_online_argmax_with_the_target():
    online = torch.tensor([[1.0, 3.0], [5.0, 0.0]])
    target = torch.tensor([[10.0, 20.0], [30.0, 40.0]])
    y = awac.double_dqn_target(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0]), online, target, 0.5)
    assert torch.allclose(y, torch.tensor([1.0 + 0.5 * 20.0, 1.0]))


def test_rnd_bonus_is_a_norm_and_only_trains_the_predictor():
    assert torch.allclose(awac.rnd_bonus(torch.tensor([[3.0, 4.0]]), torch.zeros(1, 2)), torch.tensor([5.0]))
    target, predictor = awac.rnd_networks(2, 400, 2, 5)
    assert all(not p.requires_grad for p in target.parameters())
    weights = torch.cat([p.flatten() for p in target.parameters()])
    assert abs(weights.std() - 1) < 0.05 and abs(weights.mean()) < 0.05  # N(0, 1), as rnd_cql.py
    assert predictor[0].weight.abs().max() <= 2 ** -0.5  # PyTorch's default: U(+-1/sqrt(fan_in))
    obs = torch.rand(64, 2)
    assert (awac.rnd_bonus(predictor(obs), target(obs)) > 1e-3).all()  # the two differ from the start
    awac.rnd_bonus(predictor(obs), target(obs)).mean().backward()
    assert all(p.grad is not None for p in predictor.parameters())


def test_replay_buffer_round_trips_through_minari(tmp_path):
    env = gym.make("PointmassEasy-v0")
    buffer = awac.ReplayBuffer(2, 10)
    obs, _ = env.reset(seed=0)
    for t in range(10):
        next_obs, reward, terminated, truncated, _ = env.step(t % 5)
        buffer.add(obs, next_obs, t % 5, reward, terminated, truncated or t == 5)
        obs = env.reset()[0] if t == 5 else next_obs
    buffer.to_minari("test/roundtrip-v0", env)
    loaded = awac.ReplayBuffer.from_minari("test/roundtrip-v0", env)
    assert loaded.size == 10 and np.array_equal(loaded.table[:, :-1], buffer.table[:, :-1])  # all but truncated
    assert loaded.table[:, -1].tolist() == [0] * 5 + [1] + [0] * 3 + [1]  # at t = 5, and the unfinished end
    s, a, r, s_next, term, extra = loaded.sample(4, np.random.default_rng(0), torch.device("cpu"))
    assert s.shape == (4, 2) and a.dtype == torch.int64 and r.shape == term.shape == (4,) and extra.shape == (4, 0)


def test_observations_include_the_last_next_state():
    buffer = awac.ReplayBuffer(2, 4)
    buffer.add(np.array([0.1, 0.1]), np.array([0.9, 0.9]), 4, 0.0, True, False)
    assert np.array_equal(buffer.observations(), np.array([[0.1, 0.1], [0.9, 0.9]], dtype=np.float32))
    assert awac.pointmass.coverage("PointmassEasy-v0", buffer.observations()) == pytest.approx(2 / 36)


def test_fourier_features_feed_the_critic_and_the_actor_and_0_is_the_raw_observation(fourier_reference):
    space = gym.spaces.Box(0.0, 2.0, (2,), np.float32)
    assert awac.Args().fourier_features == 32
    raw = awac.FourierMLP(space, 5, 16, 0, 1.0)
    assert raw.mlp[0].in_features == 2  # the course's MLP on the raw observation
    torch.manual_seed(0)
    net = awac.FourierMLP(space, 5, 16, 8, 3.0, layers=3, activation=awac.Tanh)  # the actor's kind of network
    assert net.mlp[0].in_features == 16 and len(net.mlp) == 7 and isinstance(net.mlp[1], awac.Tanh)
    x = torch.tensor([[0.5, 1.5]])
    features = fourier_reference(x, space.low, space.high, n_features=8, sigma=3.0)
    assert torch.allclose(net(x), net.mlp(features), atol=1e-5)
    assert net(x).shape == (1, 5)


# ------------------------------------------------------------------------------------------ runs
def test_end_to_end_writes_summary_tensorboard_and_dataset(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    summary = run(tmp_path, save_model=True, save_dataset_id="test/awac-explore-v0")
    assert set(summary) == SUMMARY_KEYS
    run_dir = Path(summary["run_dir"])
    assert json.loads((run_dir / "summary.json").read_text()) == summary
    assert json.loads((run_dir / "config.json").read_text())["total_steps"] == 3000
    assert (run_dir / "model.pt").exists() and not list(run_dir.glob("*.tmp"))
    assert summary["status"] == "completed" and summary["global_step"] == 3000
    assert summary["args"]["lam"] == 0.1  # the default lam online
    assert summary["num_updates"] == len(SHORT_UPDATES) == 750 and summary["eval_episodes"] == 100
    assert 0 <= summary["success_rate"] <= 1 and 0 < summary["coverage"] <= 1
    ea = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    ea.Reload()
    # the summary's final scores are the last ones logged, and a success rate counts whole episodes
    assert ea.Scalars("eval/success_rate")[-1].value == pytest.approx(summary["success_rate"])
    assert ea.Scalars("exploration/coverage")[-1].value == pytest.approx(summary["coverage"])
    successes = summary["success_rate"] * summary["eval_episodes"]
    assert successes == pytest.approx(round(successes))
    for tag in ("charts/episodic_return", "charts/episodic_length", "charts/SPS", "eval/return_mean",
                "eval/return_std", "eval/success_rate", "eval/normalized_score", "losses/td_loss",
                "losses/actor_loss", "losses/q_values", "losses/awac_weights", "losses/rnd_loss",
                "losses/explore_td_loss", "exploration/rnd_bonus", "exploration/coverage"):
        assert tag in ea.Tags()["scalars"], tag
    assert [e.step for e in ea.Scalars("eval/return_mean")] == [1000, 2000, 3000]
    assert [e.step for e in ea.Scalars("losses/td_loss")] == [2000, 3000]  # no AWAC loss during the phase
    assert [e.step for e in ea.Scalars("exploration/rnd_bonus")] == [1000, 2000]  # its last value: step 1500
    assert {"maps/state_density", "maps/value", "maps/eval_trajectory", "maps/rnd_bonus"} <= set(ea.Tags()["images"])
    assert all(e.step <= 1500 for e in ea.Images("maps/rnd_bonus"))  # only during the exploration phase
    assert [e.step for e in ea.Images("maps/explore_value")] == [e.step for e in ea.Images("maps/rnd_bonus")]
    import minari

    dataset = minari.load_dataset("test/awac-explore-v0")
    assert dataset.total_steps == 1500


def test_determinism(tmp_path):
    args = dict(total_steps=1500, num_exploration_steps=1000, eval_every=750)
    a, b = run(tmp_path / "a", **args), run(tmp_path / "b", **args)
    strip = lambda s: {k: v for k, v in s.items() if k not in TIMING and k != "args"}
    assert strip(a) == strip(b)


def test_an_extended_phase_leaves_awac_the_updates_of_a_phase_of_n_steps(tmp_path):
    """Easy's goal is missed by step 300 (random actions until then), so the phase goes on past it; the critic and
    the actor still get the ceil((3 000 - 300) / 2) = 1 350 updates that a 300-step phase would have left them
    (one every 2 steps left would be fewer), as in iql.py."""
    s = run(tmp_path, seed=1, num_exploration_steps=300, learning_starts=300, extend_exploration=True)
    assert s["status"] == "completed" and 300 < s["exploration_end_step"] <= 3_000 - 1_350
    assert s["num_updates"] == 1_350


def test_awac_trains_after_the_phase_unless_told_otherwise_on_the_same_data(tmp_path):
    """By default AWAC's networks start updating at the phase's end; the exploration data do not depend on it."""
    import minari

    args = dict(total_steps=2000, num_exploration_steps=1500, train_frequency=1)
    on = run(tmp_path / "on", **args, train_during_exploration=True, save_dataset_id="test/on-v0")
    off = run(tmp_path / "off", **args, save_dataset_id="test/off-v0")
    assert on["num_updates"] == 2000 - SHORT["learning_starts"] and off["num_updates"] == 500
    a, b = (list(minari.load_dataset(name).iterate_episodes()) for name in ("test/on-v0", "test/off-v0"))
    assert len(a) == len(b) and all(np.array_equal(x.observations, y.observations) for x, y in zip(a, b))


def test_any_box_discrete_env_runs(tmp_path):
    summary = run(tmp_path, env_id="CartPole-v1", total_steps=1200, num_exploration_steps=600,
                  learning_starts=300, eval_every=600)
    assert summary["status"] == "completed"
    assert summary["normalized_score"] is None and summary["success_rate"] is None and summary["coverage"] is None


def test_offline_dataset_training_never_steps_the_env(tmp_path, monkeypatch, datasets_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(datasets_dir))
    summary = run(tmp_path, dataset_id=NOISY_ORACLE, total_steps=900, eval_every=300)
    assert summary["status"] == "completed" and summary["num_updates"] == 900  # offline, every iteration is an update
    assert summary["args"]["lam"] == 3.0  # the default lam with --dataset-id
    ea = EventAccumulator(summary["run_dir"])
    ea.Reload()
    assert "charts/episodic_return" not in ea.Tags()["scalars"] and "losses/rnd_loss" not in ea.Tags()["scalars"]
    # a run shorter than LOG_EVERY logs (and checks its losses) before each evaluation and at its end
    assert [e.step for e in ea.Scalars("losses/td_loss")] == [300, 600, 900]


def test_nan_after_the_last_full_thousand_steps_is_caught(tmp_path, monkeypatch, datasets_dir):
    """The losses are read back, and checked, at the last step too, not only every LOG_EVERY steps."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(datasets_dir))
    summary = run(tmp_path, dataset_id=NOISY_ORACLE, total_steps=500, eval_every=500, exploit_rew_shift=0.0,
                  exploit_rew_scale=1e39)
    assert summary["status"] == "diverged" and summary["reason"] == "losses/td_loss is nan at step 500"


def test_offline_exploitation_freezes_the_buffer(tmp_path, monkeypatch):
    calls = []
    original = awac.ReplayBuffer.add
    monkeypatch.setattr(awac.ReplayBuffer, "add", lambda self, *a: (calls.append(1), original(self, *a)))
    summary = run(tmp_path, offline_exploitation=True, total_steps=2000, num_exploration_steps=1000)
    assert summary["status"] == "completed" and len(calls) == 1000


@pytest.mark.parametrize("unsupervised", [False, True])
def test_exploration_critic_treats_the_goal_as_terminal_only_with_the_env_reward(tmp_path, monkeypatch, unsupervised):
    """Unsupervised, the bonus is a non-episodic return (Burda et al. 2019): the goal does not end it."""
    masks, real = [], awac.double_dqn_target
    monkeypatch.setattr(awac, "double_dqn_target",
                        lambda r, term, *a: (masks.append(term.clone()), real(r, term, *a))[1])
    # seed 1's random actions reach Easy's goal at step 631 (numpy only: the same on every CPU), so it is in the data
    summary = run(tmp_path, unsupervised_exploration=unsupervised, total_steps=1600, num_exploration_steps=1500,
                  learning_starts=1000)
    masks = torch.cat(masks)
    assert summary["status"] == "completed" and summary["first_goal_step"] == 631 and len(masks) > 0
    assert masks.sum() == 0 if unsupervised else masks.sum() > 0


@pytest.mark.parametrize("unsupervised", [False, True])
def test_exploration_phase_is_rnd_cqls_transition_for_transition(explores_as_rnd_cql, unsupervised):
    """At equal exploration flags a seed gives awac.py and rnd_cql.py the same exploration-phase data: the
    same networks drawn in the same order, the same updates and roundings, i.e. the same algorithm."""
    explores_as_rnd_cql(awac, unsupervised)


def test_exploration_flags_mean_what_they_mean_in_rnd_cql(explores_as_rnd_cql):
    """Every exploration flag of rnd_cql.py, set away from its default, still gives both scripts the same data."""
    explores_as_rnd_cql(awac, False, other_flags=True)


def test_the_critics_and_actors_widths_leave_the_phase_rnd_cqls(explores_as_rnd_cql):
    """The exploration networks are drawn before the critic and the actor, so their sizes do not change what
    the phase collects."""
    explores_as_rnd_cql(awac, False, script_flags=[("critic_hidden", 32), ("actor_hidden", 48), ("actor_layers", 1)])


def test_a_phase_extended_until_the_goal_is_rnd_cqls_too(explores_as_rnd_cql):
    """A phase that has not reached the goal by --num-exploration-steps goes on alike in both scripts."""
    explores_as_rnd_cql(awac, False, extended=True)


# ------------------------------------------------------------------------------------------ faults
def test_nan_stops_and_keeps_the_last_good_model(tmp_path):
    summary = run(tmp_path, exploit_rew_shift=0.0, exploit_rew_scale=1e39)  # r * 1e39 = -inf in float32
    run_dir = Path(summary["run_dir"])
    assert summary["status"] == "diverged" and summary["reason"] == "losses/td_loss is nan at step 2000"
    assert summary["global_step"] == 2000 and math.isfinite(summary["return_mean"])  # first log after the phase
    assert (run_dir / "model.pt").exists() and list(run_dir.glob("events.out.tfevents.*"))
    model = torch.load(run_dir / "model.pt")
    assert all(torch.isfinite(v).all() for v in model["critic"].values())
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "diverged"


def test_ctrl_c_writes_an_interrupted_summary(tmp_path, monkeypatch):
    calls = {"n": 0}
    original = awac.awac_actor_loss

    def interrupt_later(*a):
        calls["n"] += 1
        if calls["n"] == 100:
            raise KeyboardInterrupt
        return original(*a)

    monkeypatch.setattr(awac, "awac_actor_loss", interrupt_later)
    summary = run(tmp_path)
    cut = SHORT_UPDATES[99] - 1  # the 100th update's step was cut: the steps before it were done
    assert summary["status"] == "interrupted" and summary["global_step"] == cut
    assert summary["reason"] == f"KeyboardInterrupt after step {cut}"
    assert json.loads((Path(summary["run_dir"]) / "summary.json").read_text())["status"] == "interrupted"


# ------------------------------------------------------------------------------------------ bad input
BAD = [
    (dict(env_id="NoSuchEnv-v0"), "--env-id"),
    (dict(env_id="Pendulum-v1"), "--env-id"),  # Box actions
    (dict(env_id="FrozenLake-v1"), "--env-id"),  # Discrete observations
    (dict(total_steps=0), "--total-steps"),
    (dict(total_steps=1500), "--total-steps must be above --num-exploration-steps (1500), got 1500"),
    (dict(num_exploration_steps=-1), "--num-exploration-steps"),
    (dict(eval_every=0), "--eval-every"),
    (dict(eps=1.5), "--eps"),
    (dict(eps=-0.1), "--eps"),
    (dict(explore_gamma=1.5), "--explore-gamma"),
    (dict(rnd_gamma=1.5), "--rnd-gamma"),
    (dict(explore_learning_rate=0.0), "--explore-learning-rate"),
    (dict(explore_hidden=0), "--explore-hidden"),
    (dict(explore_target_update_period=0), "--explore-target-update-period"),
    (dict(lam=0.0), "--lam"),
    (dict(lam=-1.0), "--lam"),
    (dict(lam=float("nan")), "--lam"),
    (dict(max_weight=0.0), "--max-weight"),
    (dict(fourier_features=-1), "--fourier-features"),
    (dict(fourier_sigma=0.0), "--fourier-sigma"),
    (dict(batch_size=4000), "--batch-size"),
    (dict(batch_size=2000, offline_exploitation=True, num_exploration_steps=1000), "--batch-size"),
    (dict(dataset_id="nope/missing-v0"), "--dataset-id"),
    (dict(save_dataset_id="not a valid id"), "--save-dataset-id"),
    (dict(save_dataset_id="noversion"), "--save-dataset-id"),
    (dict(lam=float("inf")), "--lam must be a finite number"),
    (dict(exploit_rew_scale=float("nan")), "--exploit-rew-scale must be a finite number"),
    (dict(seed=-1), "--seed must be in"),
    (dict(exp_name=""), "--exp-name must be a non-empty name"),
    (dict(eval_episodes=100_000), "--eval-episodes must be at most"),
    (dict(total_steps=10**13), "--total-steps 10000000000000: the replay table does not fit"),
    (dict(save_dataset_id="x/y-v0", dataset_id="x/z-v0"), "--save-dataset-id"),
]


@pytest.mark.parametrize("overrides, flag", BAD, ids=[f"{f}={list(o.values())[0]}" for o, f in BAD])
def test_bad_input_is_refused_before_anything_is_written(tmp_path, overrides, flag):
    with pytest.raises(awac.ConfigError) as err:
        run(tmp_path, **overrides)
    assert str(err.value).startswith(flag)
    assert not (tmp_path / "runs").exists()


def test_runs_dir_that_is_a_file_is_refused_untouched(tmp_path):
    not_a_dir = tmp_path / "runs"
    not_a_dir.write_text("keep me")
    with pytest.raises(awac.ConfigError, match="^--runs-dir .* is not a directory"):
        awac.train(awac.Args(**{**SHORT, "runs_dir": str(not_a_dir)}))
    assert not_a_dir.read_text() == "keep me"


@pytest.mark.parametrize("overrides, flag", [
    (dict(dataset_id=NOISY_ORACLE, env_id="CartPole-v1"), "--dataset-id"),  # spaces do not match
    (dict(dataset_id=NOISY_ORACLE, batch_size=5000), "--batch-size"),  # 3000 transitions
    (dict(save_dataset_id=NOISY_ORACLE), "--save-dataset-id"),  # already exists
])
def test_dataset_errors_are_refused_before_anything_is_written(tmp_path, monkeypatch, datasets_dir, overrides, flag):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(datasets_dir))
    with pytest.raises(awac.ConfigError, match=f"^{flag}"):
        run(tmp_path, **overrides)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("argv, flag", [(["--lam", "0"], "--lam"), (["--env-id", "NoSuchEnv-v0"], "--env-id")])
def test_command_line_exits_2_with_one_line(tmp_path, argv, flag):
    result = subprocess.run([sys.executable, "awac.py", "--runs-dir", str(tmp_path / "runs"), *argv], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"awac.py: error: {flag}")
    assert not (tmp_path / "runs").exists()


# ------------------------------------------------------------------------------------------ learning
@pytest.mark.slow
def test_learns_pointmass_easy(tmp_path):
    summary = awac.train(awac.Args(env_id="PointmassEasy-v0", total_steps=15_000, num_exploration_steps=5_000,
                                   learning_starts=1_000, eval_every=15_000, progress=False, runs_dir=str(tmp_path)))
    assert summary["normalized_score"] >= 80, summary


@pytest.mark.slow
def test_beats_the_noisy_oracle_behaviour_policy(tmp_path, noisy_oracle_easy):
    dataset_id, behaviour = noisy_oracle_easy
    summary = run(tmp_path, dataset_id=dataset_id, total_steps=4_000, eval_every=4_000, eval_episodes=100,
                  batch_size=256, lam=None)
    assert summary["return_mean"] > behaviour + 2.0, (behaviour, summary["return_mean"])
