"""Tests of iql.py: the losses against hand-computed numbers, the replay buffer and its Minari round
trip, end-to-end runs (summary.json, TensorBoard scalars and images, determinism), every bad input,
NaN and Ctrl-C handling, and (marked slow) learning checks."""
import json
import math
import runpy
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import iql
import pointmass

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_KEYS = {"algorithm", "env_id", "seed", "exp_name", "status", "reason", "global_step", "num_updates",
                "return_mean", "return_std", "success_rate", "normalized_score", "eval_episodes", "coverage",
                "wall_time_s", "sps", "updates_per_s", "peak_memory_mb", "machine", "commit", "args", "run_dir",
                "first_goal_step", "exploration_end_step"}
TIMING_KEYS = {"wall_time_s", "sps", "updates_per_s", "peak_memory_mb", "run_dir"}
# A short online run: random steps, an RND exploration phase, then the policy collects. The phase ends at 1 200
# whether or not its data reach the goal, which depends on the CPU's float rounding (the extension's own tests below).
SHORT = dict(env_id="PointmassEasy-v0", total_steps=2_000, learning_starts=500, num_exploration_steps=1_200,
             eval_every=1_000, eval_episodes=10, batch_size=64, rnd_hidden=64, progress=False, extend_exploration=False)


@pytest.fixture(autouse=True)
def minari_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))


@pytest.fixture(autouse=True)
def one_thread():
    # The networks are tiny: on a busy 2-core runner a second intra-op thread only adds hand-offs (5x slower).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_dirs(path: Path) -> list[Path]:
    return [p for p in path.glob("*__*") if p.is_dir()]


def test_offline_exploitation_freezes_the_buffer_and_trains_on_it(tmp_path, monkeypatch):
    added, real = [], iql.ReplayBuffer.add
    monkeypatch.setattr(iql.ReplayBuffer, "add", lambda self, *a: (added.append(1), real(self, *a)))
    summary = iql.train(iql.Args(**{**SHORT, "offline_exploitation": True}, runs_dir=str(tmp_path)))
    # the phase's 1 200 transitions only; IQL's updates come after it, one per --train-frequency steps
    assert summary["status"] == "completed" and len(added) == 1_200
    assert summary["num_updates"] == len(range(1_200, 2_000, iql.Args().train_frequency))


# ---------------------------------------------------------------- losses
def test_expectile_half_is_half_squared_error():
    u = torch.tensor([-3.0, -0.5, 0.0, 2.0])
    assert torch.allclose(iql.expectile_loss(u, 0.5), 0.5 * u**2)


def test_expectile_weights_positive_and_negative_residuals():
    # u = Q - V: under-estimates (u > 0) weigh tau, over-estimates (u < 0) weigh 1 - tau
    out = iql.expectile_loss(torch.tensor([2.0, -2.0, 1.0]), 0.9)
    assert torch.allclose(out, torch.tensor([0.9 * 4, 0.1 * 4, 0.9 * 1]))


def test_value_loss_mean_and_gradient_only_into_v():
    q = torch.tensor([1.0, 3.0], requires_grad=True)
    v = torch.tensor([2.0, 2.0], requires_grad=True)
    loss = iql.value_loss(q, v, 0.8)  # residuals -1 (weight 0.2) and +1 (weight 0.8)
    assert loss.item() == pytest.approx((0.2 * 1 + 0.8 * 1) / 2)
    loss.backward()
    assert q.grad is None and v.grad is not None


def test_value_loss_upper_expectile_exceeds_mean():
    q = torch.tensor([0.0, 0.0, 0.0, 10.0])
    v = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([v], lr=0.05)
    for _ in range(2_000):
        opt.zero_grad()
        iql.value_loss(q, v.expand(4), 0.9).backward()
        opt.step()
    # the 0.9-expectile m solves 0.9 * (10 - m) = 0.1 * 3 m  ->  m = 7.5
    assert v.item() == pytest.approx(7.5, abs=1e-3)


def test_q_target_terminal_mask():
    r, next_v, term = torch.tensor([1.0, 1.0, 0.0]), torch.tensor([10.0, 10.0, 4.0]), torch.tensor([0.0, 1.0, 0.0])
    assert torch.allclose(iql.q_target(r, next_v, term, 0.9), torch.tensor([10.0, 1.0, 3.6]))


