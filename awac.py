"""Discrete AWAC with its own RND exploration phase, in one file.

AWAC (Nair, Gupta, Dalal & Levine 2020, "AWAC: Accelerating Online Reinforcement Learning with Offline
Datasets", arXiv:2006.09359, Sec. 4 and Algorithm 1) alternates, with V(s) = sum_a pi(a|s) Q(s,a):
  policy evaluation   Q(s,a) <- r + gamma (1 - terminated) sum_a' pi(a'|s') Q_target(s',a')  (course PDF eq. 4)
  policy improvement  max_pi E_D[log pi(a|s) exp(A(s,a) / lam)],  A(s,a) = Q(s,a) - V(s)      (course PDF eq. 3)
Over a handful of discrete actions both expectations under pi are exact sums; the actor is categorical.

Data comes first from an exploration phase (N = --num-exploration-steps env steps and, on a maze, at least
N/2 steps past the data's first goal, N steps past it if that came after step N): an exploration double-DQN
critic acts epsilon-greedily and learns from r_mix = w_explore(t) r_int + w_exploit(t) r_env, where r_int is
the RND bonus (Burda et al. 2019; course PDF eq. 1) ||f_hat(s') - f(s')|| of a trained predictor against a
frozen random target, divided by a running std. --use-rnd: w_explore falls linearly 1 -> 0 over the phase,
w_exploit = 1; without it w_explore = 0; --unsupervised-exploration: (1, 0), or uniformly random actions
without RND. Then the collector is the actor's greedy action, epsilon-greedy, so the policy being evaluated
gathers the data that corrects it (the course's starter code collected with the critic from step 0, so
--use_rnd changed nothing). The exploration phase is rnd_cql.py's: the same networks (Fourier features,
RND target N(0, 1)), drawn first and in the same order, and the same updates at every env step, so that at
equal exploration flags a seed collects the same data in awac.py, rnd_cql.py and iql.py, whatever the critic's
and the actor's flags. The RND predictor and the exploration critic influence nothing after the phase and stop
training there. --offline-exploitation stops collecting (and stepping the env) after the phase; --dataset-id
trains purely offline on a Minari dataset. Truncations bootstrap; only `terminated` stops it.

Defaults that differ from the course's (why: the README's "Departures"; the measurements: results/NOTES.md):
- lam 0.1 with the course's reward hint (r + 1) * 100 (0 per step, 100 at the goal): advantages are a few
  units, and exp(A / lam), clipped at 100 as in IQL, firmly prefers the better actions;
- lam 3 with --dataset-id: lam sets how tightly pi stays near the data's policy (pi* ~ pi_beta exp(A / lam)),
  and a narrow behaviour policy's data lack the actions that would correct the critic where pi strays
  (--offline-exploitation keeps 0.1: exploration data cover every action);
- critic 2x64 ReLU (the course's), actor 2x64 tanh at lr 3e-4 (course 4x512 at 1e-4), both on 32 random
  Fourier features (sigma 2) of the observation, as in rnd_cql.py and iql.py;
- one gradient step of the critic and the actor per 2 env steps (every iteration with --dataset-id), hard
  target copies every 30 of them (course: every step, every 300), from the exploration phase's end on,
  as in iql.py (course: from --learning-starts on; --train-during-exploration); one per 3 env steps ran
  out of steps after a long phase, and after a phase extended past N the critic and the actor still make the
  ceil((total - N) / --train-frequency) updates a phase of N steps leaves them, spread over the steps left
  (see update_due), as in iql.py;
- gamma 0.99 (course 0.95), as rnd_cql.py: VeryHard's goal is 76 steps from the start, and 0.95^76 = 0.02
  of its reward is too little to tell the start's actions apart; the faster target copy carries the
  value down that corridor in the steps left after the phase;
- the exploration phase's departures are rnd_cql.py's (RND target N(0, 1), exploration lr 3e-3, a squared
  TD error and a target copy every 30 updates, gradient components clipped at 10, f_hat trained on a quarter
  of each batch, a phase that goes on until its data reach the goal and N/2 steps past it at least:
  --no-extend-exploration for the course's N steps).

Usage:
    python awac.py --env-id PointmassEasy-v0
    python awac.py --env-id PointmassMedium-v0 --lam 10 --num-exploration-steps 20000 --unsupervised-exploration
    python pointmass.py collect --env-id PointmassEasy-v0 --steps 20000 --dataset-id pointmass/easy-noisy-oracle-v0
    python awac.py --env-id PointmassEasy-v0 --dataset-id pointmass/easy-noisy-oracle-v0
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
from dataclasses import asdict, dataclass, replace
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

import pointmass  # registers the Pointmass ids; its extras switch on only for those ids

LOG_EVERY = 1_000  # env steps between scalar logs and divergence checks (also run before each evaluation)
EXPLORE_GRAD_CLIP = 10.0  # rnd_cql.py's --grad-clip for its exploration critic (each gradient component)


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
    """write model.pt (actor and critic) at the end"""
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
    """discount factor of the AWAC critic (course: 0.95)"""
    learning_rate: float = 1e-3
    """Adam learning rate of the AWAC critic"""
    actor_learning_rate: float = 3e-4
    """Adam learning rate of the actor"""
    exploit_rew_shift: float = 1.0
    """r' = (r + shift) * scale for the AWAC critic (course default 0; its hint: 1)"""
    exploit_rew_scale: float = 100.0
    """see --exploit-rew-shift (course default 1; its hint: 100)"""
    lam: Optional[float] = None
    """AWAC's temperature, weights exp(A / lam): default 0.1, or 3 with --dataset-id"""
    max_weight: float = 100.0
    """upper clip of the weights exp(A / lam)"""
    eval_sample: bool = False
    """evaluate by sampling from the policy's logits instead of taking their argmax"""
    critic_hidden: int = 64
    """width of the critic's two hidden ReLU layers"""
    actor_hidden: int = 64
    """width of the actor's tanh hidden layers"""
    actor_layers: int = 2
    """hidden layers of the actor"""
    fourier_features: int = 32
    """random Fourier features of the critics' and the actor's input (0: the raw position, as the course)"""
    fourier_sigma: float = 2.0
    """standard deviation of their frequencies, in cycles per unit of the [0, 1]-scaled observation"""
    target_update_period: int = 30
    """updates between hard copies of the AWAC critic into its target (course: 300)"""
    train_frequency: int = 2
    """env steps per critic and actor step (more often after an extended phase; offline: every iteration)"""
    train_during_exploration: bool = False
    """train the critic and the actor during the exploration phase too (course: from --learning-starts on)"""


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
    if args.lam is not None and not args.lam > 0:  # None: the default that suits the data, chosen in train()
        raise ConfigError(f"--lam must be > 0, got {args.lam}")
    check_common_args(args, counts=("critic_hidden", "actor_hidden", "actor_layers"),
                      rates=("actor_learning_rate", "max_weight"))
    if args.dataset_id is None:
        if not args.train_during_exploration and args.num_exploration_steps >= args.total_steps:
            raise ConfigError(f"--total-steps must be above --num-exploration-steps ({args.num_exploration_steps}), "
                              f"got {args.total_steps}: AWAC trains after the phase "
                              "(or add --train-during-exploration)")
        start = max(args.learning_starts, 0 if args.train_during_exploration else args.num_exploration_steps)
        first = -(-start // args.train_frequency) * args.train_frequency  # the first step t (from 0) that can update
        if first >= args.total_steps:
            raise ConfigError(f"--total-steps must be above {first}, got {args.total_steps}: with "
                              f"--learning-starts {args.learning_starts}, --num-exploration-steps "
                              f"{args.num_exploration_steps} and --train-frequency {args.train_frequency} no gradient "
                              "step would be taken")
        collected = min(args.total_steps, args.num_exploration_steps) if args.offline_exploitation else args.total_steps
        if args.batch_size > collected:
            raise ConfigError(f"--batch-size must be at most the number of transitions ({collected}), "
                              f"got {args.batch_size}")


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


# --- pure loss functions: tensors in, tensors out (tests check them against hand-computed numbers)
def rnd_bonus(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """RND error per state, ||f_hat(s') - f(s')|| (Burda et al. 2019; course eq. 1: a norm, not squared).

    The target f is frozen: it gets no gradient even when handed a tensor that requires one."""
    return torch.linalg.vector_norm(prediction - target.detach(), dim=-1)


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


def double_dqn_target(reward, terminated, next_q_online, next_q_target, gamma: float) -> torch.Tensor:
    """y = r + gamma (1 - terminated) Q_target(s', argmax_a Q(s', a)) (van Hasselt et al. 2016, eq. 4)."""
    next_action = next_q_online.argmax(dim=1, keepdim=True)
    return reward + gamma * (1.0 - terminated) * next_q_target.gather(1, next_action).squeeze(1)


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


def policy_value(probs: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """V(s) = sum_a pi(a|s) Q(s, a): exact over the discrete actions (the course's hint averages samples)."""
    return (probs * q).sum(dim=-1)


def awac_critic_target(reward, terminated, next_probs, next_q_target, gamma: float) -> torch.Tensor:
    """Policy evaluation: y = r + gamma (1 - terminated) sum_a' pi(a'|s') Q_target(s', a') (course PDF eq. 4)."""
    return reward + gamma * (1.0 - terminated) * policy_value(next_probs, next_q_target)


def awac_advantage(q: torch.Tensor, probs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """A(s, a) = Q(s, a) - V(s), detached: for the actor it is a fixed weight, not a path to the critic."""
    return (q.gather(-1, actions[:, None]).squeeze(-1) - policy_value(probs, q)).detach()


def awac_weights(advantage: torch.Tensor, lam: float, max_weight: float) -> torch.Tensor:
    """w = min(exp(A / lam), max_weight), clipped in log space so that exp never overflows."""
    return torch.exp(torch.clamp(advantage / lam, max=math.log(max_weight)))


def awac_actor_loss(logits: torch.Tensor, actions: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """-E_D[log pi(a|s) w(s, a)]: weighted maximum likelihood of the data's actions (course PDF eq. 3)."""
    log_prob = torch.log_softmax(logits, dim=-1).gather(-1, actions[:, None]).squeeze(-1)
    return -(log_prob * weights).mean()


def awac_losses(critic, critic_target, actor, batch, args) -> dict:
    """The critic's TD loss towards the policy-evaluation target and the actor's weighted likelihood on one batch
    (s, a, r, s', terminated), with Q(s, a_data) and the weights for the log (their means are logged)."""
    s, a, r, s_next, term = batch
    with torch.no_grad():
        next_probs = torch.softmax(actor(s_next), -1)
        y = awac_critic_target((r + args.exploit_rew_shift) * args.exploit_rew_scale, term, next_probs,
                               critic_target(s_next), args.gamma)
    q = critic(s)
    q_data = q.gather(1, a[:, None]).squeeze(1)
    logits = actor(s)
    weights = awac_weights(awac_advantage(q, torch.softmax(logits, -1), a), args.lam, args.max_weight)
    return {"td_loss": F.mse_loss(q_data, y),  # squared TD error, as in the paper
            "actor_loss": awac_actor_loss(logits, a, weights), "q_values": q_data, "awac_weights": weights}


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
    # --- validate everything before the run directory exists
    check_args(args)
    if args.lam is None:  # see the module docstring
        args = replace(args, lam=3.0 if args.dataset_id is not None else 0.1)
    env = make_env(args.env_id)
    obs_dim, n_actions = env.observation_space.shape[0], int(env.action_space.n)
    offline = args.dataset_id is not None
    if offline:
        rb = ReplayBuffer.from_minari(args.dataset_id, env)
        if args.batch_size > rb.size:
            raise ConfigError(f"--batch-size must be at most the number of transitions ({rb.size}), "
                              f"got {args.batch_size}")
    else:
        try:
            rb = ReplayBuffer(obs_dim, args.total_steps, args.rnd_output_size if args.use_rnd else 0)
        except MemoryError:
            raise ConfigError(f"--total-steps {args.total_steps}: the replay table does not fit in memory") from None
    if args.save_dataset_id is not None:
        check_new_dataset_id(args.save_dataset_id)
    is_pm = pointmass.is_pointmass(args.env_id)
    # the phase: none offline; N steps, or longer while the goal is missing (see exploration_schedule)
    explore_end = 0 if offline else args.num_exploration_steps
    extend = args.extend_exploration and is_pm and not args.unsupervised_exploration
    first_goal = phase_end = None  # steps (from 0) of the first goal transition and of the phase's end

    run_dir = make_run_dir(args)
    write_json(run_dir / "config.json", asdict(args))
    writer = SummaryWriter(str(run_dir))
    rows = "\n".join(f"|{k}|{v}|" for k, v in asdict(args).items())
    writer.add_text("hyperparameters", "|param|value|\n|-|-|\n" + rows)

    # --- seeding: every random draw below comes from one of these
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch.set_num_threads(args.num_threads)
    env.action_space.seed(args.seed)
    obs, _ = env.reset(seed=args.seed)
    rng = np.random.default_rng(args.seed)  # replay sampling and the epsilon coin flips
    device = torch.device("cuda" if args.cuda and torch.cuda.is_available() else "cpu")
    commit = code_commit()  # at the start: the code that computes the run
    torch.set_flush_denormal(True)  # saturated tanh units of the RND nets make denormal gradients, ~10x slower

    # the explorer's networks first (rnd_cql.py's order: explorer and target, f, f_hat), so that no flag of the
    # critic or the actor changes the phase's data and a seed gives both scripts the same exploration phase
    def net(hidden: int, layers: int = 2, activation: type[nn.Module] = nn.ReLU) -> nn.Module:
        return FourierMLP(env.observation_space, n_actions, hidden, args.fourier_features, args.fourier_sigma,
                          layers, activation).to(device)

    rnd_target = rnd_predictor = explore_q = None
    groups = []
    if explore_end > 0 and (args.use_rnd or not args.unsupervised_exploration):
        explore_q, explore_q_target = net(args.explore_hidden), net(args.explore_hidden)
        explore_q_target.load_state_dict(explore_q.state_dict())
        groups.append({"params": explore_q.parameters(), "lr": args.explore_learning_rate})
    if explore_end > 0 and args.use_rnd:
        rnd_target, rnd_predictor = (m.to(device) for m in rnd_networks(obs_dim, args.rnd_hidden, args.rnd_layers,
                                                                         args.rnd_output_size))
        groups.append({"params": rnd_predictor.parameters(), "lr": args.explore_learning_rate})
    critic, critic_target = net(args.critic_hidden), net(args.critic_hidden)
    critic_target.load_state_dict(critic.state_dict())
    groups.append({"params": critic.parameters(), "lr": args.learning_rate})
    actor = net(args.actor_hidden, args.actor_layers, Tanh)
    groups.append({"params": actor.parameters(), "lr": args.actor_learning_rate})
    # One Adam for all: a network whose loss is absent this step has grad None and is skipped.
    optimizer = torch.optim.Adam(groups, fused=True)
    rnd_std = None  # running std of the bonus (EMA factor --rnd-gamma), from the first batch on

    snapshot = lambda: {"actor": copy.deepcopy(actor.state_dict()), "critic": copy.deepcopy(critic.state_dict())}

    def evaluate_and_log(step: int, n_episodes: int, exploring: bool) -> dict:
        res = evaluate(actor, args.env_id, n_episodes, args.seed + 10_000, device, args.eval_sample)
        mean = float(res["returns"].mean())
        ev = {"return_mean": mean, "return_std": float(res["returns"].std()),
              "success_rate": float(res["success"].mean()) if is_pm else None,
              "normalized_score": pointmass.normalized_score(args.env_id, mean) if is_pm else None}
        for key in ("return_mean", "return_std", "success_rate", "normalized_score"):
            if ev[key] is not None:
                writer.add_scalar(f"eval/{key}", ev[key], step)
        if is_pm:
            with torch.no_grad():
                grid = lambda fn: lambda o: fn(torch.from_numpy(o).to(device)).cpu().numpy()
                value = grid(lambda o: policy_value(torch.softmax(actor(o), -1), critic(o)))
                images = {"maps/state_density": pointmass.plot_state_density(args.env_id, rb.observations()),
                          "maps/value": pointmass.plot_value_map(args.env_id, value, title=f"V(s), step {step}"),
                          "maps/eval_trajectory": pointmass.plot_trajectories(args.env_id, res["paths"])}
                if exploring and rnd_predictor is not None:
                    bonus = lambda o: rnd_bonus(rnd_predictor(o), rnd_target(o)) / (1.0 if rnd_std is None else rnd_std)
                    images["maps/rnd_bonus"] = pointmass.plot_value_map(args.env_id, grid(bonus),
                                                                        title=f"RND bonus, step {step}")
                if exploring and explore_q is not None:  # the collector's values: where it is drawn
                    images["maps/explore_value"] = pointmass.plot_value_map(
                        args.env_id, grid(lambda o: explore_q(o).max(-1).values),
                        title=f"max_a Q_explore(s, a), step {step}")
            for tag, img in images.items():
                writer.add_image(tag, img, step, dataformats="HWC")
        return ev

    # step: env steps finished with their updates (a Ctrl-C mid-step leaves it at the steps before)
    status, reason, step, num_updates, explore_updates = "completed", None, 0, 0, 0
    exploring = explore_end > 0
    ep_return, ep_length, losses = 0.0, 0, {}
    last_good = snapshot()
    start_time = time.time()
    progress = Progress(TextColumn("awac"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[sps]} SPS"),
                        TextColumn("eval {task.fields[eval]}"), TimeElapsedColumn(), disable=not args.progress)
    try:
        with progress:
            task = progress.add_task("train", total=args.total_steps, sps=0, eval="-")
            for global_step in range(1, args.total_steps + 1):
                w_decay, exploring = exploration_schedule(global_step - 1, explore_end, first_goal, extend)
                if not exploring and phase_end is None:
                    phase_end = global_step - 1
                    if args.save_dataset_id is not None:
                        rb.to_minari(args.save_dataset_id, env)
                # --- collect one transition (no env interaction offline or after an offline-exploitation phase)
                if not offline and (exploring or not args.offline_exploitation):
                    if (global_step <= args.learning_starts or rng.random() < args.eps
                            or (exploring and explore_q is None)):
                        action = env.action_space.sample()
                    else:
                        with torch.no_grad():
                            net = explore_q if exploring else actor
                            action = int(net(torch.as_tensor(obs, dtype=torch.float32, device=device)).argmax())
                    next_obs, reward, terminated, truncated, _ = env.step(action)
                    f_next = 0.0  # f(s'), kept for the predictor's updates, which end with the phase
                    if rnd_predictor is not None and exploring:
                        with torch.no_grad():
                            f_next = rnd_target(torch.as_tensor(next_obs, dtype=torch.float32, device=device))
                            f_next = f_next.cpu().numpy()
                    rb.add(obs, next_obs, action, reward, terminated, truncated, f_next)
                    ep_return, ep_length, obs = ep_return + reward, ep_length + 1, next_obs
                    if terminated and first_goal is None:
                        first_goal = global_step - 1
                    if terminated or truncated:
                        writer.add_scalar("charts/episodic_return", ep_return, global_step)
                        writer.add_scalar("charts/episodic_length", ep_length, global_step)
                        (obs, _), ep_return, ep_length = env.reset(), 0.0, 0

                # --- gradient steps: AWAC's networks every --train-frequency env steps once the phase is over; the
                # exploration critic and f_hat at every step of the phase, as in rnd_cql.py, so both explore alike;
                # each once the buffer holds its own batch, and one draw serves both (see ReplayBuffer.head)
                update = rb.size >= args.batch_size and (offline or (
                    global_step > args.learning_starts and (args.train_during_exploration or not exploring)
                    and update_due(global_step - 1, None if args.train_during_exploration else phase_end,
                                   explore_end, args.total_steps, args.train_frequency)))
                explore = (exploring and explore_q is not None and global_step > args.learning_starts
                           and rb.size >= args.explore_batch_size)
                sizes = [args.batch_size] * update + [args.explore_batch_size] * explore
                if sizes:
                    drawn = rb.sample(max(sizes), rng, device)
                    loss = torch.zeros((), device=device)
                    if update:
                        s, a, r, s_next, term, _ = rb.head(drawn, args.batch_size)
                        terms = awac_losses(critic, critic_target, actor, (s, a, r, s_next, term), args)
                        loss = loss + terms["td_loss"] + terms["actor_loss"]
                        losses.update(terms)
                    if explore:
                        s, a, r, s_next, term, f_next = rb.head(drawn, args.explore_batch_size)
                        w_explore, w_exploit = reward_weights(w_decay, args.use_rnd, args.unsupervised_exploration)
                        r_mix = w_exploit * r
                        if rnd_predictor is not None:  # the error at s' is the bonus for reaching s'
                            # f_hat learns a quarter of the batch (Burda et al.'s "proportion of experience used
                            # for training predictor", 0.25); the error of the rest needs no graph
                            k = max(1, args.explore_batch_size // 4)
                            trained = rnd_bonus(rnd_predictor(s_next[:k]), f_next[:k])
                            with torch.no_grad():
                                error = torch.cat([trained.detach(), rnd_bonus(rnd_predictor(s_next[k:]), f_next[k:])])
                            batch_std, g = error.std(), args.rnd_gamma
                            rnd_std = batch_std if rnd_std is None else g * rnd_std + (1 - g) * batch_std
                            bonus = error / rnd_std
                            r_mix = r_mix + w_explore * bonus
                            loss = loss + trained.mean()
                            losses.update(rnd_loss=trained, rnd_bonus=bonus)
                        # the bonus alone is a non-episodic return (Burda et al. 2019, sec. 2.3), as in rnd_cql.py
                        done = term if w_exploit else torch.zeros_like(term)
                        with torch.no_grad():
                            y_explore = double_dqn_target(r_mix, done, explore_q(s_next), explore_q_target(s_next),
                                                          args.explore_gamma)
                        # squared, as rnd_cql.py's td_loss: with the course's Huber, RND covered less of Hard
                        explore_loss = F.mse_loss(explore_q(s).gather(1, a[:, None]).squeeze(1), y_explore)
                        loss = loss + explore_loss
                        losses["explore_td_loss"] = explore_loss
                    # one Adam over every network: their losses share no graph (targets and advantages are
                    # detached), so one backward pass of the sum gives each network its own gradient
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if explore:  # rnd_cql.py's --grad-clip, so that both explorers take the same steps
                        for p in explore_q.parameters():
                            p.grad.clamp_(-EXPLORE_GRAD_CLIP, EXPLORE_GRAD_CLIP)
                    optimizer.step()
                    if update:
                        num_updates += 1
                        if num_updates % args.target_update_period == 0:
                            critic_target.load_state_dict(critic.state_dict())
                    if explore:
                        explore_updates += 1
                        if explore_updates % args.explore_target_update_period == 0:
                            explore_q_target.load_state_dict(explore_q.state_dict())

                step = global_step
                # --- log every LOG_EVERY steps and at the last: the only place that reads losses back (.item())
                # also before an evaluation, so that a diverged model is never evaluated
                if (global_step % LOG_EVERY == 0 or global_step % args.eval_every == 0
                        or global_step == args.total_steps):
                    values = {k: v.mean().item() for k, v in losses.items()}
                    losses.clear()  # logged once: the explorer's losses end with its phase
                    bad = [k for k, v in values.items() if not math.isfinite(v)]
                    if bad:
                        status, reason = "diverged", f"losses/{bad[0]} is {values[bad[0]]} at step {global_step}"
                        break
                    if not all(p.isfinite().all() for m in (critic, actor) for p in m.parameters()):
                        status = "diverged"
                        reason = f"a parameter of the critic or the actor is not finite at step {global_step}"
                        break  # the step after a finite loss made it so: last_good keeps the model before
                    last_good = snapshot()
                    for k, v in values.items():
                        writer.add_scalar(f"{'exploration' if k == 'rnd_bonus' else 'losses'}/{k}", v, global_step)
                    sps = global_step / (time.time() - start_time)
                    writer.add_scalar("charts/SPS", sps, global_step)
                    if is_pm and not offline:
                        coverage = pointmass.coverage(args.env_id, rb.observations())
                        writer.add_scalar("exploration/coverage", coverage, global_step)
                    progress.update(task, completed=global_step, sps=int(sps))
                if global_step % args.eval_every == 0 and global_step < args.total_steps:
                    ev = evaluate_and_log(global_step, args.eval_episodes, exploring)
                    shown = ev["normalized_score"] if is_pm else ev["return_mean"]
                    progress.update(task, eval=f"{'score' if is_pm else 'return'} {shown:.1f}")
        if args.save_dataset_id is not None and phase_end is None and status == "completed":
            rb.to_minari(args.save_dataset_id, env)  # the run ended in the phase (Ctrl-C: below)
    except KeyboardInterrupt:
        status, reason = "interrupted", f"KeyboardInterrupt after step {step}"

    if status == "diverged":  # report on, and save, the last model whose losses were finite
        actor.load_state_dict(last_good["actor"])
        critic.load_state_dict(last_good["critic"])
    if status == "completed" and phase_end is None and args.total_steps > explore_end > 0:
        goal = "its data never reached the goal" if first_goal is None else (
            f"it lasts past its data's first goal, at step {first_goal}")
        reason = (f"the exploration phase lasted the whole run: {goal} "
                  f"(--extend-exploration), so the critic and the actor took {num_updates} updates")
    try:
        ev = evaluate_and_log(step, max(100, args.eval_episodes), exploring)
    except KeyboardInterrupt:  # a second Ctrl-C, or one after the last step: the summary is still written
        status, reason = "interrupted", f"KeyboardInterrupt in the final evaluation, after step {step}"
        ev = dict.fromkeys(("return_mean", "return_std", "success_rate", "normalized_score"))
    with sigint_ignored():
        if args.save_model or status == "diverged":
            torch.save({**snapshot(), "args": dataclasses.asdict(args)}, run_dir / "model.pt.tmp")
            os.replace(run_dir / "model.pt.tmp", run_dir / "model.pt")
        wall_time = time.time() - start_time
        summary = {
            "algorithm": "awac", "env_id": args.env_id, "seed": args.seed, "exp_name": args.exp_name,
            "status": status, "reason": reason, "global_step": step, "num_updates": num_updates,
            "first_goal_step": first_goal, "exploration_end_step": phase_end,
            "return_mean": ev["return_mean"], "return_std": ev["return_std"], "success_rate": ev["success_rate"],
            "normalized_score": ev["normalized_score"], "eval_episodes": max(100, args.eval_episodes),
            "coverage": pointmass.coverage(args.env_id, rb.observations()) if is_pm else None,
            "wall_time_s": wall_time, "sps": step / wall_time, "updates_per_s": num_updates / wall_time,
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "machine": machine(device),
            "commit": commit, "args": asdict(args), "run_dir": str(run_dir),
        }
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
