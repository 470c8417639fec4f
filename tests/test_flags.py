"""Every flag of every algorithm script has a one-line help; every float flag refuses nan and inf, every int
flag -1, before any work starts.

A comparison such as `value > 0` lets inf through and `value <= 0` lets nan through; each script's
check_args ends with a finiteness check over all float fields, so a flag added later is covered too.
"""
import ast
import dataclasses
import inspect
import math
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
import tyro

import awac
import iql
import rnd_cql

SCRIPTS = {"rnd_cql": rnd_cql, "awac": awac, "iql": iql}


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_flag_has_a_one_line_docstring(script):
    """tyro shows a field's docstring as its --help text; it keeps the break before an indented second line,
    which cuts the help mid-sentence, so each docstring is one line."""
    body = ast.parse(inspect.getsource(SCRIPTS[script].Args)).body[0].body
    docs = {field.target.id: (after.value.value if isinstance(after, ast.Expr) else None)
            for field, after in zip(body, body[1:] + [None]) if isinstance(field, ast.AnnAssign)}
    assert set(docs) == {f.name for f in dataclasses.fields(SCRIPTS[script].Args)}
    assert {name: doc for name, doc in docs.items() if not isinstance(doc, str) or "\n" in doc or not doc} == {}


# from the annotations, so an Optional[float] flag whose default is None (awac's --lam) is included too
FLOAT_FLAGS = [(name, field.name) for name, module in SCRIPTS.items() for field in dataclasses.fields(module.Args)
               if field.type in (float, Optional[float])]


def test_every_script_has_float_flags():
    assert {name for name, _ in FLOAT_FLAGS} == set(SCRIPTS)
    assert len(FLOAT_FLAGS) >= 30


@pytest.mark.parametrize("script, flag", FLOAT_FLAGS, ids=[f"{s}--{f}" for s, f in FLOAT_FLAGS])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_float_flag_is_refused(script, flag, value, tmp_path):
    module = SCRIPTS[script]
    args = module.Args(**{flag: value, "runs_dir": str(tmp_path / "runs")})
    with pytest.raises(module.ConfigError, match=f"^--{flag.replace('_', '-')} "):
        module.check_args(args)
    assert not (tmp_path / "runs").exists()


INT_FLAGS = [(name, field.name) for name, module in SCRIPTS.items() for field in dataclasses.fields(module.Args)
             if field.type is int]


def test_every_script_has_int_flags():
    assert {name for name, _ in INT_FLAGS} == set(SCRIPTS) and len(INT_FLAGS) >= 45


@pytest.mark.parametrize("script, flag", INT_FLAGS, ids=[f"{s}--{f}" for s, f in INT_FLAGS])
def test_negative_int_flag_is_refused(script, flag, tmp_path):
    """No count, size, period or seed of these scripts means anything below 0."""
    module = SCRIPTS[script]
    with pytest.raises(module.ConfigError, match=f"^--{flag.replace('_', '-')} "):
        module.check_args(module.Args(**{flag: -1, "runs_dir": str(tmp_path / "runs")}))
    assert not (tmp_path / "runs").exists()


# one check_new_dataset_id, the same code in every script: a bad --save-dataset-id reads the same everywhere
SAVE_IDS = {"noversion": "must look like [namespace/]name-vN", "bad id-v0": "Malformed dataset ID",
            "/abs-v0": "Malformed dataset ID"}


@pytest.mark.parametrize("dataset_id", SAVE_IDS)
def test_bad_save_dataset_id_gives_one_message_in_every_script(dataset_id):
    messages = set()
    for module in SCRIPTS.values():
        with pytest.raises(module.ConfigError) as err:
            module.check_new_dataset_id(dataset_id)
        messages.add(str(err.value))
    assert len(messages) == 1
    message = messages.pop()
    assert message.startswith("--save-dataset-id ") and SAVE_IDS[dataset_id] in message and "\n" not in message