def test_q_loss_sums_the_twins():
    """Twin 0 misses the target by (1, 2), twin 1 by (3, 0): (1 + 4) / 2 + (9 + 0) / 2."""
    q_sa = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    assert iql.q_loss(q_sa, torch.tensor([0.0, 0.0])).item() == pytest.approx(2.5 + 4.5)


@pytest.mark.parametrize("twin", [True, False], ids=["twin Q", "one Q (--no-twin-q)"])
def test_one_update_computes_eqs_5_to_7_on_the_right_inputs(table, twin):
    """A 3-state, 2-action table, worked out with numpy: the twins' minimum (from the twin that is lower on each
    sample; with one Q its own value) in V's target and the weights, V(s') in Q's target, the terminal mask,
    the weight clip."""
    Q1, Q2 = np.array([[1.0, 4.0, 0.0], [2.0, -1.0, 3.0]]), np.array([[3.0, 2.0, 1.0], [0.0, 0.5, 5.0]])
    Qt1, Qt2 = Q1 + 0.5, Q2 - 0.5  # the target twins: the minimum switches twin between samples
    V, PI = np.array([[0.5, 1.5, -1.0]]), np.array([[0.2, -0.3, 1.0], [0.0, 0.4, -1.0]])
    state, action = np.array([0, 1, 2, 0]), np.array([0, 1, 0, 1])
    r, next_state, term = np.array([-1.0, 0.0, -1.0, -1.0]), np.array([1, 2, 0, 2]), np.array([0.0, 1.0, 0.0, 0.0])
    args = iql.Args(exploit_rew_shift=1.0, exploit_rew_scale=10.0, gamma=0.9, expectile=0.7, beta=2.0, max_weight=5.0)

    q_t = np.minimum(Qt1[action, state], Qt2[action, state]) if twin else Qt1[action, state]
    y = (r + 1.0) * 10.0 + 0.9 * (1 - term) * V[0, next_state]
    u = q_t - V[0, state]
    value = np.mean(np.abs(0.7 - (u < 0)) * u ** 2)
    td = np.mean((Q1[action, state] - y) ** 2) + (np.mean((Q2[action, state] - y) ** 2) if twin else 0.0)
    w = np.minimum(np.exp(2.0 * u), 5.0)
    logits = PI[:, state].T
    log_pi = logits[np.arange(4), action] - np.log(np.exp(logits).sum(1))
    assert (Qt1[action, state] < Qt2[action, state]).any() and (Qt1[action, state] > Qt2[action, state]).any()
    assert (w == 5.0).any() and (w < 5.0).any() and (u < 0).any()  # the clip and both expectile sides are used

    one_hot = lambda idx: torch.nn.functional.one_hot(torch.as_tensor(idx), 3).float()
    batch = (one_hot(state), torch.as_tensor(action), torch.tensor(r, dtype=torch.float32), one_hot(next_state),
             torch.tensor(term, dtype=torch.float32))
    n = 2 if twin else 1
    losses, means = iql.iql_losses(torch.nn.ModuleList([table(Q1), table(Q2)][:n]),
                                   torch.nn.ModuleList([table(Qt1), table(Qt2)][:n]), table(V), table(PI), batch, args)
    assert losses["value_loss"].item() == pytest.approx(value, rel=1e-5)
    assert losses["td_loss"].item() == pytest.approx(td, rel=1e-5)
    assert losses["actor_loss"].item() == pytest.approx(-np.mean(w * log_pi), rel=1e-5)
    q_mean = (Q1[action, state] + Q2[action, state]).mean() / 2 if twin else Q1[action, state].mean()
    assert means["q_values"].item() == pytest.approx(q_mean, rel=1e-5)
    assert means["v_values"].item() == pytest.approx(V[0, state].mean(), rel=1e-5)


def test_awr_weights_values_clip_and_detach():
    q = torch.tensor([1.0, 0.0, 5.0], requires_grad=True)
    v = torch.tensor([0.0, 1.0, 0.0])
    w = iql.awr_weights(q, v, beta=2.0, max_weight=100.0)
    assert torch.allclose(w, torch.tensor([math.exp(2.0), math.exp(-2.0), 100.0]))  # exp(10) is clipped
    assert not w.requires_grad
    assert iql.awr_weights(torch.tensor([1e4]), torch.tensor([0.0]), 1.0, 7.0).item() == 7.0  # no inf


