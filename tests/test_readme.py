"""Every command line that README.md, results/NOTES.md and the scripts' docstrings show still parses with
today's flags.

A renamed or removed flag otherwise leaves the README's copy-paste commands broken without any test noticing.
"""
import re
import shlex
from pathlib import Path

import pytest
import tyro

import awac
import iql
import pointmass
import report
import rnd_cql

ROOT = Path(__file__).resolve().parents[1]
ALGORITHMS = {"rnd_cql.py": rnd_cql, "awac.py": awac, "iql.py": iql}
SCRIPTS = (*ALGORITHMS, "report.py", "pointmass.py")
SHELL_VALUES = {"$lam": "1", "$tau": "0.9"}  # the README's loop variables


def python_commands(text: str) -> list[str]:
    """`python <script> ...` from fenced blocks (backslash continuations joined) and from inline code spans."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            start = line.find("python ")
            if start >= 0:
                found.append(line[start:])
    outside_blocks = re.sub(r"```.*?```", "", text, flags=re.S)
    found += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", outside_blocks)
              if span.startswith("python ")]
    return [cmd for cmd in found if cmd.split()[1] in SCRIPTS]


def docstring_commands(module) -> list[str]:
    text = re.sub(r"\\\n\s*", " ", module.__doc__)
    return [line.strip() for line in text.splitlines() if line.strip().startswith("python ")]


README_COMMANDS = python_commands((ROOT / "README.md").read_text())
NOTES_COMMANDS = python_commands((ROOT / "results" / "NOTES.md").read_text())  # the experiment notes
COMMANDS = README_COMMANDS + NOTES_COMMANDS + [
    cmd for module in ALGORITHMS.values() for cmd in docstring_commands(module)]


def test_the_extraction_finds_the_readme_commands():
    # the README's usage, course experiments, datasets and results sections hold about 30 of them,
    # and the notes the commands of the investigations behind the defaults
    assert len(README_COMMANDS) >= 25
    assert len(README_COMMANDS) + len(NOTES_COMMANDS) >= 35
    # the README's first usage example (its line ends with a comment)
    assert ["python", "iql.py", "--expectile", "0.9"] in [shlex.split(c, comments=True) for c in README_COMMANDS]
    assert {cmd.split()[1] for cmd in README_COMMANDS} == set(SCRIPTS)


@pytest.mark.parametrize("command", COMMANDS)
def test_command_parses(command):
    tokens = [SHELL_VALUES.get(t, t) for t in shlex.split(command, comments=True)]
    script, argv = tokens[1], tokens[2:]
    if script in ALGORITHMS:
        module = ALGORITHMS[script]
        module.check_args(module.parse_args(argv))
    elif script == "report.py":
        tyro.cli(report.Args, args=argv)
    elif argv:  # pointmass.py without arguments prints the mazes
        tyro.extras.subcommand_cli_from_dict(pointmass.SUBCOMMANDS, args=argv)