def test_taken_save_dataset_id_names_its_path(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    (tmp_path / "test" / "taken-v0").mkdir(parents=True)
    for module in SCRIPTS.values():
        module.check_new_dataset_id("test/free-v0")  # a free id passes
        with pytest.raises(module.ConfigError, match=r"^--save-dataset-id 'test/taken-v0' already exists at .*"
                                                     r"taken-v0; choose a new name or version$"):
            module.check_new_dataset_id("test/taken-v0")


def test_a_save_dataset_id_inside_a_dataset_is_refused(tmp_path, monkeypatch):
    """Minari would write `test/ds-v0/inner-v0` into the folder of the dataset test/ds-v0, out of its own listing."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    (tmp_path / "test" / "ds-v0" / "data").mkdir(parents=True)
    for module in SCRIPTS.values():
        module.check_new_dataset_id("test/other-v0/inner-v0")  # a plain namespace folder is fine
        with pytest.raises(module.ConfigError, match=r"^--save-dataset-id 'test/ds-v0/inner-v0' would lie inside the "
                                                     r"dataset at .*ds-v0$"):
            module.check_new_dataset_id("test/ds-v0/inner-v0")


# ---- the command line: tyro parses, but a typo or a wrong type is refused in one line first ----------------
BAD_COMMAND_LINES = [
    (["--sed", "3"], "--sed is not a flag of {script}.py; did you mean --seed?"),
    (["--no-such-flag", "3"], "--no-such-flag is not a flag of {script}.py (see --help)"),
    (["--seed", "abc"], "--seed must be an integer, got 'abc'"),
    (["--seed", "1e3"], "--seed must be an integer, got '1e3'"),
    (["--eps=0.1x"], "--eps must be a number, got '0.1x'"),
    (["--total-steps"], "--total-steps needs a value: an integer"),
    (["--exp-name", "--seed", "3"], "--exp-name needs a value: a string"),
    (["--env-id", "-x"], "--env-id needs a value: a string"),
    (["--use-rnd", "False"], "--use-rnd takes no value, got 'False': write --use-rnd or --no-use-rnd"),
    (["--no-use-rnd=1"], "--no-use-rnd takes no value, got '1': write --use-rnd or --no-use-rnd"),
    (["3"], "3 is not a flag of {script}.py: flags come as --name value (see --help)"),
    (["--no-use-rnd", "--total-step", "10"], "--total-step is not a flag of {script}.py; did you mean --total-steps?"),
    (["--cuda", "-5"], "--cuda takes no value, got '-5': write --cuda or --no-cuda"),
    (["--seed", "-_1"], "--seed must be an integer, got '-_1'"),  # a value for tyro, so not "needs a value"
]


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("argv, message", BAD_COMMAND_LINES, ids=[" ".join(a) for a, _ in BAD_COMMAND_LINES])
def test_a_bad_command_line_is_refused_in_one_line(script, argv, message):
    with pytest.raises(SCRIPTS[script].ConfigError) as err:
        SCRIPTS[script].parse_args(argv)
    assert str(err.value) == message.format(script=script)


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_good_command_line_parses_as_tyro_does(script):
    module = SCRIPTS[script]
    argv = ["--seed=3", "--no-use-rnd", "--eps", "0.1", "--env_id", "PointmassEasy-v0", "--save-dataset-id", "None",
            "--total-steps", "1_000", "--exp-name", "-_x", "--torch-deterministic", "--eps", "-.5", "--"]
    args = module.parse_args(argv)
    assert args == tyro.cli(module.Args, args=argv) and module.parse_args([]) == module.Args()
    assert (args.seed, args.use_rnd, args.eps, args.env_id, args.save_dataset_id, args.total_steps, args.exp_name) == \
        (3, False, -0.5, "PointmassEasy-v0", None, 1000, "-_x")


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_typo_exits_2_with_one_line_and_no_run_dir(script, tmp_path):
    path = Path(SCRIPTS[script].__file__)
    proc = subprocess.run([sys.executable, str(path), "--runs-dir", str(tmp_path / "runs"), "--total-step", "10"],
                          capture_output=True, text=True, timeout=120, cwd=path.parent)
    assert proc.returncode == 2 and not (tmp_path / "runs").exists()
    assert proc.stderr.splitlines() == [f"{script}.py: error: --total-step is not a flag of {script}.py; "
                                        "did you mean --total-steps?"]
