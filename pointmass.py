"""Pointmass: the 2-D maze environments of a well-known deep-RL course's offline-RL homework.

A point moves through a continuous maze by one of five unit moves (stay, -y, +y, -x, +x) perturbed
by Gaussian noise, in 10 sub-steps that each stop at walls axis by axis. Reward is -1 per step and 0 on
the step that reaches the goal, which terminates the episode; the time limit truncates it. Positions
are (row, column) in cell units; observations are positions divided by the maze size, in [0, 1]^2.

Fixes to the course version: `terminated` (goal) is separate from `truncated` (gymnasium's TimeLimit),
all randomness comes from `self.np_random`, the observation space matches the observations, nothing is
plotted while stepping, and there is a native numpy vector env (`gymnasium.make_vec`).

Also here, shared by rnd_cql.py, awac.py and iql.py: an oracle planner, the reference returns behind
`normalized_score` (D4RL's REF_MIN/REF_MAX convention), `coverage`, plots returned as RGB arrays, and a
command line that writes Minari datasets:

    python pointmass.py                  # the four mazes and their reference returns
    python pointmass.py collect --env-id PointmassHard-v0 --policy noisy-oracle --epsilon 0.2 \
        --steps 100000 --dataset-id pointmass/hard-noisy-oracle-v0 --seed 0
    python pointmass.py refs --episodes 2000     # recompute REF_RETURNS
    python pointmass.py bench                    # environment speed
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
from collections import deque
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Callable, Literal, Optional, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

# The five moves, (d_row, d_col): stay, -y, +y, -x, +x, with y the column axis as in the course.
ACTIONS = np.array([[0, 0], [0, -1], [0, 1], [-1, 0], [1, 0]], dtype=np.float64)
SUBSTEPS = 10
DT = 1.0 / SUBSTEPS
ORACLE_RESOLUTION = 10  # planner grid cells per maze cell
COLLECT_BYTES_PER_STEP = 200  # twice what `collect` was measured to hold per transition (peak 178 MB for 10**6)

# The course's four mazes (its difficulty 0-3). Start and goal are in cell units after scaling.
PRESETS = {
    "PointmassEasy-v0": dict(maze="Maze5x5", resize_factor=2, start=(1.0, 1.0), goal=(9.0, 9.0), goal_radius=2.0),
    "PointmassMedium-v0": dict(maze="Maze6x6", resize_factor=1, start=(0.5, 0.5), goal=(1.5, 5.5), goal_radius=1.0),
    "PointmassHard-v0": dict(maze="FourRooms", resize_factor=2, start=(2.0, 2.0), goal=(20.0, 20.0), goal_radius=2.0),
    "PointmassVeryHard-v0": dict(maze="Maze11x11", resize_factor=1, start=(0.5, 0.5), goal=(0.5, 10.5),
                                 goal_radius=1.0),
}
HORIZONS = {"PointmassEasy-v0": 50, "PointmassMedium-v0": 150, "PointmassHard-v0": 100, "PointmassVeryHard-v0": 200}
ENV_IDS = tuple(PRESETS)

# (uniform-random return, oracle return): means over 2000 episodes each, from `python pointmass.py refs`
# (seed 0). The oracle succeeds in 100% of them on every maze.
REF_RETURNS = {
    "PointmassEasy-v0": (-49.79, -13.60),
    "PointmassMedium-v0": (-146.90, -25.01),
    "PointmassHard-v0": (-100.00, -36.60),
    "PointmassVeryHard-v0": (-200.00, -76.09),
}


# ---------------------------------------------------------------------------------------------
# Maze geometry: walls, the sub-stepped motion model, and the oracle's distance field
# ---------------------------------------------------------------------------------------------
class Maze:
    """Walls (rows x columns, True = wall), start, goal and goal radius, all validated."""

    def __init__(self, maze, resize_factor=1, start=None, goal=None, goal_radius=1.0):
        if isinstance(maze, str):
            if maze not in LAYOUTS:
                raise ValueError(f"maze: unknown layout {maze!r}; choose one of {', '.join(LAYOUTS)} "
                                 "or pass a 0/1 array")
            grid = np.array([[ch == "1" for ch in row] for row in LAYOUTS[maze]])
        else:
            grid = np.asarray(maze)
            if grid.ndim != 2 or grid.size == 0 or not np.isin(grid, (0, 1)).all():
                raise ValueError("maze: a layout must be a non-empty 2-D array of 0 (free) and 1 (wall), "
                                 f"got shape {grid.shape}")
            grid = grid.astype(bool)
        if not (isinstance(resize_factor, (int, np.integer)) and resize_factor >= 1):
            raise ValueError(f"resize_factor: must be a positive integer, got {resize_factor!r}")
        self.walls = np.kron(grid, np.ones((resize_factor, resize_factor), dtype=bool))
        self.height, self.width = self.walls.shape
        if self.walls.all():
            raise ValueError("maze: the layout has no free cell")
        free = np.argwhere(~self.walls)
        self.start = np.array(start if start is not None else free[0] + 0.5, dtype=np.float64)
        self.goal = np.array(goal if goal is not None else free[-1] + 0.5, dtype=np.float64)
        for name, point in (("start", self.start), ("goal", self.goal)):
            if point.shape != (2,) or not np.isfinite(point).all():
                raise ValueError(f"{name}: must be a (row, column) pair, got {point.tolist()}")
            if self.blocked(point[None])[0]:
                raise ValueError(f"{name}: {tuple(point.tolist())} is inside a wall or outside the "
                                 f"{self.height}x{self.width} maze")
        if not goal_radius > 0:
            raise ValueError(f"goal_radius: must be > 0, got {goal_radius!r}")
        self.goal_radius = float(goal_radius)
        if not np.isfinite(self.distance(self.start[None]))[0]:
            raise ValueError(f"goal: {tuple(self.goal.tolist())} cannot be reached from start "
                             f"{tuple(self.start.tolist())}")

    def blocked(self, pos: np.ndarray) -> np.ndarray:
        """True where a (N, 2) position is outside [0, H] x [0, W] or inside a wall cell."""
        r, c = pos[:, 0], pos[:, 1]
        outside = (r < 0) | (r > self.height) | (c < 0) | (c > self.width)
        # A position on the far edge (r == H) belongs to the last cell, as in the course.
        i = np.clip(r, 0, self.height - 1).astype(np.intp)
        j = np.clip(c, 0, self.width - 1).astype(np.intp)
        return outside | self.walls[i, j]

    def move(self, pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
        """The course's motion model, batched: SUBSTEPS steps of DT * vel, each axis stopped by walls.

        Same rule as `blocked`, unrolled per axis: only the moving coordinate's cell changes.
        """
        h, w, walls = self.height, self.width, self.walls.ravel()
        r, c = pos[:, 0].copy(), pos[:, 1].copy()
        dr, dc = DT * vel[:, 0], DT * vel[:, 1]
        i, j = np.clip(r, 0, h - 1).astype(np.intp), np.clip(c, 0, w - 1).astype(np.intp)
        for _ in range(SUBSTEPS):
            new = r + dr
            new_i = np.clip(new, 0, h - 1).astype(np.intp)
            ok = (new >= 0) & (new <= h) & ~walls[new_i * w + j]
            r, i = np.where(ok, new, r), np.where(ok, new_i, i)
            new = c + dc
            new_j = np.clip(new, 0, w - 1).astype(np.intp)
            ok = (new >= 0) & (new <= w) & ~walls[i * w + new_j]
            c, j = np.where(ok, new, c), np.where(ok, new_j, j)
        return np.stack([r, c], axis=1)

    def cells(self, obs: np.ndarray) -> np.ndarray:
        """(row, column) cell indices of (N, 2) observations in [0, 1]^2."""
        scaled = np.asarray(obs, dtype=np.float64) * (self.height, self.width)
        return np.clip(scaled, 0, (self.height - 1, self.width - 1)).astype(np.intp)

    @cached_property
    def fine_distance(self) -> np.ndarray:
        """Breadth-first-search steps to the goal on a grid ORACLE_RESOLUTION times finer than the cells."""
        k = ORACLE_RESOLUTION
        free = ~np.kron(self.walls, np.ones((k, k), dtype=bool))
        centres = (np.indices(free.shape).transpose(1, 2, 0) + 0.5) / k
        frontier = free & (np.linalg.norm(centres - self.goal, axis=-1) < self.goal_radius)
        dist = np.full(free.shape, np.inf)
        d = 0
        while frontier.any():
            dist[frontier] = d
            grown = np.zeros_like(frontier)
            grown[1:] |= frontier[:-1]
            grown[:-1] |= frontier[1:]
            grown[:, 1:] |= frontier[:, :-1]
            grown[:, :-1] |= frontier[:, 1:]
            frontier = grown & free & np.isinf(dist)
            d += 1
        return dist

    def distance(self, pos: np.ndarray) -> np.ndarray:
        k = ORACLE_RESOLUTION
        fd = self.fine_distance
        i = np.clip((pos[:, 0] * k).astype(np.intp), 0, fd.shape[0] - 1)
        j = np.clip((pos[:, 1] * k).astype(np.intp), 0, fd.shape[1] - 1)
        return fd[i, j]

    def oracle_actions(self, obs: np.ndarray, noise_free: bool = False) -> np.ndarray:
        """Greedy on the planner's distance after a noise-free one-step lookahead of each action.

        A float32 observation cannot tell which side of a cell border a position within its rounding error
        (size * 2**-24 cells) lies on: sliding along a wall leaves c = 8 - 1e-14, read as 8 + 1e-7. There each
        action is scored by its worse outcome from the free positions on either side. At a bend, moving on and
        staying can tie; the action noise leaves such a tie, and REF_RETURNS come from this rule. `noise_free`
        (an env with action_noise 0, where the tie would hold forever) ranks the actions by the nearest distance
        two steps ahead, then one step ahead, then by the straight-line distance to the goal (the planner's
        goal cells reach a little beyond the disc).
        """
        pos = np.atleast_2d(obs).astype(np.float64) * (self.height, self.width)
        border, eps = np.round(pos), max(self.height, self.width) * 2.0**-24
        near = np.abs(pos - border) < eps
        starts = [pos]
        if near.any():
            sides = [np.where(near, border + s * eps, pos) for s in (-1, 1)]
            starts = [np.stack([r[:, 0], c[:, 1]], axis=1) for r in sides for c in sides]
        # the agent is never inside a wall: such a side is not where it is (unless every side is, as for a
        # position that the caller made up inside a wall)
        free_sides = [~self.blocked(start) for start in starts]
        nowhere = ~np.any(free_sides, axis=0)
        after, second, line = (np.full((len(pos), len(ACTIONS)), -np.inf) for _ in range(3))
        for start, free in zip(starts, free_sides):
            free = (free | nowhere)[:, None]
            ends = [self.move(start, np.broadcast_to(a, start.shape)) for a in ACTIONS]
            after = np.where(free, np.maximum(after, np.stack([self.distance(e) for e in ends], axis=1)), after)
            if noise_free:
                best = np.stack([np.min([self.distance(self.move(e, np.broadcast_to(b, e.shape))) for b in ACTIONS],
                                        axis=0) for e in ends], axis=1)
                second = np.where(free, np.maximum(second, best), second)
                to_goal = np.stack([np.linalg.norm(e - self.goal, axis=1) for e in ends], axis=1)
                line = np.where(free, np.maximum(line, to_goal), line)
        if noise_free:
            return np.lexsort((line.T, after.T, second.T), axis=0)[0]
        return np.argmin(after, axis=1)


# ---------------------------------------------------------------------------------------------
# The environment and its native vector version
# ---------------------------------------------------------------------------------------------
class PointmassEnv(gym.Env):
    """One point in one maze. The horizon comes from gymnasium's TimeLimit (registration or make)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, maze="Maze5x5", resize_factor=1, start=None, goal=None, goal_radius=1.0,
                 action_noise=0.5, dense_reward=False, render_mode=None):
        self.maze = Maze(maze, resize_factor, start, goal, goal_radius)
        if not action_noise >= 0:
            raise ValueError(f"action_noise: must be >= 0, got {action_noise!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode: must be None or 'rgb_array', got {render_mode!r}")
        self.action_noise, self.dense_reward, self.render_mode = float(action_noise), dense_reward, render_mode
        self.observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(len(ACTIONS))
        # Plain Python floats and lists: a single step is 20 wall checks, and numpy per scalar is slower.
        self._walls = self.maze.walls.tolist()
        self._h, self._w = self.maze.height, self.maze.width
        self._moves = ACTIONS.tolist()
        self._pos = (0.0, 0.0)
        self._path: list[tuple[float, float]] = []

    def _free(self, r: float, c: float) -> bool:
        if r < 0 or c < 0 or r > self._h or c > self._w:
            return False
        return not self._walls[min(int(r), self._h - 1)][min(int(c), self._w - 1)]

    def _obs(self) -> np.ndarray:
        return np.array((self._pos[0] / self._h, self._pos[1] / self._w), dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._pos = tuple(self.maze.start.tolist())
        self._path = [self._pos]
        return self._obs(), {}

    def step(self, action):
        a = int(action)
        if not 0 <= a < len(self._moves) or a != action:  # -1 would wrap around to another action, 4.9 become 4
            raise ValueError(f"action must be one of 0..{len(self._moves) - 1}, got {action}")
        dr, dc = self._moves[a]
        if self.action_noise > 0:
            nr, nc = self.np_random.normal(0.0, self.action_noise, 2).tolist()
            dr, dc = dr + nr, dc + nc
        r, c = self._pos
        for _ in range(SUBSTEPS):
            if self._free(r + DT * dr, c):
                r += DT * dr
            if self._free(r, c + DT * dc):
                c += DT * dc
        self._pos = (r, c)
        self._path.append(self._pos)
        gr, gc = r - self.maze.goal[0], c - self.maze.goal[1]
        dist = math.sqrt(gr * gr + gc * gc)  # as np.linalg.norm in the vector env, bit for bit (math.hypot is not)
        terminated = dist < self.maze.goal_radius
        reward = -dist if self.dense_reward else (0.0 if terminated else -1.0)
        return self._obs(), reward, terminated, False, {}

    def render(self):
        if self.render_mode == "rgb_array":
            return render_rgb(self.maze, np.array(self._path))
        return None


class PointmassVectorEnv(gym.vector.VectorEnv):
    """N points in one maze stepped as numpy arrays: same dynamics, noise model and time limit.

    Autoreset follows gymnasium 1.x's NEXT_STEP mode: the step after a sub-env ends resets it, ignores
    its action and returns its start observation with reward 0. `reset(options={"reset_mask": mask})` resets
    only the sub-envs where mask is True. `max_episode_steps` None or -1 (gym.make's "no TimeLimit") means
    no time limit: `make_vec` fills in the id's horizon only when the argument is left out. `reset(seed=s)`
    seeds one generator for all sub-envs (one draw per step for the live ones), so with N = 1 it draws what the
    single env draws, and with N > 1 not what gymnasium's "sync" mode draws (sub-env i seeded s + i).
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs=1, max_episode_steps=None, **env_kwargs):
        if not (isinstance(num_envs, (int, np.integer)) and num_envs >= 1):
            raise ValueError(f"num_envs: must be a positive integer, got {num_envs!r}")
        if max_episode_steps == -1:
            max_episode_steps = None
        if max_episode_steps is not None and not (isinstance(max_episode_steps, (int, np.integer))
                                                  and max_episode_steps >= 1):
            raise ValueError(f"max_episode_steps: must be a positive integer, None or -1 (no limit), "
                             f"got {max_episode_steps!r}")
        template = PointmassEnv(**env_kwargs)
        self.maze, self.action_noise, self.dense_reward = template.maze, template.action_noise, template.dense_reward
        self.num_envs, self.max_episode_steps = int(num_envs), max_episode_steps
        self.single_observation_space, self.single_action_space = template.observation_space, template.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._pos = np.tile(self.maze.start, (self.num_envs, 1))
        self._t = np.zeros(self.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._scale = np.array([self.maze.height, self.maze.width], dtype=np.float64)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        mask = np.ones(self.num_envs, dtype=bool)
        if options is not None and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"])
            if mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
                raise ValueError(f"options['reset_mask']: must be a boolean array of shape ({self.num_envs},), "
                                 f"got {mask.dtype} of shape {mask.shape}")
        self._pos[mask] = self.maze.start
        self._t[mask] = 0
        self._autoreset[mask] = False
        return (self._pos / self._scale).astype(np.float32), {}

    def step(self, actions):
        given = np.asarray(actions)
        actions = given.astype(np.intp)
        if actions.size and not (0 <= actions.min() <= actions.max() < len(ACTIONS) and (actions == given).all()):
            raise ValueError(f"actions must be integers in 0..{len(ACTIONS) - 1}, got {given.min()}..{given.max()}")
        live = ~self._autoreset
        vel = ACTIONS[actions[live]]
        if self.action_noise > 0:
            # Noise only for live envs, so that N = 1 draws exactly what the single env draws.
            vel = vel + self.np_random.normal(0.0, self.action_noise, vel.shape)
        self._pos[live] = self.maze.move(self._pos[live], vel)
        self._pos[self._autoreset] = self.maze.start
        self._t = np.where(live, self._t + 1, 0)
        dist = np.linalg.norm(self._pos - self.maze.goal, axis=1)
        terminated = live & (dist < self.maze.goal_radius)
        # As gymnasium's TimeLimit: truncated once the horizon is reached, even on the goal step.
        truncated = live & (self._t >= self.max_episode_steps) if self.max_episode_steps else np.zeros_like(live)
        reward = np.where(terminated, 0.0, -1.0) if not self.dense_reward else -dist
        reward = np.where(live, reward, 0.0)
        self._autoreset = terminated | truncated
        return (self._pos / self._scale).astype(np.float32), reward, terminated, truncated, {}


def is_pointmass(env_id) -> bool:
    """True for the four registered Pointmass ids."""
    return env_id in PRESETS


def _maze_of(env) -> Maze:
    """The Maze of an env id, a Maze, or a (wrapped, single or vector) Pointmass env."""
    if isinstance(env, Maze):
        return env
    if isinstance(env, str):
        if env not in PRESETS:
            raise ValueError(f"env: {env!r} is not a Pointmass id; choose one of {', '.join(ENV_IDS)}")
        return _preset_maze(env)
    inner = getattr(env, "unwrapped", env)
    if not hasattr(inner, "maze"):
        raise ValueError(f"env: {env!r} is not a Pointmass environment")
    return inner.maze


@cache  # one Maze per id, so the oracle's distance field is computed once per process
def _preset_maze(env_id: str) -> Maze:
    return Maze(**PRESETS[env_id])


# ---------------------------------------------------------------------------------------------
# Oracle, reference returns, normalized score, coverage
# ---------------------------------------------------------------------------------------------
def _noise_free(env) -> bool:
    """True for a Pointmass env (single or vector, wrapped or not) made with action_noise=0."""
    return getattr(getattr(env, "unwrapped", env), "action_noise", None) == 0


def oracle_action(env, obs: np.ndarray) -> np.ndarray | int:
    """The planner's action for one observation (returns an int) or a batch (N, 2) (returns (N,))."""
    actions = _maze_of(env).oracle_actions(obs, _noise_free(env))
    return int(actions[0]) if np.ndim(obs) == 1 else actions


class OraclePolicy:
    """Oracle with probability 1 - epsilon, else a uniform action: the `noisy-oracle` behaviour policy."""

    def __init__(self, env, epsilon: float = 0.0, seed: Optional[int] = None):
        self.maze, self.epsilon, self.rng = _maze_of(env), epsilon, np.random.default_rng(seed)
        self.noise_free = _noise_free(env)

    def __call__(self, obs: np.ndarray) -> np.ndarray | int:
        """Actions (N,) for a batch (N, 2) of observations, an int for one (2,) observation, as oracle_action."""
        actions = self.maze.oracle_actions(obs, self.noise_free)
        explore = self.rng.random(len(actions)) < self.epsilon
        actions[explore] = self.rng.integers(len(ACTIONS), size=int(explore.sum()))
        return int(actions[0]) if np.ndim(obs) == 1 else actions


def rollout(env_id: str, policy: Callable[[np.ndarray], np.ndarray], episodes: int, seed: int,
            record: int = 0) -> dict:
    """One episode per sub-env of the vector env: returns, lengths, success, first `record` paths."""
    envs = gym.make_vec(env_id, num_envs=episodes)
    obs, _ = envs.reset(seed=seed)
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=np.int64)
    success, done = np.zeros(episodes, dtype=bool), np.zeros(episodes, dtype=bool)
    paths = [[o] for o in obs[:record]]
    while not done.all():
        obs, reward, terminated, truncated, _ = envs.step(policy(obs))
        live = ~done
        returns[live] += reward[live]
        lengths[live] += 1
        success |= live & terminated
        for i in np.flatnonzero(live[:record]):
            paths[i].append(obs[i])
        done |= terminated | truncated
    envs.close()
    return {"returns": returns, "lengths": lengths, "success": success, "paths": [np.array(p) for p in paths]}


