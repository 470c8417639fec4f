"""The pieces that every algorithm script carries are the same text in each.

DESIGN.md accepts duplication between scripts, so that a reader finds a whole algorithm in one file; it
does not accept copies that drift apart, so that a fix in one script reaches all three. A piece listed here
is copied between the scripts as is; a piece that must differ (Args, check_args, train) is not listed.
"""
import inspect

import numpy as np
import pytest

import awac
import iql
import rnd_cql

SCRIPTS = {"rnd_cql": rnd_cql, "awac": awac, "iql": iql}
SHARED = ["ConfigError", "make_env", "Tanh", "mlp", "FourierMLP", "rnd_networks", "ReplayBuffer",
          "check_new_dataset_id", "evaluate", "exploration_schedule", "reward_weights", "rnd_bonus",
          "double_dqn_target", "make_run_dir", "write_json", "machine"]


@pytest.mark.parametrize("name", SHARED)
def test_a_shared_piece_is_the_same_text_in_every_script(name):
    sources = {script: inspect.getsource(getattr(module, name)) for script, module in SCRIPTS.items()}
    assert all(getattr(module, name).__module__ == script for script, module in SCRIPTS.items())  # not imported
    differ = [script for script, source in sources.items() if source != sources["rnd_cql"]]
    assert differ == [], f"{name} in {differ} differs from rnd_cql.py's"


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
