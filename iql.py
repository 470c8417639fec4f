"""Implicit Q-Learning (IQL) for discrete actions, after an RND exploration phase (CleanRL style).

Kostrikov, Nair, Levine, "Offline Reinforcement Learning with Implicit Q-Learning", ICLR 2022,
arXiv:2110.06169. IQL never evaluates Q at actions outside the data: V is an upper expectile of Q
over the data's actions, Q regresses on r + gamma V(s'), and the policy is extracted by
advantage-weighted regression (AWR) on the data's actions.
  eq. 5  L_V  = E_D[ L2^tau(Q_target(s, a) - V(s)) ],  L2^tau(u) = |tau - 1(u < 0)| u^2
  eq. 6  L_Q  = E_D[ (r + gamma (1 - terminated) V(s') - Q(s, a))^2 ]
  eq. 7  L_pi = -E_D[ min(exp(beta (Q_target(s, a) - V(s))), 100) log pi(a|s) ]
tau = 0.5 makes V the mean of Q under the data (SARSA-like: the behaviour policy's value); tau -> 1
approaches the best in-data action. The course's lambda is 1/beta. Twin Q with the minimum in the V
and AWR targets (the paper's code): with one Q (--no-twin-q) VeryHard's mean score fell from 98 to 21
(results/NOTES.md, IQL). Target Q is a hard copy every --target-update-period updates.

Exploration phase (Burda et al. 2019, arXiv:1810.12894): r_int(s') = ||f_hat(s') - f(s')|| divided by
an EMA of its batch std, f frozen and N(0, 1)-initialised (the course's U[0, 1) saturates every tanh,
so f is nearly constant and the bonus map flat), f_hat trained on next states. An exploration
double-DQN critic (squared TD error) learns r_mix = w_explore(t) r_int + w_exploit(t) r_env (raw r_env; the
shift/scale below are IQL's) and collects epsilon-greedily for N = --num-exploration-steps steps and, on a
maze, at least N/2 steps past the data's first goal (N steps past it if that came after step N). Then
the policy collects with its greedy action, epsilon-greedy: it is what is evaluated. The RND
predictor and the exploration critic stop training when the phase ends: nothing reads them afterwards.
Only `terminated` stops bootstrapping; time-limit truncations bootstrap (the course mixed them up).

Defaults that differ from the course's (why: the README's "Departures"; the measurements: results/NOTES.md):
- IQL reward (r + 1) * 100 (the course's hint): only the goal pays, so Q is 100 gamma^(steps to goal);
- tau = 0.9 and beta = 3 on that scaled reward;
- Q, V and the policy: 64-64 ReLU MLPs (course policy: 4x512 tanh) on 32 random Fourier features of the
  observation (see FourierMLP), Adam lr 3e-3 for every network (course 1e-3);
- gamma 0.99 (course 0.95): VeryHard's goal is 76 steps from the start, and 0.95^76 = 0.02 of its reward
  is too little to tell the start's actions apart;
- one IQL update every --train-frequency 2 env steps and a target copy every 100 updates (course: every
  step, every 300): one per 3 env steps was too few for VeryHard's corridor, a copy every 30 updates
  overestimated; the exploration critic and the RND predictor step at every env step of the phase, the
  predictor on a quarter of each batch (Burda et al.'s proportion 0.25), the exploration critic with a target
  copy every 30 of its updates (course 300). The phase is rnd_cql.py's, down to the order of random draws
  and the gradient clip: at equal exploration flags a seed collects the same exploration data in both
  scripts, whatever the flags of Q, V and the policy (a test checks it), so IQL and CQL learn from the same data;
- Q, V and the policy start training when the phase ends (course: at --learning-starts), on its data:
  trained through a long phase whose data barely hold the goal, IQL's value climbed far slower afterwards
  (VeryHard, in the README); --train-during-exploration restores the course's schedule;
- after the phase the policy's argmax collects, epsilon-greedily (it is what is evaluated);
- a phase whose data miss the goal at step N goes on until they reach it, and one whose data reach it
  after step N/2 goes on N/2 steps past it, as in rnd_cql.py (--no-extend-exploration: N steps, as the course);
  IQL then still makes the ceil((total - N) / --train-frequency) updates that a phase of N steps leaves it,
  spread over the steps left (see update_due): VeryHard phases that ended late left it too few.

    python iql.py --expectile 0.9
    python iql.py --env-id PointmassMedium-v0 --num-exploration-steps 20000 --unsupervised-exploration
    python iql.py --env-id PointmassEasy-v0 --dataset-id pointmass/easy-noisy-oracle-v0
    python iql.py --env-id PointmassVeryHard-v0 --no-extend-exploration     # the course's fixed 10 000-step phase
    python iql.py --env-id CartPole-v1 --no-use-rnd          # any Box-observation, Discrete-action env
"""

import contextlib
import copy
import dataclasses
import difflib
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, get_args

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import tyro
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch.utils.tensorboard import SummaryWriter

import pointmass  # registers the Pointmass ids with gymnasium

LOG_EVERY = 1_000  # env steps between scalar logs and divergence checks (also run before each evaluation)
EXPLORE_GRAD_CLIP = 10.0  # bound on each gradient component of the exploration critic (the course's 10)