def random_policy(seed: Optional[int] = None) -> Callable[[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    return lambda obs: rng.integers(len(ACTIONS), size=len(obs))


def normalized_score(env_id: str, returns):
    """100 * (R - R_random) / (R_oracle - R_random), for a scalar or an array of returns."""
    if env_id not in REF_RETURNS:
        raise ValueError(f"env_id: no reference returns for {env_id!r}; known: {', '.join(REF_RETURNS)}")
    lo, hi = REF_RETURNS[env_id]
    score = 100.0 * (np.asarray(returns, dtype=np.float64) - lo) / (hi - lo)
    return float(score) if np.ndim(score) == 0 else score


def coverage(env, observations: np.ndarray) -> float:
    """Fraction of the maze's free cells that at least one observation falls in."""
    maze = _maze_of(env)
    obs = np.asarray(observations).reshape(-1, 2)
    visited = np.zeros_like(maze.walls)
    if len(obs):
        ij = maze.cells(obs)
        visited[ij[:, 0], ij[:, 1]] = True
    return float((visited & ~maze.walls).sum() / (~maze.walls).sum())


# ---------------------------------------------------------------------------------------------
# Pictures: numpy for render(), matplotlib (lazy, no pyplot state) for the analysis plots
# ---------------------------------------------------------------------------------------------
def render_rgb(maze: Maze, path: np.ndarray, pixels: int = 400) -> np.ndarray:
    """Walls, goal disc, the episode's path (blue) and the agent (red), drawn with numpy."""
    s = max(4, pixels // max(maze.height, maze.width))
    rows, cols = (np.indices((maze.height * s, maze.width * s)) + 0.5) / s
    img = np.full((maze.height * s, maze.width * s, 3), 255, dtype=np.uint8)
    img[np.kron(maze.walls, np.ones((s, s), dtype=bool))] = (60, 60, 60)
    img[np.hypot(rows - maze.goal[0], cols - maze.goal[1]) < maze.goal_radius] = (150, 220, 150)
    if len(path) > 1:
        seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
        t = np.linspace(0, 1, max(2, int(seg.sum() * s * 2)))
        along = np.interp(t * seg.sum(), np.concatenate([[0], np.cumsum(seg)]), np.arange(len(path)))
        k = np.minimum(along.astype(int), len(path) - 2)
        pts = path[k] + (along - k)[:, None] * (path[k + 1] - path[k])
        ij = np.clip((pts * s).astype(int), 0, (maze.height * s - 1, maze.width * s - 1))
        img[ij[:, 0], ij[:, 1]] = (40, 90, 220)
    if len(path):
        img[np.hypot(rows - path[-1][0], cols - path[-1][1]) < max(0.3, 2 / s)] = (220, 40, 40)
    return img


def _figure(maze: Maze, title: Optional[str]):
    from matplotlib.figure import Figure  # lazy: keeps `import pointmass` fast; Figure needs no pyplot

    # fixed margins instead of layout="constrained", whose solver took about a fifth of each plot's time
    fig = Figure(figsize=(4.2, 4.2 * maze.height / maze.width + 0.3), dpi=100)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.93)
    ax = fig.add_subplot()
    ax.set_xlim(0, maze.width)
    ax.set_ylim(maze.height, 0)  # row 0 at the top, as the layouts are written
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return fig, ax


def _walls_and_goal(ax, maze: Maze):
    from matplotlib.patches import Circle

    overlay = np.zeros((*maze.walls.shape, 4))
    overlay[maze.walls] = (0.25, 0.25, 0.25, 1.0)
    ax.imshow(overlay, extent=(0, maze.width, maze.height, 0), interpolation="nearest", zorder=2)
    ax.add_patch(Circle(maze.goal[::-1], maze.goal_radius, fill=False, color="limegreen", lw=2, zorder=3))
    ax.plot(*maze.start[::-1], marker="o", color="white", mec="black", zorder=4)


def _finish(fig, path) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    if path is not None:
        tmp = f"{path}.tmp.png"
        fig.savefig(tmp)
        os.replace(tmp, path)
    fig.clear()
    return img


def plot_state_density(env, observations: np.ndarray, path=None, title: Optional[str] = None) -> np.ndarray:
    """Heat map (log scale) of where a set of observations lies in the maze."""
    maze = _maze_of(env)
    obs = np.asarray(observations, dtype=np.float64).reshape(-1, 2) * (maze.height, maze.width)
    k = max(1, 80 // max(maze.height, maze.width))
    hist, _, _ = np.histogram2d(obs[:, 0], obs[:, 1], bins=(maze.height * k, maze.width * k),
                                range=[[0, maze.height], [0, maze.width]])
    fig, ax = _figure(maze, title or f"state visitation ({len(obs)} states)")
    im = ax.imshow(np.log1p(hist), extent=(0, maze.width, maze.height, 0), cmap="magma", interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.8, label="log(1 + count)")
    _walls_and_goal(ax, maze)
    return _finish(fig, path)


def plot_value_map(env, fn: Callable[[np.ndarray], np.ndarray], path=None, title: Optional[str] = None) -> np.ndarray:
    """Any scalar function of the observation (RND bonus, V(s), max_a Q(s, a)) on a grid over the maze."""
    maze = _maze_of(env)
    k = max(1, 80 // max(maze.height, maze.width))
    centres = (np.indices((maze.height * k, maze.width * k)).reshape(2, -1).T + 0.5) / k
    values = np.asarray(fn((centres / (maze.height, maze.width)).astype(np.float32)), dtype=np.float64)
    grid = values.reshape(maze.height * k, maze.width * k)
    grid[np.kron(maze.walls, np.ones((k, k), dtype=bool))] = np.nan
    fig, ax = _figure(maze, title)
    im = ax.imshow(grid, extent=(0, maze.width, maze.height, 0), cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.8)
    _walls_and_goal(ax, maze)
    return _finish(fig, path)


def plot_trajectories(env, trajectories: Sequence[np.ndarray], path=None, title: Optional[str] = None) -> np.ndarray:
    """Paths of episodes, each a (T, 2) array of observations."""
    maze = _maze_of(env)
    fig, ax = _figure(maze, title or f"{len(trajectories)} trajectories")
    _walls_and_goal(ax, maze)
    for traj in trajectories:
        pos = np.asarray(traj, dtype=np.float64).reshape(-1, 2) * (maze.height, maze.width)
        ax.plot(pos[:, 1], pos[:, 0], lw=1, alpha=0.8, zorder=5)
        ax.plot(pos[-1, 1], pos[-1, 0], marker="x", color="red", zorder=6)
    return _finish(fig, path)


# ---------------------------------------------------------------------------------------------
# Datasets and the command line
# ---------------------------------------------------------------------------------------------
@dataclass
class Collect:
    """Collect transitions with a scripted policy on the vector env; write them as a local Minari dataset."""

    env_id: str = "PointmassHard-v0"
    """one of PointmassEasy-v0, PointmassMedium-v0, PointmassHard-v0, PointmassVeryHard-v0"""
    policy: Literal["random", "oracle", "noisy-oracle"] = "noisy-oracle"
    """behaviour policy: uniform random, the oracle planner, or the oracle with epsilon-random actions"""
    epsilon: Optional[float] = None
    """probability of a uniformly random action, noisy-oracle only (None: 0.2)"""
    steps: int = 100_000
    """number of transitions to write"""
    dataset_id: Optional[str] = None
    """Minari id `[namespace/]name-vN` (default: pointmass/<maze>-<policy>-v0); written under $MINARI_DATASETS_PATH"""
    seed: int = 0
    """seeds the environment and the policy"""
    num_envs: int = 100
    """parallel sub-envs used for collection"""

    def behaviour_epsilon(self) -> float:
        """The noisy oracle's share of random actions (--epsilon, 0.2 unless given); 0 for the other policies."""
        return (0.2 if self.epsilon is None else self.epsilon) if self.policy == "noisy-oracle" else 0.0


@dataclass
class Show:
    """Print the four mazes and their reference returns (the default when no subcommand is given)."""


@dataclass
class Refs:
    """Recompute REF_RETURNS: mean return of the uniform-random policy and of the oracle per maze."""

    episodes: int = 2000
    """episodes per policy and maze"""
    seed: int = 0


@dataclass
class Bench:
    """Measure the environment's speed: medians over `repeats` timings of each figure."""

    repeats: int = 5
    steps: int = 100_000
    """single-env steps per timing; the vector env and collection use the same number of env-steps"""


def check_collect(args: Collect) -> str:
    """Validate every flag before any work; returns the dataset id. Raises ValueError naming the flag."""
    if args.env_id not in PRESETS:
        raise ValueError(f"--env-id: unknown id {args.env_id!r}; choose one of {', '.join(ENV_IDS)}")
    if args.epsilon is not None and args.policy != "noisy-oracle":
        raise ValueError(f"--epsilon: only --policy noisy-oracle takes random actions, not --policy {args.policy}")
    if args.epsilon is not None and not 0.0 <= args.epsilon <= 1.0:
        raise ValueError(f"--epsilon: must be in [0, 1], got {args.epsilon}")
    if args.steps < 1:
        raise ValueError(f"--steps: must be a positive integer, got {args.steps}")
    if args.num_envs < 1:
        raise ValueError(f"--num-envs: must be a positive integer, got {args.num_envs}")
    if not 0 <= args.seed < 2**31:
        raise ValueError(f"--seed: must be in [0, 2**31 - 1], got {args.seed}")
    maze = PRESETS[args.env_id]["maze"].lower()
    need, have = args.steps * COLLECT_BYTES_PER_STEP, _physical_memory()
    if need > have:
        raise ValueError(f"--steps: {args.steps} transitions need about {need / 2**30:.0f} GiB in memory, more than "
                         f"this machine's {have / 2**30:.0f} GiB")
    default_id = f"pointmass/{args.env_id[9:-3].lower()}-{args.policy}-v0"
    dataset_id = default_id if args.dataset_id is None else args.dataset_id
    if not re.fullmatch(r"([-\w]+/)*[-\w]+?-v\d+", dataset_id):
        raise ValueError(f"--dataset-id: {dataset_id!r} must look like [namespace/]name-vN, e.g. pointmass/{maze}-v0")
    from minari.dataset.minari_dataset import parse_dataset_id
    from minari.storage import get_dataset_path

    try:  # Minari's own rules too (a namespace of two characters or more...), or it refuses after the collection
        parse_dataset_id(dataset_id)
    except (ValueError, TypeError, gym.error.Error) as err:  # minari 0.5.0 raises gymnasium's Error for some
        raise ValueError(f"--dataset-id: {err}") from None

    if get_dataset_path(dataset_id).exists():
        raise ValueError(f"--dataset-id: {dataset_id!r} already exists at {get_dataset_path(dataset_id)}; "
                         "choose a new name or version")
    inside = next((p for p in get_dataset_path(dataset_id).parents if (p / "data").is_dir()), None)
    if inside is not None:  # Minari would write it into that dataset's folder, where list_local_datasets misses it
        raise ValueError(f"--dataset-id: {dataset_id!r} would lie inside the dataset at {inside}")
    return dataset_id


def _physical_memory() -> float:
    """This machine's RAM in bytes (inf where the OS does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return math.inf


def check_refs(args: Refs) -> None:
    if args.episodes < 1:
        raise ValueError(f"--episodes: must be a positive integer, got {args.episodes}")
    if not 0 <= args.seed < 2**31:
        raise ValueError(f"--seed: must be in [0, 2**31 - 1], got {args.seed}")


def check_bench(args: Bench) -> None:
    if args.repeats < 1:
        raise ValueError(f"--repeats: must be a positive integer, got {args.repeats}")
    if args.steps < 1000:
        raise ValueError("--steps: must be at least 1000 (the vector env steps 1000 sub-envs at once), "
                         f"got {args.steps}")


def collect_episodes(args: Collect) -> list[dict]:
    """Step the vector env until `args.steps` transitions; split them into Minari episode buffers."""
    n = min(args.num_envs, args.steps)
    cap = 2 * math.ceil(args.steps / n) + 2  # an autoreset step follows each episode of >= 1 real step
    maze = _preset_maze(args.env_id)
    if args.policy == "random":
        policy = random_policy(args.seed + 1)
    else:
        policy = OraclePolicy(maze, args.behaviour_epsilon(), seed=args.seed + 1)
    envs = gym.make_vec(args.env_id, num_envs=n)
    obs = np.empty((cap + 1, n, 2), dtype=np.float32)
    acts = np.empty((cap, n), dtype=np.int64)
    rews = np.empty((cap, n))
    term, trunc = np.zeros((cap, n), dtype=bool), np.zeros((cap, n), dtype=bool)
    # Transition t of env j is real unless env j ended at t - 1: then step t was its autoreset.
    real = np.zeros((cap, n), dtype=bool)
    obs[0], _ = envs.reset(seed=args.seed)
    count, t, ended = 0, 0, np.zeros(n, dtype=bool)
    while count < args.steps:
        real[t] = ~ended
        acts[t] = policy(obs[t])
        obs[t + 1], rews[t], term[t], trunc[t], _ = envs.step(acts[t])
        ended = term[t] | trunc[t]
        count += int(real[t].sum())
        t += 1
    envs.close()
    # Drop the surplus of the last step, so that exactly `steps` transitions are written.
    last = np.flatnonzero(real[t - 1])
    real[t - 1, last[len(last) - (count - args.steps):]] = False
    ended = term | trunc
    episodes = []
    for j in range(n):
        steps = np.flatnonzero(real[:, j])
        if not len(steps):
            continue
        # An episode ends where env j ended, or at its last kept step (cut there: a truncation).
        ends = np.union1d(steps[ended[steps, j]], steps[-1:])
        start = steps[0]
        for end in ends:
            idx = np.arange(start, end + 1)
            episodes.append(dict(
                observations=np.concatenate([obs[idx, j], obs[end + 1, j][None]]),
                actions=acts[idx, j], rewards=rews[idx, j],
                terminations=term[idx, j], truncations=trunc[idx, j] | (idx == end) & ~term[idx, j],
            ))
            start = end + 2
    return episodes


def write_dataset(args: Collect, dataset_id: str, episodes: list[dict]):
    """Write episodes with minari; on any failure remove what was written (namespace folder included)."""
    import warnings

    import minari
    from minari.data_collector import EpisodeBuffer
    from minari.storage import get_dataset_path

    lo, hi = REF_RETURNS[args.env_id]
    made = [p for p in [get_dataset_path(dataset_id), *get_dataset_path(dataset_id).parents] if not p.exists()]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return minari.create_dataset_from_buffers(
                dataset_id, [EpisodeBuffer(id=i, **ep) for i, ep in enumerate(episodes)],
                env=args.env_id, eval_env=args.env_id,
                algorithm_name=(args.policy if args.policy != "noisy-oracle"
                                else f"noisy-oracle (epsilon={args.behaviour_epsilon()})"),
                author="pointmass-offline-rl", author_email="n/a", code_permalink="pointmass.py collect",
                description=f"{args.steps} transitions of the {args.policy} policy on {args.env_id}, seed {args.seed}",
                ref_min_score=lo, ref_max_score=hi,
            )
    except BaseException:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
        raise


def show() -> None:
    for env_id, p in PRESETS.items():
        maze = _preset_maze(env_id)
        lo, hi = REF_RETURNS[env_id]
        # a cell whose four corners lie in the goal disc is only ever entered by an episode's last step
        corners = np.indices((maze.height + 1, maze.width + 1))
        in_disc = np.hypot(corners[0] - maze.goal[0], corners[1] - maze.goal[1]) < maze.goal_radius
        inside = in_disc[:-1, :-1] & in_disc[1:, :-1] & in_disc[:-1, 1:] & in_disc[1:, 1:] & ~maze.walls
        print(f"{env_id}: {p['maze']} x{p['resize_factor']} ({maze.height}x{maze.width}), "
              f"start {tuple(maze.start.tolist())}, "
              f"goal {tuple(maze.goal.tolist())} radius {maze.goal_radius:g}, horizon {HORIZONS[env_id]}; "
              f"random return {lo:g}, oracle return {hi:g}; {(~maze.walls).sum()} free cells, {inside.sum()} of them "
              f"wholly inside the goal disc")
        chars = np.where(maze.walls, "#", ".")
        chars[tuple(maze.cells((maze.start / (maze.height, maze.width))[None])[0])] = "S"
        chars[tuple(maze.cells((maze.goal / (maze.height, maze.width))[None])[0])] = "G"
        print("\n".join("    " + "".join(row) for row in chars), end="\n\n")


def refs(args: Refs) -> None:
    for env_id in ENV_IDS:
        out = []
        for name, policy in (("random", random_policy(args.seed)), ("oracle", OraclePolicy(env_id))):
            r = rollout(env_id, policy, args.episodes, seed=args.seed)
            out.append(f"{name} {r['returns'].mean():.2f} +- {r['returns'].std() / np.sqrt(args.episodes):.2f} "
                       f"(success {r['success'].mean():.3f})")
        print(f"{env_id}: " + ", ".join(out))


def bench(args: Bench) -> None:
    import subprocess
    import time

    def median_of(fn) -> float:
        return float(np.median([fn() for _ in range(args.repeats)]))

    def single() -> float:
        env = gym.make("PointmassHard-v0")
        env.reset(seed=0)
        actions = np.random.default_rng(0).integers(len(ACTIONS), size=args.steps).tolist()
        t0 = time.perf_counter()
        for a in actions:
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()
        return args.steps / (time.perf_counter() - t0)

    def vector() -> float:
        envs = gym.make_vec("PointmassHard-v0", num_envs=1000)
        envs.reset(seed=0)
        actions = np.random.default_rng(0).integers(len(ACTIONS), size=(args.steps // 1000, 1000))
        t0 = time.perf_counter()
        for a in actions:
            envs.step(a)
        return actions.size / (time.perf_counter() - t0)

    def collection() -> float:
        t0 = time.perf_counter()
        collect_episodes(Collect(env_id="PointmassHard-v0", steps=args.steps, seed=0))
        return time.perf_counter() - t0

    def import_cost() -> float:
        code = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
        run = lambda mod: float(subprocess.run([sys.executable, "-c", code.format(mod)], capture_output=True,
                                                text=True, check=True, cwd=Path(__file__).parent).stdout)
        return run("gymnasium, pointmass") - run("gymnasium")

    print(f"single env (gymnasium.make, PointmassHard-v0): {median_of(single):,.0f} steps/s")
    print(f"vector env (N = 1000): {median_of(vector):,.0f} env-steps/s")
    print(f"collect {args.steps:,} noisy-oracle steps (without writing): {median_of(collection):.2f} s")
    print(f"`import pointmass` after gymnasium: {median_of(import_cost):.3f} s")


def check_flags(argv: Sequence[str], cls: type, prog: str, positionals: bool = False) -> None:
    """Refuse in one line what tyro answers with a box of help text: a flag that `cls` lacks, a missing value, a
    value of the wrong type or outside a Literal's choices. Raises ValueError naming the flag; tyro parses after.

    The algorithm scripts carry their own parse_args (they import nothing from here but the mazes); report.py, whose
    RUNS_DIR... are `positionals`, uses this one."""
    import dataclasses
    import difflib
    import typing

    if {"-h", "--help"} & set(argv):
        return
    fields = {f.name for f in dataclasses.fields(cls)}
    kinds: dict = {}  # "--flag": (int, float, str, a tuple of allowed strings, or None for a switch; "None" allowed)
    for name, hint in typing.get_type_hints(cls).items():
        if name not in fields or positionals and typing.get_origin(hint) is tuple:
            continue  # not a field; report.py's RUNS_DIR... (a positional tuple), which has no flag
        types = (hint, *typing.get_args(hint))
        literal = next((typing.get_args(t) for t in types if typing.get_origin(t) is Literal), None)
        kind = literal or next((t for t in (bool, int, float, str) if t in types), str)
        flag = "--" + name.replace("_", "-")
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
    i, switch, block = 0, None, ""  # switch: the previous token, when it was a flag that takes no value
    while i < len(argv):
        token, i = argv[i], i + 1
        if token == "--":  # the end of the flags: tyro judges the rest
            break
        if positionals and not is_flag(token):  # tyro takes the positionals as one unbroken block
            if block == "closed":
                raise ValueError(f"{token}: give all positional arguments of {prog} together, not split by flags")
            block, switch = "open", None
            continue
        block = "closed" if block else block
        flag, has_value, value = token.partition("=") if token.startswith("--") else (token, "", token)
        flag = flag.replace("_", "-")
        if flag in kinds and kinds[flag][0] is None and has_value:  # --switch=value
            switch = flag
        elif switch is not None and not is_flag(token):  # --switch value
            value = token
        else:
            switch = None
        if switch is not None:
            name = switch.removeprefix("--no-").removeprefix("--")
            raise ValueError(f"{switch} takes no value, got {value!r}: write --{name} or --no-{name}")
        if flag not in kinds:
            close = difflib.get_close_matches(flag, kinds, n=1, cutoff=0.75)
            suggestion = (f"; did you mean {close[0]}?" if close else " (see --help)") if is_flag(token) else \
                ": flags come as --name value (see --help)"
            raise ValueError(f"{token} is not a flag of {prog}{suggestion}")
        kind, may_be_none = kinds[flag]
        if kind is None:
            switch = flag
            continue
        if not has_value:
            value, i = (argv[i] if i < len(argv) else "--"), i + 1
            if is_flag(value):
                raise ValueError(f"{flag} needs a value: "
                                 f"{what[kind] if kind in what else 'one of ' + ', '.join(map(str, kind))}")
        if may_be_none and value == "None":
            continue
        if isinstance(kind, tuple) and value not in kind:
            raise ValueError(f"{flag} must be one of {', '.join(map(str, kind))}, got {value!r}")
        try:
            kind(value) if not isinstance(kind, tuple) else None
        except ValueError:
            raise ValueError(f"{flag} must be {what[kind]}{' or None' * may_be_none}, got {value!r}") from None


SUBCOMMANDS = {"collect": Collect, "show": Show, "refs": Refs, "bench": Bench}  # `python pointmass.py <name>`


def main(argv: Optional[Sequence[str]] = None) -> None:
    import difflib

    import tyro

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return show()
    if not {"-h", "--help"} & set(argv):  # one line for a misspelt subcommand or flag, before tyro's boxes
        name = argv[0] if argv[0] in SUBCOMMANDS else None
        try:
            if name is None:
                close = difflib.get_close_matches(argv[0], SUBCOMMANDS, n=1)
                raise ValueError(f"{argv[0]} is not a subcommand" + (
                    f"; did you mean {close[0]}?" if close else f" (they are {', '.join(SUBCOMMANDS)})"))
            check_flags(argv[1:], SUBCOMMANDS[name], f"pointmass.py {name}")
        except ValueError as err:
            print(f"pointmass.py{' ' + name if name else ''}: error: {err}", file=sys.stderr)
            raise SystemExit(2)
    cmd = tyro.extras.subcommand_cli_from_dict(
        SUBCOMMANDS, args=argv, prog="pointmass.py",
        description="The Pointmass mazes: datasets, reference returns, speed. Without a subcommand: show.")
    if isinstance(cmd, Show):
        return show()
    commands = {Collect: ("collect", check_collect), Refs: ("refs", check_refs), Bench: ("bench", check_bench)}
    name, check = commands[type(cmd)]
    try:
        dataset_id = check(cmd)
    except ValueError as err:
        print(f"pointmass.py {name}: error: {err}", file=sys.stderr)
        raise SystemExit(2)
    if isinstance(cmd, Refs):
        return refs(cmd)
    if isinstance(cmd, Bench):
        return bench(cmd)
    import time

    t0 = time.perf_counter()
    episodes = collect_episodes(cmd)
    dataset = write_dataset(cmd, dataset_id, episodes)
    returns = [ep["rewards"].sum() for ep in episodes
               if ep["terminations"][-1] or len(ep["rewards"]) == HORIZONS[cmd.env_id]]
    print(f"wrote {dataset_id}: {dataset.total_steps} steps, {dataset.total_episodes} episodes, "
          f"mean return of complete episodes {f'{np.mean(returns):.2f}' if returns else '- (none complete)'}, "
          f"in {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------------------------------------
# Layouts (1 = wall), row by row: the course's set. Registration of the four mazes.
# ---------------------------------------------------------------------------------------------
LAYOUTS = {
    "Small": (
        "0000",
        "0000",
        "0000",
        "0000",
    ),
    "Cross": (
        "0000000",
        "0001000",
        "0001000",
        "0111110",
        "0001000",
        "0001000",
        "0000000",
    ),
    "FourRooms": (
        "00000100000",
        "00000100000",
        "00000000000",
        "00000100000",
        "00000100000",
        "10111100000",
        "00000111011",
        "00000100000",
        "00000100000",
        "00000000000",
        "00000100000",
    ),
    "Spiral5x5": (
        "00000",
        "01111",
        "01001",
        "01101",
        "00001",
    ),
    "Spiral7x7": (
        "1111111",
        "1000000",
        "1011110",
        "1010010",
        "1011010",
        "1000010",
        "1111110",
    ),
    "Spiral9x9": (
        "000000000",
        "011111111",
        "010000001",
        "010111101",
        "010100101",
        "010110101",
        "010000101",
        "011111101",
        "000000001",
    ),
    "Spiral11x11": (
        "11111111111",
        "10000000000",
        "10111111110",
        "10100000010",
        "10101111010",
        "10101001010",
        "10101101010",
        "10100001010",
        "10111111010",
        "10000000010",
        "11111111110",
    ),
    "Maze5x5": (
        "00000",
        "11110",
        "11110",
        "11110",
        "11110",
    ),
    "Maze6x6": (
        "001000",
        "101010",
        "001011",
        "011001",
        "001101",
        "100001",
    ),
    "Maze11x11": (
        "01000100010",
        "01010101010",
        "01010101010",
        "01010101010",
        "00010001010",
        "11111111010",
        "11100010010",
        "11101010110",
        "00001000110",
        "01111111110",
        "00000000000",
    ),
    "Tunnel": (
        "000000000000110000000",
        "011111111110110111110",
        "000000000010010110010",
        "011111110010010000010",
        "011000011111111111110",
        "011011010000000000010",
        "011011010111111111010",
        "011011010100000001010",
        "011001110101111111010",
        "011001110100000000010",
        "000000000111101111010",
        "011111110100101001010",
        "010110010100000001010",
        "010110010111111111110",
        "010110110000000000000",
        "010110111111111111110",
        "010110111111111111110",
        "010110000000000000000",
        "010111110111111111110",
        "010000110100000100110",
        "011110110111110100110",
        "000000110000000100000",
    ),
    "U": (
        "000",
        "010",
        "010",
        "010",
        "110",
        "110",
        "010",
        "010",
        "010",
        "000",
    ),
    "Tree": (
        "111111111101111111111",
        "111100001101100001111",
        "111101101101101101111",
        "111101100000001101111",
        "111101111101111101111",
        "000101000101000101000",
        "010101010101010101010",
        "010000010101010000010",
        "011101110111011101110",
        "011101110111011101110",
        "011111110111011111110",
        "011111110111011111110",
        "011111110111011111110",
    ),
    "UMulti": (
        "000000000000000",
        "011111111111110",
        "010000000000010",
        "010111111111010",
        "010100000001010",
        "010101111101010",
        "010101000101010",
        "010101010101010",
        "010101010101010",
        "000000010101010",
        "111111110101010",
        "010101010101010",
        "010101010101010",
        "010101000101010",
        "010101111101010",
        "010100000001010",
        "010111111111010",
        "010000000000010",
        "011111111111110",
        "000000000000000",
    ),
    "FlyTrapSmall": (
        "110000000000011",
        "111111101111111",
        "010000101000010",
        "010000101000010",
        "010000101000010",
        "010000000000010",
        "011110000011110",
        "000000000000000",
        "011110000011110",
        "010000000000010",
        "010000101000010",
        "010000101000010",
        "010000101000010",
        "111111101111111",
        "110000000000011",
    ),
    "FlyTrapBig": (
        "11000000000000000000011",
        "11111111111011111111111",
        "01000000001010000000010",
        "01000000001010000000010",
        "01000000001010000000010",
        "01000000001010000000010",
        "01000000000000000000010",
        "01000000000000000000010",
        "01000000000000000000010",
        "01000000000000000000010",
        "01111100000000000111110",
        "00000000000000000000000",
        "01111100000000000111110",
        "01000000000000000000010",
        "01000000000000000000010",
        "01000000000000000000010",
        "01000000000000000000010",
        "01000000001010000000010",
        "01000000001010000000010",
        "01000000001010000000010",
        "01000000001010000000010",
        "11111111111011111111111",
        "11000000000000000000011",
    ),
    "Galton": (
        "00000000000000000000000000000",
        "00000000000100000100000000000",
        "00000000000100000100000000000",
        "00000000000111111100000000000",
        "00000000000000100000000000000",
        "00000010000010101000001000000",
        "00000010000010101000001000000",
        "00000011111110101111111000000",
        "00000000010000100001000000000",
        "01000001010100100101010000010",
        "01000001010100100101010000010",
        "01111111010110101101011111110",
        "00001000010010101001000010000",
    ),
}


def _register() -> None:
    for env_id, kwargs in PRESETS.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point="pointmass:PointmassEnv",
                         vector_entry_point="pointmass:PointmassVectorEnv", max_episode_steps=HORIZONS[env_id],
                         kwargs=kwargs)


_register()

if __name__ == "__main__":
    import pointmass  # run the importable module, so gymnasium's entry points and this code share classes

    pointmass.main()