def test_iql_actor_loss_hand_computed():
    logits = torch.zeros(2, 5, requires_grad=True)  # uniform policy: log pi = log 1/5
    loss = iql.iql_actor_loss(logits, torch.tensor([0, 3]), torch.tensor([1.0, 3.0]))
    assert loss.item() == pytest.approx(-(1.0 + 3.0) / 2 * math.log(0.2))
    loss.backward()
    # d/dlogits of -w log softmax: w (softmax - onehot) / B
    assert logits.grad[1, 3].item() == pytest.approx(3.0 * (0.2 - 1.0) / 2)


def test_rnd_bonus_is_a_norm_without_target_gradient():
    pred = torch.tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True)
    target = torch.zeros(2, 2, requires_grad=True)
    out = iql.rnd_bonus(pred, target)
    assert torch.allclose(out, torch.tensor([5.0, 0.0]))
    out.sum().backward()
    assert target.grad is None


def test_double_dqn_target():
    online = torch.tensor([[1.0, 2.0], [3.0, 0.0]])  # argmax: action 1, then action 0
    target = torch.tensor([[10.0, 20.0], [30.0, 40.0]])
    y = iql.double_dqn_target(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0]), online, target, 0.5)
    assert torch.allclose(y, torch.tensor([1.0 + 0.5 * 20.0, 1.0]))