@dataclass
class Args:
    # experiment
    exp_name: str = Path(__file__).stem
    """name of the experiment, part of the run directory's name"""
    seed: int = 1
    """seed of python, numpy, torch, the environments and the replay sampling"""
    torch_deterministic: bool = True
    """sets torch.backends.cudnn.deterministic; the same seed then gives the same summary"""
    cuda: bool = False
    """train on the GPU when one is available (the small networks are faster on the CPU)"""
    num_threads: int = 1
    """torch CPU threads; one is fastest for networks this small and leaves a core to the env"""
    runs_dir: str = "runs"
    """folder that receives the run directory"""
    save_model: bool = False
    """write model.pt (Q, target Q, V, policy) at the end"""
    progress: bool = True
    """show a progress bar (steps, SPS, last evaluation)"""
    total_steps: int = 50_000
    """env steps (with --dataset-id: gradient updates)"""
    eval_every: int = 5_000
    """steps between evaluations of the greedy policy"""
    eval_episodes: int = 100
    """episodes per periodic evaluation, at most 10 000 (the final one uses max(100, this))"""
    # environment
    env_id: str = "PointmassHard-v0"
    """gymnasium id: any env with a Box observation space and a Discrete action space"""
    dataset_id: Optional[str] = None
    """train purely offline on this Minari dataset (the env only evaluates)"""
    save_dataset_id: Optional[str] = None
    """write the exploration phase's data as this Minari dataset when the phase ends"""
    # exploration
    use_rnd: bool = True
    """add the RND bonus to the explorer's reward, its weight falling linearly 1 -> 0 (see --extend-exploration)"""
    num_exploration_steps: int = 10_000
    """length N of the exploration phase, in which the exploration critic collects (longer: --extend-exploration)"""
    extend_exploration: bool = True
    """pointmass, supervised: the phase lasts at least N/2 steps past the first goal, N past it if that is after N"""
    unsupervised_exploration: bool = False
    """exploration critic on the bonus alone (w_explore=1, w_exploit=0); uniform actions without RND"""
    offline_exploitation: bool = False
    """stop adding data after the exploration phase; training goes on with the frozen buffer"""
    learning_starts: int = 2_000
    """uniformly random actions and no updates in the first this many env steps (online only)"""
    eps: float = 0.2
    """probability of a uniformly random action while collecting"""
    rnd_hidden: int = 400
    """width of the RND networks' hidden layers"""
    rnd_layers: int = 2
    """number of hidden layers of the RND networks"""
    rnd_output_size: int = 5
    """output size of the RND networks"""
    explore_gamma: float = 0.95
    """discount of the exploration critic, apart from --gamma (Burda et al. discount the intrinsic return separately)"""
    rnd_gamma: float = 0.99
    """EMA factor of the running standard deviation that normalises the bonus (course: rnd_gamma)"""
    explore_learning_rate: float = 3e-3
    """Adam learning rate of the exploration critic and the RND predictor (course: 1e-3)"""
    explore_hidden: int = 64
    """width of the exploration critic's two hidden layers"""
    explore_target_update_period: int = 30
    """updates between hard copies of the exploration critic into its target (course: 300)"""
    explore_batch_size: int = 256
    """transitions per update of the exploration critic and the RND predictor (f_hat learns a quarter of them)"""
    # algorithm
    batch_size: int = 256
    """transitions per gradient update of the exploitation learner (the explorer's: --explore-batch-size)"""
    gamma: float = 0.99
    """discount factor of IQL's Q (course: 0.95)"""
    learning_rate: float = 3e-3
    """Adam learning rate of Q, V and the policy (the explorer and f_hat: --explore-learning-rate)"""
    exploit_rew_shift: float = 1.0
    """r' = (r + shift) * scale for IQL's Q (course default 0; its hint: 1)"""
    exploit_rew_scale: float = 100.0
    """see --exploit-rew-shift (course default 1; its hint: 100)"""
    expectile: float = 0.9
    """tau of eq. 5, in (0, 1): 0.5 estimates the behaviour policy's value, -> 1 the best in-data action"""
    beta: float = 3.0
    """inverse temperature of eq. 7, > 0 (the course's lambda is 1/beta)"""
    max_weight: float = 100.0
    """upper clip of the AWR weights exp(beta A) (the paper's 100)"""
    twin_q: bool = True
    """two Q networks and their minimum in the targets of eqs. 5 and 7 (the paper's code); --no-twin-q: one"""
    eval_sample: bool = False
    """evaluate by sampling from the policy's logits instead of taking their argmax"""
    hidden_size: int = 64
    """width of the two hidden layers of Q, V and the policy (the course's critics: 64)"""
    fourier_features: int = 32
    """random Fourier features of the input of Q, V, the policy and the exploration critic (0: raw input)"""
    fourier_sigma: float = 2.0
    """standard deviation of their frequencies, in cycles per unit of the [0, 1]-scaled observation"""
    target_update_period: int = 100
    """updates between hard copies of Q into its target (course: 300)"""
    train_frequency: int = 2
    """env steps per gradient update (more often after an extended phase; with --dataset-id every step)"""
    train_during_exploration: bool = False
    """train Q, V and the policy during the exploration phase too (course: from --learning-starts on)"""


class ConfigError(ValueError):
    """A bad flag value or unusable data, found before anything is written; the message starts with the flag."""


def parse_args(argv: list[str]) -> Args:
    """Args from the command line, parsed by tyro. A flag it does not know, a missing value and a value of the wrong
    type are refused first, in one line that names the flag (tyro answers them with a box of help text)."""
    if {"-h", "--help"} & set(argv):
        return tyro.cli(Args, args=argv)
    kinds = {}  # "--flag": (the type its value must convert to, None for a switch; whether "None" is a value)
    for field in dataclasses.fields(Args):
        flag, types = "--" + field.name.replace("_", "-"), (field.type, *get_args(field.type))
        kind = next((t for t in (bool, int, float, str) if t in types), str)
        kinds[flag] = (None if kind is bool else kind, type(None) in types)
        if kind is bool:
            kinds["--no-" + flag[2:]] = (None, False)

    def is_flag(token: str) -> bool:
        """tyro's rule: "--", one of ours, or a dash and a letter; "-5", "-.5", "-inf" and "-_x" are values."""
        if token == "--" or token.partition("=")[0].replace("_", "-") in kinds:
            return True
        number = token[1:].lower() in ("inf", "infinity", "nan")
        return token[:1] == "-" and token.lstrip("-")[:1].isalpha() and not number

    what = {int: "an integer", float: "a number", str: "a string"}
    i, switch = 0, None  # switch: the previous token, when it was a flag that takes no value
    while i < len(argv):
        token, i = argv[i], i + 1
        if token == "--":  # the end of the flags: tyro judges the rest
            break
        flag, has_value, value = token.partition("=") if token.startswith("--") else (token, "", token)
        flag = flag.replace("_", "-")
        if flag in kinds and kinds[flag][0] is None and has_value:  # --use-rnd=False
            switch = flag
        elif switch is not None and not is_flag(token):  # --use-rnd False
            value = token
        else:
            switch = None
        if switch is not None:
            name = switch.removeprefix("--no-").removeprefix("--")
            raise ConfigError(f"{switch} takes no value, got {value!r}: write --{name} or --no-{name}")
        if flag not in kinds:
            close = difflib.get_close_matches(flag, kinds, n=1, cutoff=0.75)
            hint = (f"; did you mean {close[0]}?" if close else " (see --help)") if is_flag(token) else \
                ": flags come as --name value (see --help)"
            raise ConfigError(f"{token} is not a flag of {Path(__file__).name}{hint}")
        kind, may_be_none = kinds[flag]
        if kind is None:
            switch = flag
            continue
        if not has_value:
            value, i = (argv[i] if i < len(argv) else "--"), i + 1
            if is_flag(value):
                raise ConfigError(f"{flag} needs a value: {what[kind]}")
        try:
            kind(value) if not (may_be_none and value == "None") else None
        except ValueError:
            raise ConfigError(f"{flag} must be {what[kind]}{' or None' * may_be_none}, got {value!r}") from None
    return tyro.cli(Args, args=argv)


