"""Fixtures shared by the scripts' tests: a paper formula written once, independently of every script, table
networks for updates worked out by hand, and the check that a script's exploration phase is rnd_cql.py's."""
import numpy as np
import pytest
import torch


@pytest.fixture
def fourier_reference():
    """features(x, low, high, n_features, sigma, seed=0) = [sin z, cos z], z = ((x - low) / (high - low)) @ B,
    B = 2 pi sigma N(0, 1) as the first draw after torch.manual_seed(seed) (Tancik et al. 2020, eq. 5): what a
    script's Fourier-feature network built right after torch.manual_seed(seed) must compute."""

    def features(x, low, high, n_features, sigma, seed=0):
        low, high = (torch.tensor(v, dtype=torch.float32) for v in (low, high))
        torch.manual_seed(seed)
        B = 2 * np.pi * sigma * torch.randn(len(low), n_features)
        z = ((x - low) / (high - low)) @ B
        return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)

    return features


@pytest.fixture
def table():
    """table(weights): a network that is a table, one-hot states times these (n_outputs, n_states) weights, so that
    a test can work an update out by hand with numpy."""

    def make(weights) -> torch.nn.Linear:
        net = torch.nn.Linear(len(weights[0]), len(weights), bias=False)
        with torch.no_grad():
            net.weight.copy_(torch.tensor(weights))
        return net

    return make


@pytest.fixture
def noisy_oracle_easy(tmp_path, monkeypatch):
    """(dataset id, behaviour return): `pointmass.py collect` of 10 000 noisy-oracle steps on Easy with half of the
    actions uniformly random (epsilon 0.5, seed 0) into a private Minari folder, and the mean return of its
    complete episodes, which an offline learner must beat (cloning the data would score well below the oracle)."""
    import minari

    import pointmass

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    dataset_id = "test/easy-noisy-oracle-v0"
    pointmass.main(["collect", "--env-id", "PointmassEasy-v0", "--policy", "noisy-oracle", "--epsilon", "0.5",
                    "--steps", "10000", "--dataset-id", dataset_id, "--seed", "0"])
    horizon = pointmass.HORIZONS["PointmassEasy-v0"]
    returns = [ep.rewards.sum() for ep in minari.load_dataset(dataset_id).iterate_episodes()
               if ep.terminations[-1] or len(ep.rewards) == horizon]
    return dataset_id, float(np.mean(returns))


@pytest.fixture
def explores_as_rnd_cql(tmp_path):
    """check(script, unsupervised, other_flags, extended, script_flags): at equal exploration flags (the defaults
    with a phase of fixed length, with `other_flags` every other exploration flag away from its default, with
    `extended` a phase that goes on past --num-exploration-steps; `script_flags` are given to `script` alone)
    a seed gives `script` and rnd_cql.py the same exploration-phase data (every saved episode's observations
    and actions), and another seed other data, so that the comparison could fail.
    Needs a private MINARI_DATASETS_PATH (each test module sets one)."""

    def check(script, unsupervised: bool, other_flags: bool = False, extended: bool = False,
              script_flags: tuple = ()) -> None:
        import minari

        import rnd_cql

        common = dict(env_id="PointmassMedium-v0", seed=3, total_steps=1_100, learning_starts=300,
                      num_exploration_steps=1_000, eval_every=10_000, eval_episodes=5, batch_size=64, rnd_hidden=64,
                      unsupervised_exploration=unsupervised, progress=False,
                      extend_exploration=False)  # whether learned exploration finds the goal depends on the CPU
        if other_flags:
            common.update(explore_gamma=0.9, rnd_gamma=0.9, explore_learning_rate=1e-3, explore_hidden=32,
                          explore_target_update_period=50, rnd_layers=1, rnd_output_size=3, eps=0.3)
        if extended:  # a phase whose data miss Easy's goal by step 300 (random actions until then) goes on
            common.update(env_id="PointmassEasy-v0", seed=1, total_steps=2_000, num_exploration_steps=300,
                          extend_exploration=True)
        rnd_cql.train(rnd_cql.Args(**common, save_dataset_id="test/rnd-cql-v0", runs_dir=str(tmp_path / "a")))
        script.train(script.Args(**common, **dict(script_flags), save_dataset_id="test/script-v0",
                                 runs_dir=str(tmp_path / "b")))
        a, b = (list(minari.load_dataset(name).iterate_episodes()) for name in ("test/rnd-cql-v0", "test/script-v0"))
        phase = sum(len(ep.actions) for ep in a)
        assert phase >= 600 if extended else phase == common["num_exploration_steps"]
        assert len(a) == len(b) and sum(len(ep.actions) for ep in b) == phase
        for ep_a, ep_b in zip(a, b):
            assert np.array_equal(ep_a.observations, ep_b.observations) and np.array_equal(ep_a.actions, ep_b.actions)
        # its first episode lies in the random steps before learning_starts: a short run shows it
        short = dict(seed=4, total_steps=400, num_exploration_steps=300, extend_exploration=False)
        script.train(script.Args(**{**common, **short}, **dict(script_flags), save_dataset_id="test/script-seed4-v0",
                                 runs_dir=str(tmp_path / "c")))
        c = list(minari.load_dataset("test/script-seed4-v0").iterate_episodes())
        assert not np.array_equal(c[0].observations, b[0].observations)

    return check