def test_fourier_features_are_sin_and_cos_of_the_scaled_observation(fourier_reference):
    # MountainCar-like bounds: the shift to [0, 1] is folded into the features' phase, so check it too
    space = gym.spaces.Box(np.array([-1.2, -0.07], np.float32), np.array([0.6, 0.07], np.float32))
    torch.manual_seed(0)
    net = iql.FourierMLP(space, 5, 16, 8, 3.0)
    x = torch.tensor([[-1.2, -0.07], [0.0, 0.01], [0.6, 0.07]])
    expected = net.mlp(fourier_reference(x, space.low, space.high, n_features=8, sigma=3.0))
    torch.testing.assert_close(net(x), expected, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- replay buffer
def test_buffer_sample_and_minari_round_trip():
    env = iql.make_env("PointmassEasy-v0")
    buf = iql.ReplayBuffer(2, 10)
    for i in range(7):  # two episodes: terminated at i=2, truncated at i=5, and an unfinished one
        buf.add([i, i], [i + 1, i + 1], i % 5, -1.0, i == 2, i == 5)
    s, a, r, s_next, term, extra = buf.sample(32, np.random.default_rng(0), torch.device("cpu"))
    assert s.shape == (32, 2) and a.dtype == torch.int64 and r.shape == (32,) and extra.shape == (32, 0)
    assert torch.equal(s_next, s + 1) and torch.equal(term, (s[:, 0] == 2).float())
    buf.to_minari("test/roundtrip-v0", env)
    back = iql.ReplayBuffer.from_minari("test/roundtrip-v0", env)
    assert back.size == 7
    assert np.array_equal(back.table[:, :6], buf.table[:7, :6])  # s, s', a, r, terminated
    assert back.table[:, 7].tolist() == [0, 0, 0, 0, 0, 1, 1]  # truncated at 5 and at the cut end


def test_buffer_extra_columns_travel_with_their_transition():
    buf = iql.ReplayBuffer(2, 4, extra_dim=2)
    for i in range(4):
        buf.add([i, 0], [i + 1, 0], 0, -1.0, False, False, [3 * i, -i])
    s, _, _, _, _, extra = buf.sample(16, np.random.default_rng(1), torch.device("cpu"))
    assert torch.equal(extra, torch.stack([3 * s[:, 0], -s[:, 0]], dim=1))


# ---------------------------------------------------------------- end to end
def test_end_to_end_summary_tensorboard_images(tmp_path):
    s = iql.train(iql.Args(**SHORT, runs_dir=str(tmp_path), save_model=True))
    run_dir = Path(s["run_dir"])
    assert set(s) == SUMMARY_KEYS
    assert json.loads((run_dir / "summary.json").read_text()) == json.loads(json.dumps(s))
    assert json.loads((run_dir / "config.json").read_text())["env_id"] == "PointmassEasy-v0"
    assert (run_dir / "model.pt").exists() and not list(run_dir.glob("*.tmp"))
    assert s["status"] == "completed" and s["global_step"] == 2_000
    assert s["num_updates"] == len(range(1_200, 2_000, iql.Args.train_frequency))  # from the phase's end on
    assert s["eval_episodes"] == 100 and 0.0 <= s["success_rate"] <= 1.0 and 0.0 < s["coverage"] <= 1.0
    assert s["normalized_score"] == pytest.approx(pointmass.normalized_score("PointmassEasy-v0", s["return_mean"]))
    ea = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    ea.Reload()
    # the summary's final scores are the last ones logged, and a success rate counts whole episodes
    assert ea.Scalars("eval/success_rate")[-1].value == pytest.approx(s["success_rate"])
    assert ea.Scalars("exploration/coverage")[-1].value == pytest.approx(s["coverage"])
    successes = s["success_rate"] * s["eval_episodes"]
    assert successes == pytest.approx(round(successes))
    scalars = set(ea.Tags()["scalars"])
    for tag in ["charts/episodic_return", "charts/episodic_length", "charts/SPS", "eval/return_mean",
                "eval/return_std", "eval/success_rate", "eval/normalized_score", "losses/td_loss",
                "losses/value_loss", "losses/actor_loss", "losses/q_values", "losses/v_values", "losses/rnd_loss",
                "losses/explore_td_loss", "exploration/rnd_bonus", "exploration/coverage"]:
        assert tag in scalars, tag
    assert [e.step for e in ea.Scalars("eval/return_mean")] == [1_000, 2_000]
    assert [e.step for e in ea.Scalars("losses/td_loss")] == [2_000]
    assert [e.step for e in ea.Scalars("exploration/rnd_bonus")] == [1_000, 2_000]  # its last value: step 1 200
    images = set(ea.Tags()["images"])
    assert {"maps/state_density", "maps/value", "maps/eval_trajectory", "maps/rnd_bonus"} <= images
    assert [e.step for e in ea.Images("maps/rnd_bonus")] == [1_000]  # only during the exploration phase
    assert [e.step for e in ea.Images("maps/explore_value")] == [1_000]


def test_deterministic_with_same_seed(tmp_path):
    args = dict(SHORT, total_steps=1_500, eval_every=1_500)  # separate runs_dirs: same name within a second
    a, b = (iql.train(iql.Args(**args, runs_dir=str(tmp_path / name))) for name in "ab")
    for s in (a, b):
        s["args"].pop("runs_dir")
    assert {k: v for k, v in a.items() if k not in TIMING_KEYS} == {k: v for k, v in b.items() if k not in TIMING_KEYS}
    c = iql.train(iql.Args(**args, seed=2, runs_dir=str(tmp_path / "c")))
    assert c["return_mean"] != a["return_mean"] or c["coverage"] != a["coverage"]


def test_iql_trains_after_the_phase_unless_told_otherwise_on_the_same_data(tmp_path):
    """By default IQL's networks start updating at the phase's end; the exploration data do not depend on it."""
    import minari

    args = dict(SHORT, num_exploration_steps=1_500, train_frequency=1)
    on = iql.train(iql.Args(**args, train_during_exploration=True, save_dataset_id="test/on-v0",
                            runs_dir=str(tmp_path / "on")))
    off = iql.train(iql.Args(**args, save_dataset_id="test/off-v0", runs_dir=str(tmp_path / "off")))
    assert on["num_updates"] == 2_000 - SHORT["learning_starts"] and off["num_updates"] == 500
    ea = EventAccumulator(off["run_dir"], size_guidance={"scalars": 0})
    ea.Reload()
    assert [e.step for e in ea.Scalars("losses/td_loss")] == [2_000]  # no IQL loss during the phase
    a, b = (list(minari.load_dataset(name).iterate_episodes()) for name in ("test/on-v0", "test/off-v0"))
    assert len(a) == len(b) and all(np.array_equal(x.observations, y.observations) for x, y in zip(a, b))


def test_update_due_spreads_a_late_phases_updates_over_the_steps_left():
    """A phase of n steps: every train_frequency-th step. One extended to step 10 of 20 (n = 4, f = 2): the
    ceil(16 / 2) = 8 updates a 4-step phase would leave, spread over the 10 steps left (by hand:
    floor((i + 1) 8 / 10) > floor(i 8 / 10) for i = t - 10); one ending at 17: every step left."""
    due = [t for t in range(4, 20) if iql.update_due(t, 4, 4, 20, 2)]
    assert due == [4, 6, 8, 10, 12, 14, 16, 18] == [t for t in range(4, 20) if iql.update_due(t, None, 4, 20, 2)]
    assert [t for t in range(10, 20) if iql.update_due(t, 10, 4, 20, 2)] == [11, 12, 13, 14, 16, 17, 18, 19]
    assert [t for t in range(17, 20) if iql.update_due(t, 17, 4, 20, 2)] == [17, 18, 19]
    assert sum(iql.update_due(t, 24_988, 10_000, 50_000, 2) for t in range(24_988, 50_000)) == 20_000


def test_an_extended_phase_leaves_iql_the_updates_of_a_phase_of_n_steps(tmp_path):
    """Easy's goal is missed by step 300 (random actions until then), so the phase goes on past it (to step
    949 on our machine); IQL still gets the ceil((3 000 - 300) / 2) = 1 350 updates that a 300-step phase
    would have left it (one every 2 steps left would be about 1 025)."""
    s = iql.train(iql.Args(**{**SHORT, "env_id": "PointmassEasy-v0", "seed": 1, "total_steps": 3_000,
                              "num_exploration_steps": 300, "learning_starts": 300, "extend_exploration": True},
                           runs_dir=str(tmp_path)))
    assert s["status"] == "completed" and 300 < s["exploration_end_step"] <= 3_000 - 1_350
    assert s["num_updates"] == 1_350


def test_any_box_discrete_env_and_offline_dataset(tmp_path):
    # CartPole: no pointmass extras; --save-dataset-id then --dataset-id trains offline on that data
    s = iql.train(iql.Args(env_id="CartPole-v1", total_steps=800, learning_starts=200, num_exploration_steps=600,
                           eval_every=400, eval_episodes=5, batch_size=32, rnd_hidden=32, progress=False,
                           save_dataset_id="test/cartpole-v0", runs_dir=str(tmp_path / "online"), eval_sample=True))
    assert s["status"] == "completed" and s["success_rate"] is None and s["normalized_score"] is None
    assert s["coverage"] is None and s["return_mean"] > 0
    off = iql.train(iql.Args(env_id="CartPole-v1", dataset_id="test/cartpole-v0", total_steps=50, batch_size=32,
                             eval_every=50, eval_episodes=5, progress=False, runs_dir=str(tmp_path / "offline")))
    assert off["status"] == "completed" and off["num_updates"] == 50


def test_nan_loss_stops_keeps_log_and_last_good_model(tmp_path, monkeypatch):
    real = iql.value_loss
    calls = {"n": 0}

    def poisoned(q, v, tau):
        calls["n"] += 1
        return real(q, v, tau) * (float("nan") if calls["n"] > 200 else 1.0)

    monkeypatch.setattr(iql, "value_loss", poisoned)
    s = iql.train(iql.Args(**dict(SHORT, total_steps=4_000, eval_every=10_000), runs_dir=str(tmp_path)))
    run_dir = Path(s["run_dir"])
    assert s["status"] == "diverged" and "value_loss" in s["reason"] and s["global_step"] < 4_000
    state = torch.load(run_dir / "model.pt")
    assert all(torch.isfinite(t).all() for t in state["v"].values())
    assert list(run_dir.glob("events.out.tfevents.*")) and (run_dir / "summary.json").exists()


def test_ctrl_c_writes_interrupted_summary(tmp_path, monkeypatch):
    real, calls = iql.evaluate, {"n": 0}

    def interrupt_first(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(iql, "evaluate", interrupt_first)
    s = iql.train(iql.Args(**SHORT, runs_dir=str(tmp_path)))
    assert s["status"] == "interrupted" and s["global_step"] == 1_000
    on_disk = json.loads((Path(s["run_dir"]) / "summary.json").read_text())
    assert on_disk["status"] == "interrupted"
    ea = EventAccumulator(s["run_dir"])
    ea.Reload()
    assert "losses/explore_td_loss" in ea.Tags()["scalars"]  # logged at step 1 000, in the phase


@pytest.mark.parametrize("unsupervised", [False, True])
def test_exploration_critic_treats_the_goal_as_terminal_only_with_the_env_reward(tmp_path, monkeypatch, unsupervised):
    """Unsupervised, the bonus is a non-episodic return (Burda et al. 2019): the goal does not end it."""
    masks, real = [], iql.double_dqn_target
    monkeypatch.setattr(iql, "double_dqn_target",
                        lambda r, term, *a: (masks.append(term.clone()), real(r, term, *a))[1])
    # seed 1's random actions reach Easy's goal at step 631 (numpy only: the same on every CPU), so it is in the data
    s = iql.train(iql.Args(**{**SHORT, "total_steps": 1_300, "eval_every": 10_000, "learning_starts": 1_000},
                           unsupervised_exploration=unsupervised, runs_dir=str(tmp_path)))
    masks = torch.cat(masks)
    assert s["status"] == "completed" and s["first_goal_step"] == 631 and len(masks) > 0
    assert masks.sum() == 0 if unsupervised else masks.sum() > 0


@pytest.mark.parametrize("unsupervised", [False, True])
def test_exploration_phase_is_rnd_cqls_transition_for_transition(explores_as_rnd_cql, unsupervised):
    """At equal exploration flags a seed gives iql.py and rnd_cql.py the same exploration-phase data: the
    same networks drawn in the same order, the same updates (gradient clip included), the same roundings.
    IQL and CQL are then compared on the very same data, seed by seed."""
    explores_as_rnd_cql(iql, unsupervised)


def test_exploration_flags_mean_what_they_mean_in_rnd_cql(explores_as_rnd_cql):
    """Every exploration flag of rnd_cql.py, set away from its default, still gives both scripts the same data."""
    explores_as_rnd_cql(iql, False, other_flags=True)


def test_the_learners_widths_and_one_q_network_leave_the_phase_rnd_cqls(explores_as_rnd_cql):
    """The exploration networks are drawn before Q, V and the policy, so neither their width nor --no-twin-q
    changes what the phase collects."""
    explores_as_rnd_cql(iql, False, script_flags=[("hidden_size", 32), ("twin_q", False)])


def test_a_phase_extended_until_the_goal_is_rnd_cqls_too(explores_as_rnd_cql):
    """A phase that has not reached the goal by --num-exploration-steps goes on alike in both scripts."""
    explores_as_rnd_cql(iql, False, extended=True)


# ---------------------------------------------------------------- bad input
BAD_FLAGS = [
    (["--expectile", "1.0"], "--expectile must be in (0, 1)"),
    (["--expectile", "0"], "--expectile must be in (0, 1)"),
    (["--beta", "0"], "--beta must be > 0"),
    (["--beta", "-1"], "--beta must be > 0"),
    (["--eps", "1.5"], "--eps must be in [0, 1]"),
    (["--explore-gamma", "1.5"], "--explore-gamma must be in [0, 1]"),
    (["--rnd-gamma", "-0.1"], "--rnd-gamma must be in [0, 1]"),
    (["--explore-learning-rate", "0"], "--explore-learning-rate must be > 0"),
    (["--explore-hidden", "0"], "--explore-hidden must be >= 1"),
    (["--total-steps", "10000"], "--total-steps must be above --num-exploration-steps (10000), got 10000"),
    (["--total-steps", "0"], "--total-steps must be >= 1"),
    (["--num-exploration-steps", "-5"], "--num-exploration-steps must be >= 0"),
    (["--env-id", "NoSuchEnv-v0"], "--env-id 'NoSuchEnv-v0' is not a registered"),
    (["--env-id", "Blackjack-v1"], "--env-id must have a Box observation space"),
    (["--batch-size", "60000"], "--batch-size must be at most"),
    (["--dataset-id", "test/missing-v0"], "--dataset-id 'test/missing-v0' cannot be loaded"),
    (["--save-dataset-id", "not an id"], "--save-dataset-id"),
    (["--save-dataset-id", "noversion"], "--save-dataset-id 'noversion' must look like"),  # minari: TypeError
    (["--learning-rate", "inf"], "--learning-rate must be a finite number, got inf"),
    (["--exploit-rew-shift", "nan"], "--exploit-rew-shift must be a finite number, got nan"),
    (["--beta", "inf"], "--beta must be a finite number, got inf"),
    (["--seed", "-1"], "--seed must be in [0, 2**31 - 1], got -1"),
    (["--exp-name", "a/b"], "--exp-name must be a non-empty name without '/'"),
    (["--eval-episodes", "100000"], "--eval-episodes must be at most 10000"),
    (["--total-steps", "10000000000000"], "--total-steps 10000000000000: the replay table does not fit in memory"),
    (["--fourier-features", "-1"], "--fourier-features must be >= 0"),
    (["--fourier-sigma", "0"], "--fourier-sigma must be > 0"),
]


@pytest.mark.parametrize("flags,message", BAD_FLAGS)
def test_bad_input_main_exits_2_with_one_line(flags, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["iql.py", "--runs-dir", str(tmp_path / "runs"), "--no-progress", *flags])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(str(ROOT / "iql.py"), run_name="__main__")
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("iql.py: error: ") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_runs_dir_that_is_a_file_is_refused_untouched(tmp_path):
    not_a_dir = tmp_path / "runs"
    not_a_dir.write_text("keep me")
    with pytest.raises(iql.ConfigError, match="^--runs-dir .* is not a directory"):
        iql.train(iql.Args(**SHORT, runs_dir=str(not_a_dir)))
    assert not_a_dir.read_text() == "keep me"


def test_bad_input_real_subprocess(tmp_path):
    out = subprocess.run([sys.executable, "iql.py", "--expectile", "1.5", "--runs-dir", str(tmp_path / "runs")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == "iql.py: error: --expectile must be in (0, 1), got 1.5"
    assert not (tmp_path / "runs").exists()


def test_incompatible_dataset_and_small_dataset(tmp_path):
    buf = iql.ReplayBuffer(4, 100)
    for i in range(100):
        buf.add(np.zeros(4), np.zeros(4), 0, 1.0, False, i % 20 == 19)
    buf.to_minari("test/cartpole-small-v0", iql.make_env("CartPole-v1"))
    with pytest.raises(iql.ConfigError, match="^--dataset-id 'test/cartpole-small-v0' has spaces"):
        iql.train(iql.Args(env_id="PointmassEasy-v0", dataset_id="test/cartpole-small-v0", runs_dir=str(tmp_path)))
    with pytest.raises(iql.ConfigError, match=r"^--batch-size must be at most the number of transitions \(100\)"):
        iql.train(iql.Args(env_id="CartPole-v1", dataset_id="test/cartpole-small-v0", runs_dir=str(tmp_path)))
    with pytest.raises(iql.ConfigError, match="^--save-dataset-id 'test/cartpole-small-v0' already exists"):
        iql.train(iql.Args(env_id="CartPole-v1", save_dataset_id="test/cartpole-small-v0", runs_dir=str(tmp_path)))
    with pytest.raises(iql.ConfigError, match="^--save-dataset-id cannot be combined with --dataset-id"):
        iql.train(iql.Args(save_dataset_id="test/x-v0", dataset_id="test/cartpole-small-v0", runs_dir=str(tmp_path)))
    with pytest.raises(iql.ConfigError, match="^--save-dataset-id needs --num-exploration-steps > 0"):
        iql.train(iql.Args(save_dataset_id="test/x-v0", num_exploration_steps=0, train_during_exploration=True,
                           runs_dir=str(tmp_path)))
    assert not run_dirs(tmp_path)


# ---------------------------------------------------------------- learning (slow, run in CI)
@pytest.mark.slow
def test_learns_easy(tmp_path):
    s = iql.train(iql.Args(env_id="PointmassEasy-v0", total_steps=16_000, num_exploration_steps=5_000,
                           learning_starts=1_000, eval_every=8_000, progress=False, runs_dir=str(tmp_path)))
    assert s["normalized_score"] >= 80, s


@pytest.mark.slow
def test_beats_noisy_oracle_behaviour_policy(tmp_path, noisy_oracle_easy):
    dataset_id, behaviour = noisy_oracle_easy
    common = dict(env_id="PointmassEasy-v0", dataset_id=dataset_id, total_steps=4_000, eval_every=4_000,
                  progress=False, runs_dir=str(tmp_path))
    sarsa = iql.train(iql.Args(**common, expectile=0.5))
    best = iql.train(iql.Args(**common))
    assert best["return_mean"] > behaviour, (behaviour, best)
    assert best["return_mean"] >= sarsa["return_mean"] - 1.0, (sarsa, best)