def check_common_args(args, counts: tuple = (), rates: tuple = ()) -> None:
    """The checks of the flags that every script has; `counts` (>= 1) and `rates` (> 0) are the script's own."""
    for name in ("total_steps", "num_threads", "eval_every", "eval_episodes", "batch_size", "rnd_hidden", "rnd_layers",
                 "rnd_output_size", "explore_hidden", "explore_target_update_period", "explore_batch_size",
                 "target_update_period", "train_frequency", *counts):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    for name in ("num_exploration_steps", "learning_starts", "fourier_features"):
        if getattr(args, name) < 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    for name in ("eps", "gamma", "explore_gamma", "rnd_gamma"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 1], got {getattr(args, name)}")
    for name in ("learning_rate", "explore_learning_rate", "fourier_sigma", *rates):
        if not getattr(args, name) > 0.0:  # also refuses nan
            raise ConfigError(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name)}")
    for name in ("dataset_id", "save_dataset_id"):  # an empty id would read as "no dataset" in one place, not another
        if getattr(args, name) == "":
            raise ConfigError(f"--{name.replace('_', '-')} must be a Minari dataset id such as "
                              "pointmass/hard-noisy-oracle-v0, got ''")
    if not args.dataset_id and args.offline_exploitation and args.num_exploration_steps == 0:
        raise ConfigError("--offline-exploitation needs --num-exploration-steps > 0 (it trains on that phase's data)")
    if not args.dataset_id and args.use_rnd and args.num_exploration_steps > 0 and args.explore_batch_size < 2:
        raise ConfigError(f"--explore-batch-size must be >= 2 with --use-rnd, got {args.explore_batch_size}: the bonus "
                          "is divided by the batch's standard deviation")
    phase = min(args.total_steps, args.num_exploration_steps)  # the phase's data, at the least
    explorer_learns = args.use_rnd or not args.unsupervised_exploration  # else the phase's actions are uniform
    if not args.dataset_id and phase > 0 and explorer_learns and args.explore_batch_size > phase:
        raise ConfigError(f"--explore-batch-size must be at most the exploration phase's {phase} transitions, "
                          f"got {args.explore_batch_size}")
    if args.dataset_id and args.save_dataset_id:
        raise ConfigError("--save-dataset-id cannot be combined with --dataset-id (nothing is collected)")
    if args.save_dataset_id and args.num_exploration_steps == 0:
        raise ConfigError("--save-dataset-id needs --num-exploration-steps > 0 (it saves that phase's data)")
    if not args.dataset_id and args.learning_starts >= args.total_steps:
        raise ConfigError(f"--learning-starts must be below --total-steps ({args.total_steps}), "
                          f"got {args.learning_starts}: no gradient step would be taken")
    # legal, and tests use it for data that every CPU collects alike, but rarely what a user means
    fixed = not (args.extend_exploration and pointmass.is_pointmass(args.env_id) and not args.unsupervised_exploration)
    if not args.dataset_id and explorer_learns and fixed and 0 < args.num_exploration_steps <= args.learning_starts:
        print(f"{Path(__file__).name}: warning: the exploration phase ends by --learning-starts "
              f"({args.learning_starts}): its actions are all uniformly random and its critic never learns",
              file=sys.stderr)
    if args.cuda and not torch.cuda.is_available():
        print(f"{Path(__file__).name}: warning: --cuda, but torch finds no CUDA device: the run trains on the CPU",
              file=sys.stderr)

    # every other flag: a finite number, a seed numpy accepts, a run directory that can be created
    for field in dataclasses.fields(args):
        value = getattr(args, field.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"--{field.name.replace('_', '-')} must be a finite number, got {value}")
    if not 0 <= args.seed < 2**31:
        raise ConfigError(f"--seed must be in [0, 2**31 - 1], got {args.seed}")
    if args.eval_episodes > 10_000:
        raise ConfigError(f"--eval-episodes must be at most 10000 (one vector sub-env each), got {args.eval_episodes}")
    if not args.exp_name or "/" in args.exp_name or os.sep in args.exp_name:
        raise ConfigError(f"--exp-name must be a non-empty name without '/', got {args.exp_name!r}")
    if Path(args.runs_dir).exists() and not Path(args.runs_dir).is_dir():
        raise ConfigError(f"--runs-dir {args.runs_dir!r} exists and is not a directory")


def check_args(args: Args) -> None:
    """Every flag, before any work starts; the flags all three scripts share go through check_common_args."""
    if not 0.0 < args.expectile < 1.0:
        raise ConfigError(f"--expectile must be in (0, 1), got {args.expectile}")
    check_common_args(args, counts=("hidden_size",), rates=("beta", "max_weight"))
    if not args.train_during_exploration and not args.dataset_id and args.num_exploration_steps >= args.total_steps:
        raise ConfigError(f"--total-steps must be above --num-exploration-steps ({args.num_exploration_steps}), got "
                          f"{args.total_steps}: IQL trains after the phase (or add --train-during-exploration)")
    start = max(args.learning_starts, 0 if args.train_during_exploration else args.num_exploration_steps)
    first = -(-start // args.train_frequency) * args.train_frequency  # the first step t that can update
    if not args.dataset_id and first >= args.total_steps:
        raise ConfigError(f"--total-steps must be above {first}, got {args.total_steps}: with --learning-starts "
                          f"{args.learning_starts}, --num-exploration-steps {args.num_exploration_steps} and "
                          f"--train-frequency {args.train_frequency} no gradient step would be taken")


def make_env(env_id: str) -> gym.Env:
    try:
        env = gym.make(env_id)
    except gym.error.Error as err:
        raise ConfigError(f"--env-id {env_id!r} is not a registered gymnasium environment ({err})") from None
    except ImportError as err:  # an id "module:Name-v0" whose module is missing, or an env's missing dependency
        raise ConfigError(f"--env-id {env_id!r} cannot be imported ({err})") from None
    if not (isinstance(env.observation_space, gym.spaces.Box) and isinstance(env.action_space, gym.spaces.Discrete)):
        env.close()
        raise ConfigError(f"--env-id must have a Box observation space and a Discrete action space, "
                          f"{env_id} has {env.observation_space} and {env.action_space}")
    if env.action_space.start != 0:  # the networks' outputs index the actions from 0
        env.close()
        raise ConfigError(f"--env-id must have a Discrete action space that starts at 0, {env_id}'s starts at "
                          f"{env.action_space.start}")
    if len(env.observation_space.shape) != 1:  # an image or a grid: the MLPs read it as one vector
        env = gym.wrappers.FlattenObservation(env)
    return env


class Tanh(nn.Module):
    """tanh(x) computed as 2 sigmoid(2x) - 1: the same function (within 2e-7), but torch.tanh was 3 times slower
    on the AMD EPYC of our grid, where the RND networks' tanh took about 6% of a default run (on an Intel Xeon
    it is the faster one; kept, since any change of rounding changes every run: results/NOTES.md, Machines)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(2 * x) * 2 - 1


def mlp(in_dim: int, hidden: int, layers: int, out_dim: int, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    dims = [in_dim] + [hidden] * layers
    body = [m for a, b in zip(dims, dims[1:]) for m in (nn.Linear(a, b), activation())]
    return nn.Sequential(*body, nn.Linear(dims[-1], out_dim))


class FourierMLP(nn.Module):
    """An MLP of random Fourier features [sin 2piBx, cos 2piBx], B ~ N(0, sigma^2) (Tancik et al. 2020, eq. 5).

    x is the observation with its finite bounds scaled to [0, 1]. A ReLU MLP on the raw (row, col) is too
    smooth to tell the two sides of a wall apart; Fourier features reduce its error on the mazes' optimal
    values about 25 times. `n_features=0` is the course's plain MLP on the raw observation.
    """

    def __init__(self, space: gym.spaces.Box, out_dim: int, hidden: int, n_features: int, sigma: float,
                 layers: int = 2, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        # a bound of 1e6 or more (often float32's max, standing for "none") is ignored: it would scale x to a constant
        finite = (np.abs(space.low) < 1e6) & (np.abs(space.high) < 1e6)
        low, high = np.where(finite, space.low, 0.0), np.where(finite, space.high, 1.0)
        scale = torch.tensor(np.where(finite, 1.0 / (high - low + 1e-8), 1.0), dtype=torch.float32)
        low = torch.tensor(low, dtype=torch.float32)
        B = 2 * np.pi * sigma * torch.randn(space.shape[0], n_features)
        # z = ((obs - low) * scale) @ B is affine in obs and cos z = sin(z + pi/2), so the features are ONE
        # linear map and ONE sin: four fewer tensor ops per forward pass than sub, mul, matmul, sin, cos, cat
        offset = -(low * scale) @ B
        self.register_buffer("weight", (scale[:, None] * B).T.repeat(2, 1))
        self.register_buffer("phase", torch.cat([offset, offset + np.pi / 2]))
        self.mlp = mlp(2 * n_features if n_features else space.shape[0], hidden, layers, out_dim, activation)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if not len(self.phase):
            return self.mlp(obs)
        return self.mlp(torch.sin(F.linear(obs, self.weight, self.phase)))


def rnd_networks(obs_dim: int, hidden: int, layers: int, out_dim: int) -> tuple[nn.Module, nn.Module]:
    """(frozen target f, predictor f_hat), tanh MLPs initialised with different schemes, so the error starts above 0.

    f is drawn N(0, 1), a rough function that f_hat, with PyTorch's default init, fits only where it has seen
    data; the course's U[0, 1) target saturates every tanh, so f is nearly constant and the bonus map flat."""
    target = mlp(obs_dim, hidden, layers, out_dim, Tanh)
    for p in target.parameters():
        nn.init.normal_(p)
    target.requires_grad_(False)
    predictor = mlp(obs_dim, hidden, layers, out_dim, Tanh)
    return target, predictor


class ReplayBuffer:
    """Every transition in one preallocated float32 table, so that a batch is one numpy fancy index.

    Row: s | s' | a | r | terminated | truncated | `extra_dim` more columns (the frozen RND target's f(s'),
    computed once when s' arrives instead of at every update that samples it: the same numbers for a third
    less RND compute). truncated only marks episode ends for to_minari; it never stops bootstrapping.
    The same class, line for line, in rnd_cql.py, awac.py and iql.py (a test checks it).
    """

    def __init__(self, obs_dim: int, capacity: int, extra_dim: int = 0):
        self.d, self.size = obs_dim, 0
        self.table = np.zeros((capacity, 2 * obs_dim + 4 + extra_dim), dtype=np.float32)

    def add(self, obs, next_obs, action, reward, terminated, truncated, extra=()) -> None:
        d, row = self.d, self.table[self.size]
        row[:d], row[d:2 * d] = obs, next_obs
        row[2 * d:2 * d + 4] = (action, reward, terminated, truncated)
        row[2 * d + 4:] = extra
        self.size += 1

    def sample(self, batch_size: int, rng: np.random.Generator, device: torch.device) -> tuple[torch.Tensor, ...]:
        """(s, a, r, s', terminated, extra) of `batch_size` uniformly drawn transitions."""
        batch = torch.from_numpy(self.table[rng.integers(0, self.size, batch_size)]).to(device)
        d = self.d
        return (batch[:, :d], batch[:, 2 * d].long(), batch[:, 2 * d + 1], batch[:, d:2 * d], batch[:, 2 * d + 2],
                batch[:, 2 * d + 4:])

    @staticmethod
    def head(batch: tuple[torch.Tensor, ...], n: int) -> tuple[torch.Tensor, ...]:
        """The first n transitions of a sampled batch: its rows are iid draws, so they are a uniform sample too
        (one draw then serves two learners of different batch sizes)."""
        return tuple(x[:n] for x in batch)

    def observations(self) -> np.ndarray:
        """Every s and s' (an episode's last state, such as the goal, is only an s')."""
        return self.table[:self.size, :2 * self.d].reshape(-1, self.d)

    @classmethod
    def from_minari(cls, dataset_id: str, env: gym.Env) -> "ReplayBuffer":
        import minari

        try:
            dataset = minari.load_dataset(dataset_id)
        except (FileNotFoundError, ValueError) as err:
            raise ConfigError(f"--dataset-id {dataset_id!r} cannot be loaded ({err})") from None
        obs_space, act_space = dataset.observation_space, dataset.action_space
        # make_env flattens an image or a grid, so the dataset's observations may have any shape of that size
        if not (isinstance(act_space, gym.spaces.Discrete) and act_space.n == env.action_space.n
                and isinstance(obs_space, gym.spaces.Box)
                and gym.spaces.flatdim(obs_space) == env.observation_space.shape[0]):
            raise ConfigError(f"--dataset-id {dataset_id!r} has spaces {obs_space}, {act_space}; "
                              f"--env-id needs {env.observation_space}, {env.action_space}")
        recorded = dataset.env_spec.id if dataset.env_spec is not None else None  # the four mazes share their spaces
        if recorded is not None and env.spec is not None and recorded != env.spec.id:
            raise ConfigError(f"--dataset-id {dataset_id!r} was collected on {recorded}, not on --env-id {env.spec.id}")
        episodes = list(dataset.iterate_episodes())
        rb = cls(env.observation_space.shape[0], sum(len(ep.rewards) for ep in episodes))
        for ep in episodes:
            n, d = len(ep.rewards), rb.d
            rows = rb.table[rb.size:rb.size + n]
            obs = np.asarray(ep.observations).reshape(n + 1, d)  # make_env's flattening, if any
            rows[:, :d], rows[:, d:2 * d] = obs[:-1], obs[1:]
            rows[:, 2 * d:2 * d + 4] = np.stack([ep.actions, ep.rewards, ep.terminations, ep.truncations], axis=1)
            rows[-1, 2 * d + 3] = not ep.terminations[-1]  # an episode cut short by the dataset's end
            rb.size += n
        return rb

    def to_minari(self, dataset_id: str, env: gym.Env) -> "minari.MinariDataset":
        import minari
        from minari.data_collector import EpisodeBuffer
        from minari.storage import get_dataset_path

        d, t = self.d, self.table[:self.size]
        ends = np.flatnonzero(t[:, 2 * d + 2] + t[:, 2 * d + 3]) + 1
        if not len(ends) or ends[-1] != self.size:
            ends = np.append(ends, self.size)  # the unfinished last episode is stored as truncated
        episodes = []
        for i, (start, end) in enumerate(zip(np.r_[0, ends[:-1]], ends)):
            rows = t[start:end]
            terminations = rows[:, 2 * d + 2] > 0
            truncations = np.zeros_like(terminations)
            truncations[-1] = not terminations[-1]
            episodes.append(EpisodeBuffer(
                id=i, observations=np.concatenate([rows[:, :d], rows[-1:, d:2 * d]]),
                actions=rows[:, 2 * d].astype(np.int64), rewards=rows[:, 2 * d + 1].astype(np.float64),
                terminations=terminations, truncations=truncations))
        script, path = Path(__file__).name, get_dataset_path(dataset_id)
        new = not path.exists()
        try:
            with warnings.catch_warnings():  # minari asks for an author, an e-mail, a permalink... on stderr
                warnings.simplefilter("ignore", UserWarning)
                return minari.create_dataset_from_buffers(dataset_id, episodes, env=env.spec, algorithm_name=script,
                                                          description=f"{self.size} transitions collected by {script}")
        except BaseException:  # Ctrl-C or an error mid-write: no half-written dataset is left under the id
            if new:
                shutil.rmtree(path, ignore_errors=True)
            raise


def check_new_dataset_id(dataset_id: str) -> None:
    """--save-dataset-id must be a valid Minari id that is not taken: checked before the run starts."""
    from minari.dataset.minari_dataset import parse_dataset_id  # lazy, as in ReplayBuffer's Minari methods
    from minari.storage import get_dataset_path

    try:
        parse_dataset_id(dataset_id)
    except (ValueError, gym.error.Error) as err:  # minari 0.5.0 raises gymnasium's Error, later ones ValueError
        raise ConfigError(f"--save-dataset-id {err}") from None
    except TypeError:  # minari 0.5's parse_dataset_id fails this way when the -vN suffix is missing
        raise ConfigError(f"--save-dataset-id {dataset_id!r} must look like [namespace/]name-vN") from None
    if get_dataset_path(dataset_id).exists():
        raise ConfigError(f"--save-dataset-id {dataset_id!r} already exists at {get_dataset_path(dataset_id)}; "
                          "choose a new name or version")
    inside = next((p for p in get_dataset_path(dataset_id).parents if (p / "data").is_dir()), None)
    if inside is not None:  # Minari would write it into that dataset's folder, where list_local_datasets misses it
        raise ConfigError(f"--save-dataset-id {dataset_id!r} would lie inside the dataset at {inside}")


# ---- pure losses, one per equation: tensors in, tensors out ----
def expectile_loss(u: torch.Tensor, tau: float) -> torch.Tensor:
    """L2^tau(u) = |tau - 1(u < 0)| u^2, elementwise (eq. 5; the course's PDF drops the u^2)."""
    return torch.abs(tau - (u < 0).float()) * u.pow(2)


def value_loss(q_target_sa: torch.Tensor, v: torch.Tensor, tau: float) -> torch.Tensor:
    """Eq. 5: V(s) is fitted to the tau-expectile of the target Q of the data's actions."""
    return expectile_loss(q_target_sa.detach() - v, tau).mean()


def q_target(rewards: torch.Tensor, next_v: torch.Tensor, terminated: torch.Tensor, gamma: float) -> torch.Tensor:
    """Target of eq. 6: V(s') takes the place of max_a' Q(s', a'), so no unseen action is queried."""
    return (rewards + gamma * (1.0 - terminated) * next_v).detach()


def q_loss(q_sa: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 6 for each twin: q_sa (n_twins, B), target (B,); the twins' mean squared errors are summed."""
    return (q_sa - target).pow(2).mean(1).sum()


def awr_weights(q_sa: torch.Tensor, v: torch.Tensor, beta: float, max_weight: float = 100.0) -> torch.Tensor:
    """exp(beta (Q - V)) of eq. 7, detached (the actor must not move the critics), clipped from above."""
    return torch.exp(beta * (q_sa - v).detach()).clamp(max=max_weight)


def iql_actor_loss(logits: torch.Tensor, actions: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Eq. 7: the data's actions' log-likelihood weighted by awr_weights, negated."""
    return -(weights * F.log_softmax(logits, -1).gather(1, actions[:, None]).squeeze(1)).mean()


def rnd_bonus(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """RND error per state, ||f_hat(s') - f(s')|| (Burda et al. 2019; course eq. 1: a norm, not squared).

    The target f is frozen: it gets no gradient even when handed a tensor that requires one."""
    return torch.linalg.vector_norm(prediction - target.detach(), dim=-1)


def double_dqn_target(reward, terminated, next_q_online, next_q_target, gamma: float) -> torch.Tensor:
    """y = r + gamma (1 - terminated) Q_target(s', argmax_a Q(s', a)) (van Hasselt et al. 2016, eq. 4)."""
    next_action = next_q_online.argmax(dim=1, keepdim=True)
    return reward + gamma * (1.0 - terminated) * next_q_target.gather(1, next_action).squeeze(1)


def exploration_schedule(t: int, n: int, first_goal: Optional[int], extend: bool) -> tuple[float, bool]:
    """(w_explore of supervised RND exploration, whether the exploration phase is on) at env step t.

    The course's schedule: w falls linearly from 1 to 0 over the first n = --num-exploration-steps steps, which
    are the phase. With `extend` (first_goal: the step of the first terminated transition, or None) the phase
    also lasts n // 2 steps past the first goal, so that the data hold the goal more than a few times: if the goal
    came after step n / 2 the phase ends at first_goal + n // 2, w staying 0 after step n; if it has not come by
    step n the phase goes on at w = 1 until it does, w then falls to 0 over n more steps and the phase ends at
    first_goal + n. A run whose data reach the goal within n / 2 steps computes as the course's.
    """
    if extend and 0 < n <= t:
        if first_goal is None:
            return 1.0, True
        if first_goal >= n:
            return max(0.0, 1.0 - (t - first_goal) / n), t < first_goal + n
        return 0.0, t < first_goal + n // 2
    return max(0.0, 1.0 - t / max(1, n)), t < n


def reward_weights(w_decay: float, use_rnd: bool, unsupervised: bool) -> tuple[float, float]:
    """(w_explore, w_exploit) of r_mix = w_explore r_int + w_exploit r_env (course PDF): the course's decaying
    w_explore with RND and 0 without it, w_exploit 1; the bonus alone, (1, 0), when unsupervised."""
    w_explore = (1.0 if unsupervised else w_decay) if use_rnd else 0.0
    return w_explore, (0.0 if unsupervised else 1.0)


def update_due(t: int, phase_end: Optional[int], n: int, total_steps: int, train_frequency: int) -> bool:
    """Whether the learners update at env step t (from 0, after the phase): every `train_frequency` steps.

    After a phase extended past its n steps, the updates a phase of n steps would have left them,
    ceil((total_steps - n) / train_frequency), are spread evenly over the steps left (at most one per step): a value
    that climbs a corridor one target copy at a time must not lose updates to a goal found late (VeryHard:
    results/NOTES.md). A phase of n steps or fewer computes as one update every train_frequency steps.
    """
    if phase_end is None or phase_end <= n:
        return t % train_frequency == 0
    left = total_steps - phase_end
    quota = min(left, -(-(total_steps - n) // train_frequency))
    i = t - phase_end  # step i of the `left` steps updates when its running share i * quota / left passes an integer
    return (i + 1) * quota // left > i * quota // left


def iql_losses(q_net, q_target_net, v_net, actor, batch, args) -> tuple[dict, dict]:
    """Eqs. 5, 6 and 7 on one batch (s, a, r, s', terminated): ({value_loss, td_loss, actor_loss}, the means of
    Q(s, a) and V(s) for the log). Q_target is the minimum over the target Q networks (the twins, or one);
    V(s') bootstraps; every target is detached."""
    s, a, r, s_next, term = batch
    with torch.no_grad():
        q_t = torch.stack([q(s) for q in q_target_net]).min(0).values.gather(1, a[:, None]).squeeze(1)
        y = q_target((r + args.exploit_rew_shift) * args.exploit_rew_scale, v_net(s_next)[:, 0], term, args.gamma)
    v = v_net(s)[:, 0]
    q_sa = torch.stack([q(s).gather(1, a[:, None]).squeeze(1) for q in q_net])
    weights = awr_weights(q_t, v, args.beta, args.max_weight)
    return ({"value_loss": value_loss(q_t, v, args.expectile), "td_loss": q_loss(q_sa, y),
             "actor_loss": iql_actor_loss(actor(s), a, weights)}, {"q_values": q_sa.mean(), "v_values": v.mean()})


@torch.no_grad()
def evaluate(net: nn.Module, env_id: str, n_episodes: int, seed: int, device: torch.device, sample: bool = False,
             record: int = 4) -> dict:
    """One episode per sub-env of a vector env, acting on argmax of the net's outputs (Q-values or logits), or
    with `sample` drawing from softmax(logits). Steps after an episode's end (autoreset) are ignored; the
    paths of the first `record` episodes are kept for the trajectory map."""
    envs = gym.make_vec(env_id, num_envs=n_episodes)
    obs, _ = envs.reset(seed=seed)
    returns, success, done = np.zeros(n_episodes), np.zeros(n_episodes, bool), np.zeros(n_episodes, bool)
    paths = [[o] for o in obs[:record]]
    while not done.all():
        out = net(torch.as_tensor(obs.reshape(n_episodes, -1), dtype=torch.float32, device=device))
        actions = torch.distributions.Categorical(logits=out).sample() if sample else out.argmax(1)
        obs, reward, terminated, truncated, _ = envs.step(actions.cpu().numpy())
        live = ~done
        returns += np.where(live, reward, 0.0)
        success |= live & terminated
        for i in np.flatnonzero(live[:record]):
            paths[i].append(obs[i])
        done |= terminated | truncated
    envs.close()
    return {"returns": returns, "success": success, "paths": [np.array(p) for p in paths]}


def make_run_dir(args: Args) -> Path:
    """runs/{env_id}__{exp_name}__{seed}__{unix_time}, a namespaced id's '/' as '-'; mkdir is atomic, so a
    parallel run started in the same second takes the next free second instead of sharing a directory."""
    try:
        Path(args.runs_dir).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--runs-dir {args.runs_dir!r} cannot be created ({err.strerror})") from None
    stamp = int(time.time())
    while True:
        run_dir = Path(args.runs_dir) / f"{args.env_id.replace('/', '-')}__{args.exp_name}__{args.seed}__{stamp}"
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            stamp += 1


@contextlib.contextmanager
def sigint_ignored():
    """Ctrl-C does nothing inside the block: the run is over, and model.pt and summary.json are written whole."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set a handler
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def write_json(path: Path, data: dict) -> None:
    """Write to a temporary name, then rename: a reader (or a crash) never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def machine(device: torch.device) -> str:
    """What computed the run. Kernels round differently on each kind of CPU (AVX2, AVX-512) and GPU, so a seed
    gives the same numbers only on the same kind of machine; on Linux the family and model tell CPUs apart."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            first = f.read().split("\n\n")[0].splitlines()  # the first processor's block
        info = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in first)}
        family = f" (family {info['cpu family']}, model {info['model']})" if "cpu family" in info else ""
        cpu = info.get("model name", cpu) + family
    return f"{cpu}, {torch.backends.cpu.get_cpu_capability()}, {os.cpu_count()} cores, torch {torch.__version__}"


def code_commit(folder: Path = Path(__file__).resolve().parent) -> Optional[str]:
    """The git commit of the checkout that holds this file, "+" appended when one of its Python files has
    uncommitted changes (results written by earlier runs do not count); None outside git. With `machine`, what
    a summary's numbers can be computed again from."""
    def git(*command: str) -> Optional[str]:
        try:
            out = subprocess.run(["git", *command], cwd=folder, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):  # no git, or it hung
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    head = git("rev-parse", "--short=7", "HEAD")
    if not head:
        return None
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "*.py")
    return None if changed is None else head + ("+" if changed else "")


def train(args: Args) -> dict:
    # Every validation happens before the run directory exists.
    check_args(args)
    env = make_env(args.env_id)
    obs_dim, n_actions = env.observation_space.shape[0], int(env.action_space.n)
    online = args.dataset_id is None
    if online:
        try:
            buffer = ReplayBuffer(obs_dim, args.total_steps, args.rnd_output_size if args.use_rnd else 0)
        except MemoryError:
            raise ConfigError(f"--total-steps {args.total_steps}: the replay table does not fit in memory") from None
        data_size = min(args.total_steps, args.num_exploration_steps) if args.offline_exploitation else args.total_steps
    else:
        buffer = ReplayBuffer.from_minari(args.dataset_id, env)
        data_size = buffer.size
    if args.batch_size > data_size:
        raise ConfigError(f"--batch-size must be at most the number of transitions ({data_size}), "
                          f"got {args.batch_size}")
    if args.save_dataset_id:
        check_new_dataset_id(args.save_dataset_id)
    is_pm = pointmass.is_pointmass(args.env_id)
    # the phase: none offline; N steps, or longer while the goal is missing (see exploration_schedule)
    exploration_steps = args.num_exploration_steps if online else 0
    extend = args.extend_exploration and is_pm and not args.unsupervised_exploration
    first_goal = phase_end = None  # steps of the first goal transition and of the phase's end
    random_exploration = args.unsupervised_exploration and not args.use_rnd  # no bonus to learn from

    # seeding: everything random below draws from these
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch.set_num_threads(args.num_threads)
    rng = np.random.default_rng(args.seed)  # replay sampling and epsilon coin flips
    env.action_space.seed(args.seed)
    obs, _ = env.reset(seed=args.seed)
    device = torch.device("cuda" if args.cuda and torch.cuda.is_available() else "cpu")
    commit = code_commit()  # at the start: the code that computes the run
    torch.set_flush_denormal(True)  # saturated tanh units of the RND nets make denormal gradients, ~10x slower

    def net(out_dim: int, hidden: int = args.hidden_size) -> nn.Module:
        return FourierMLP(env.observation_space, out_dim, hidden, args.fourier_features, args.fourier_sigma).to(device)

    # the explorer's networks first (rnd_cql.py's order: explorer and target, f, f_hat), so that no flag of Q, V
    # or the policy (--hidden-size, --no-twin-q) changes the phase's data and a seed gives both scripts the same phase
    explore_q, explore_target = net(n_actions, args.explore_hidden), net(n_actions, args.explore_hidden)
    explore_target.load_state_dict(explore_q.state_dict())
    explore_target.requires_grad_(False)
    rnd_target, rnd_predictor = (m.to(device) for m in rnd_networks(obs_dim, args.rnd_hidden, args.rnd_layers,
                                                                     args.rnd_output_size))
    q_net = nn.ModuleList([net(n_actions) for _ in range(2 if args.twin_q else 1)])
    q_target_net = copy.deepcopy(q_net).requires_grad_(False)
    v_net = net(1)
    actor = net(n_actions)
    rnd_std = None  # running std of the bonus (EMA factor --rnd-gamma), from the first batch on
    # one Adam, one learning rate per phase; a parameter without a gradient at a step is skipped
    learners = [p for n in (q_net, v_net, actor) for p in n.parameters()]
    explorers = [p for n in (explore_q, rnd_predictor) for p in n.parameters()]
    groups = [{"params": learners}, {"params": explorers, "lr": args.explore_learning_rate}]
    optimizer = torch.optim.Adam(groups, lr=args.learning_rate,
                                 **({"fused": True} if device.type == "cpu" else {"foreach": True}))
    models = {"q": q_net, "q_target": q_target_net, "v": v_net, "actor": actor}

    run_dir = make_run_dir(args)
    write_json(run_dir / "config.json", dataclasses.asdict(args))
    writer = SummaryWriter(str(run_dir))
    writer.add_text("hyperparameters", "|param|value|\n|-|-|\n" + "\n".join(
        f"|{k}|{v}|" for k, v in dataclasses.asdict(args).items()))

    def as_tensor(x: np.ndarray) -> torch.Tensor:
        """Shape kept: one observation stays unbatched, so its matrix-vector products round as rnd_cql.py's do."""
        return torch.as_tensor(x, dtype=torch.float32, device=device)

    def v_of(o: np.ndarray) -> np.ndarray:
        return v_net(as_tensor(o)).cpu().numpy()

    def bonus_of(o: np.ndarray) -> np.ndarray:
        error = rnd_bonus(rnd_predictor(as_tensor(o)), rnd_target(as_tensor(o)))
        return (error / (1.0 if rnd_std is None else rnd_std)).cpu().numpy()

    @torch.no_grad()
    def run_eval(n_episodes: int, step: int, exploring: bool) -> dict:
        res = evaluate(actor, args.env_id, n_episodes, args.seed + 10_000, device, args.eval_sample)
        mean = float(res["returns"].mean())
        out = {"return_mean": mean, "return_std": float(res["returns"].std()),
               "success_rate": float(res["success"].mean()) if is_pm else None,
               "normalized_score": pointmass.normalized_score(args.env_id, mean) if is_pm else None}
        for k, v in out.items():
            if v is not None:
                writer.add_scalar(f"eval/{k}", v, step)
        if is_pm:
            maps = {"maps/state_density": pointmass.plot_state_density(args.env_id, buffer.observations()),
                    "maps/value": pointmass.plot_value_map(args.env_id, lambda o: v_of(o)[:, 0], title="V(s)"),
                    "maps/eval_trajectory": pointmass.plot_trajectories(args.env_id, res["paths"])}
            if exploring and args.use_rnd:
                maps["maps/rnd_bonus"] = pointmass.plot_value_map(args.env_id, bonus_of, title="RND bonus")
            if exploring and not random_exploration:  # the collector's values: where it is drawn
                maps["maps/explore_value"] = pointmass.plot_value_map(
                    args.env_id, lambda o: explore_q(as_tensor(o)).max(1).values.cpu().numpy(),
                    title="max_a Q_explore(s, a)")
            for tag, img in maps.items():
                writer.add_image(tag, img, step, dataformats="HWC")
        return out

    # step: env steps finished with their updates (a Ctrl-C mid-step leaves it at the steps before)
    status, reason, last_eval, num_updates, explore_updates, step = "completed", None, {}, 0, 0, 0
    good_state = copy.deepcopy({k: m.state_dict() for k, m in models.items()})
    info: dict[str, torch.Tensor] = {}
    ep_return, ep_length, exploring, start_time = 0.0, 0, exploration_steps > 0, time.time()
    progress = Progress(TextColumn("iql"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[sps]} SPS"),
                        TextColumn("eval {task.fields[eval]}"), TimeElapsedColumn(), disable=not args.progress)
    task = progress.add_task("train", total=args.total_steps, sps=0, eval="-")
    progress.start()
    try:
        for t in range(args.total_steps):
            w_decay, exploring = exploration_schedule(t, exploration_steps, first_goal, extend)
            if not exploring and phase_end is None:
                phase_end = t
                if args.save_dataset_id:
                    buffer.to_minari(args.save_dataset_id, env)
            if online and (exploring or not args.offline_exploitation):
                if t < args.learning_starts or rng.random() < args.eps or (exploring and random_exploration):
                    action = int(env.action_space.sample())
                else:
                    with torch.no_grad():
                        action = int((explore_q if exploring else actor)(as_tensor(obs)).argmax())
                next_obs, reward, terminated, truncated, _ = env.step(action)
                f_next = 0.0  # f(s'), kept for the predictor's updates, which end with the phase
                if args.use_rnd and exploring:
                    with torch.no_grad():
                        f_next = rnd_target(as_tensor(next_obs)).cpu().numpy()
                buffer.add(obs, next_obs, action, reward, terminated, truncated, f_next)
                ep_return, ep_length, obs = ep_return + float(reward), ep_length + 1, next_obs
                if terminated and first_goal is None:
                    first_goal = t
                if terminated or truncated:
                    writer.add_scalar("charts/episodic_return", ep_return, t + 1)
                    writer.add_scalar("charts/episodic_length", ep_length, t + 1)
                    (obs, _), ep_return, ep_length = env.reset(), 0.0, 0

            # IQL's networks by default from the phase's end on (see --train-during-exploration); the exploration
            # critic and f_hat at every step of the phase, as in rnd_cql.py, so that both scripts explore alike;
            # each once the buffer holds its own batch, and one draw serves both (see ReplayBuffer.head)
            update = buffer.size >= args.batch_size and (not online or (
                t >= args.learning_starts and (args.train_during_exploration or not exploring)
                and update_due(t, None if args.train_during_exploration else phase_end, exploration_steps,
                               args.total_steps, args.train_frequency)))
            explore = (exploring and not random_exploration and t >= args.learning_starts
                       and buffer.size >= args.explore_batch_size)
            sizes = [args.batch_size] * update + [args.explore_batch_size] * explore
            if sizes:
                drawn = buffer.sample(max(sizes), rng, device)
                losses: dict[str, torch.Tensor] = {}
                if update:
                    batch = buffer.head(drawn, args.batch_size)[:5]
                    losses, means = iql_losses(q_net, q_target_net, v_net, actor, batch, args)
                if explore:
                    s, a, r, s_next, term, f_next = buffer.head(drawn, args.explore_batch_size)
                    w_explore, w_exploit = reward_weights(w_decay, args.use_rnd, args.unsupervised_exploration)
                    r_mix = w_exploit * r
                    if args.use_rnd:  # the error at s' is the bonus for reaching s'
                        # f_hat learns a quarter of the batch (Burda et al.'s "proportion of experience used
                        # for training predictor", 0.25): 30% less RND compute, the bonus fades a bit slower
                        k = max(1, args.explore_batch_size // 4)
                        trained = rnd_bonus(rnd_predictor(s_next[:k]), f_next[:k])
                        with torch.no_grad():  # one f_hat forward per state: the trained quarter's error is reused
                            error = torch.cat([trained.detach(), rnd_bonus(rnd_predictor(s_next[k:]), f_next[k:])])
                        batch_std, g = error.std(), args.rnd_gamma
                        rnd_std = batch_std if rnd_std is None else g * rnd_std + (1 - g) * batch_std
                        r_int = error / rnd_std
                        r_mix = r_mix + w_explore * r_int
                        losses["rnd_loss"] = trained.mean()
                        losses["rnd_bonus"] = r_int.mean()
                    # the bonus alone is a non-episodic return (Burda et al. 2019, sec. 2.3), as in rnd_cql.py
                    done = term if w_exploit else torch.zeros_like(term)
                    with torch.no_grad():
                        y_explore = double_dqn_target(r_mix, done, explore_q(s_next), explore_target(s_next),
                                                      args.explore_gamma)
                    q_explore = explore_q(s).gather(1, a[:, None]).squeeze(1)
                    losses["explore_td_loss"] = F.mse_loss(q_explore, y_explore)  # as rnd_cql.py's td_loss
                # every target is detached, so the losses touch disjoint parameters: one backward pass of their
                # sum gives each network its own gradient (V and Q step simultaneously)
                optimizer.zero_grad(set_to_none=True)
                sum(loss for name, loss in losses.items() if name != "rnd_bonus").backward()
                if explore:  # as rnd_cql.py's --grad-clip, so that both explorers take the same steps
                    for p in explore_q.parameters():
                        p.grad.clamp_(-EXPLORE_GRAD_CLIP, EXPLORE_GRAD_CLIP)
                optimizer.step()
                info.update(losses)
                if update:
                    info.update(means)
                    num_updates += 1
                    if num_updates % args.target_update_period == 0:
                        q_target_net.load_state_dict(q_net.state_dict())
                if explore:
                    explore_updates += 1
                    if explore_updates % args.explore_target_update_period == 0:
                        explore_target.load_state_dict(explore_q.state_dict())

            step = t + 1
            # also before an evaluation, so that a diverged model is never evaluated
            if step % LOG_EVERY == 0 or step % args.eval_every == 0 or step == args.total_steps:
                values = {k: float(v.detach()) for k, v in info.items()}
                info.clear()  # logged once: the explorer's losses end with its phase
                bad = [k for k, v in values.items() if not np.isfinite(v)]
                if bad:
                    status, reason = "diverged", f"losses/{bad[0]} is {values[bad[0]]} at step {step}"
                    break
                if not all(p.isfinite().all() for m in models.values() for p in m.parameters()):
                    status, reason = "diverged", f"a parameter of Q, V or the policy is not finite at step {step}"
                    break  # the step after a finite loss made it so: good_state keeps the model before
                good_state = copy.deepcopy({k: m.state_dict() for k, m in models.items()})
                for k, v in values.items():
                    writer.add_scalar(f"exploration/{k}" if k == "rnd_bonus" else f"losses/{k}", v, step)
                sps = int(step / (time.time() - start_time))
                writer.add_scalar("charts/SPS", sps, step)
                if is_pm and online:
                    coverage = pointmass.coverage(args.env_id, buffer.observations())
                    writer.add_scalar("exploration/coverage", coverage, step)
                progress.update(task, completed=step, sps=sps)
            if step % args.eval_every == 0 and step < args.total_steps:
                last_eval = run_eval(args.eval_episodes, step, exploring)
                shown = last_eval["normalized_score"] if is_pm else last_eval["return_mean"]
                progress.update(task, eval=f"{'score' if is_pm else 'return'} {shown:.1f}")
        if args.save_dataset_id and phase_end is None and status == "completed":
            buffer.to_minari(args.save_dataset_id, env)  # the run ended in the phase (Ctrl-C: below)
    except KeyboardInterrupt:
        status, reason = "interrupted", f"KeyboardInterrupt after step {step}"
    finally:
        progress.stop()

    if status == "diverged":  # evaluate and keep the last model whose losses were finite
        for k, m in models.items():
            m.load_state_dict(good_state[k])
    if status == "completed" and phase_end is None and args.total_steps > exploration_steps > 0:
        goal = "its data never reached the goal" if first_goal is None else (
            f"it lasts past its data's first goal, at step {first_goal}")
        reason = (f"the exploration phase lasted the whole run: {goal} "
                  f"(--extend-exploration), so Q, V and the policy took {num_updates} updates")
    try:
        final = run_eval(max(100, args.eval_episodes), step, exploring)
    except KeyboardInterrupt:  # a second Ctrl-C, or one after the last step: the summary is still written
        status, reason = "interrupted", f"KeyboardInterrupt in the final evaluation, after step {step}"
        final = dict.fromkeys(("return_mean", "return_std", "success_rate", "normalized_score"))
    with sigint_ignored():
        if args.save_model or status == "diverged":
            torch.save({**{k: m.state_dict() for k, m in models.items()}, "args": dataclasses.asdict(args)},
                       run_dir / "model.pt.tmp")
            os.replace(run_dir / "model.pt.tmp", run_dir / "model.pt")
        wall_time = time.time() - start_time
        summary = {
            "algorithm": "iql", "env_id": args.env_id, "seed": args.seed, "exp_name": args.exp_name,
            "status": status, "reason": reason, "global_step": step, "num_updates": num_updates,
            "first_goal_step": first_goal, "exploration_end_step": phase_end, **final,
            "eval_episodes": max(100, args.eval_episodes),
            "coverage": pointmass.coverage(args.env_id, buffer.observations()) if is_pm else None,
            "wall_time_s": wall_time, "sps": step / wall_time, "updates_per_s": num_updates / wall_time,
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "machine": machine(device),
            "commit": commit, "args": dataclasses.asdict(args), "run_dir": str(run_dir)}
        write_json(run_dir / "summary.json", summary)
    writer.close()
    env.close()
    return summary


if __name__ == "__main__":
    try:
        train(parse_args(sys.argv[1:]))
    except ConfigError as err:
        print(f"{Path(__file__).name}: error: {err}", file=sys.stderr)
        raise SystemExit(2)
