#!/usr/bin/env bash
# Set-up, the default pipelines (the successor of the course's run_hw5.sh), the test suite and the benchmarks.
#
# Usage:
#   ./benchmark.sh                     create/reuse .venv, install requirements.txt, run rnd_cql.py, awac.py
#                                      and iql.py one after the other, then print the table of those runs
#   ./benchmark.sh test [PYTEST_ARGS]  the same set-up, then `python -m pytest` (slow tests included)
#   ./benchmark.sh full [--seeds 5] [--workers 2]
#                                      {rnd_cql, awac, iql} x {Easy, Medium, Hard, VeryHard} x seeds into
#                                      runs/full/, report in results/
#   ./benchmark.sh sweeps [--seeds 1] [--workers 2] [--only alpha,numsteps,lam,tau]
#                                      the course's sweeps (CQL alpha, exploration steps, AWAC lambda,
#                                      IQL tau) into runs/sweeps/, report in results/sweeps/
#   ./benchmark.sh coverage [--seeds 3] [--workers 2]
#                                      unsupervised RND against random exploration on every maze, 10 000
#                                      steps each, into runs/coverage/, report in results/coverage/
#   ./benchmark.sh speed               the env's speed (pointmass.py bench), then each default run alone:
#                                      env steps/s, updates/s, wall time, memory
#                                      into runs/speed/, report in results/speed/
#   ./benchmark.sh d3rlpy              gradient updates/s of rnd_cql.py's CQL update against d3rlpy's
#                                      DiscreteCQL at equal network (256x256) and batch (256), one thread,
#                                      in a venv of its own (.venv-d3rlpy)
#   ./benchmark.sh oldest [PYTEST_ARGS]
#                                      the test suite with every package at the lowest version that
#                                      requirements.txt allows (each >= read as ==), in .venv-oldest
#   ./benchmark.sh help
#
# full/sweeps/coverage run `--workers` runs at a time, each with OMP_NUM_THREADS=1, log to
# runs/<name>/logs/, skip runs that already completed there with the same flags (delete the folder to
# redo them), name every failed run with its log and exit non-zero after writing the report.
#
# Variables of the course runner, same names and meanings (default pipeline only):
#   RUN_EXPLORATION, RUN_AWAC, RUN_IQL   1 (default) runs the stage, 0 skips it
#   EXPL_ENV_NAME, AWAC_ENV_NAME, IQL_ENV_NAME
#                                        PointmassEasy-v0, PointmassMedium-v0, PointmassHard-v0 (default)
#                                        or PointmassVeryHard-v0
#   EXPL_USE_RND, AWAC_USE_RND, IQL_USE_RND   1 (default): --use-rnd, 0: --no-use-rnd
#   AWAC_LAMBDA      awac.py --lam, and iql.py --beta 1/AWAC_LAMBDA (unset: the scripts' defaults)
#   IQL_EXPECTILE    iql.py --expectile (unset: its default)
#   EXPL_EXTRA_FLAGS, AWAC_EXTRA_FLAGS, IQL_EXTRA_FLAGS
#                    appended to that script's command line; the course's spelling is translated
#                    (--unsupervised_exploration -> --unsupervised-exploration, --env_name -> --env-id,
#                    --awac_lambda -> --lam / iql.py --beta 1/lambda, --iql_expectile -> --expectile)
#   SKIP_INSTALL     1: do not pip install requirements.txt
# Others: PYTHON (interpreter that creates .venv, default python3), DRY_RUN=1 (print the commands,
# create and run nothing).
#
# Examples (the course README's, with ./benchmark.sh in place of ./run_hw5.sh):
#   RUN_AWAC=0 RUN_IQL=0 EXPL_ENV_NAME=PointmassMedium-v0 ./benchmark.sh
#   EXPL_EXTRA_FLAGS="--unsupervised_exploration" ./benchmark.sh
set -euo pipefail
# wait -n needs bash 4.3 and an empty array under set -u 4.4; macOS ships 3.2 (brew install bash gives a newer one)
if (( BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 4) )); then
  echo "benchmark.sh: error: needs bash 4.4 or newer, this is $BASH_VERSION" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")"

PROG=benchmark.sh
PY=.venv/bin/python
ENV_IDS=(PointmassEasy-v0 PointmassMedium-v0 PointmassHard-v0 PointmassVeryHard-v0)
ALGOS=(rnd_cql awac iql)

RUN_EXPLORATION=${RUN_EXPLORATION:-1}
RUN_AWAC=${RUN_AWAC:-1}
RUN_IQL=${RUN_IQL:-1}
EXPL_ENV_NAME=${EXPL_ENV_NAME:-PointmassHard-v0}
AWAC_ENV_NAME=${AWAC_ENV_NAME:-PointmassHard-v0}
IQL_ENV_NAME=${IQL_ENV_NAME:-PointmassHard-v0}
EXPL_USE_RND=${EXPL_USE_RND:-1}
AWAC_USE_RND=${AWAC_USE_RND:-1}
IQL_USE_RND=${IQL_USE_RND:-1}
AWAC_LAMBDA=${AWAC_LAMBDA:-}
IQL_EXPECTILE=${IQL_EXPECTILE:-}
EXPL_EXTRA_FLAGS=${EXPL_EXTRA_FLAGS:-}
AWAC_EXTRA_FLAGS=${AWAC_EXTRA_FLAGS:-}
IQL_EXTRA_FLAGS=${IQL_EXTRA_FLAGS:-}
SKIP_INSTALL=${SKIP_INSTALL:-0}
DRY_RUN=${DRY_RUN:-0}
PYTHON=${PYTHON:-python3}

# Ctrl-C: the running script saves an "interrupted" summary itself; never go on to the next stage
trap 'echo "$PROG: interrupted" >&2; exit 130' INT TERM

# ------------------------------------------------------------------ helpers

die() {  # bad input: one line on stderr, exit status 2, nothing run
  echo "$PROG: error: $*" >&2
  exit 2
}

die_setup() { echo "$PROG: error: $*" >&2; exit 1; }  # the machine, not the input: exit status 1

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$(basename "${BASH_SOURCE[0]}")"; }  # after the cd

is_number() { [[ $1 =~ ^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$ ]]; }

awk_true() { awk -v x="$1" "BEGIN { exit !($2) }"; }  # numeric test on an already validated number

inverse() { awk -v x="$1" 'BEGIN { printf "%.10g", 1 / x }'; }

check_01() {
  local name=$1 value=${!1}
  [[ $value == 0 || $value == 1 ]] || die "$name must be 0 or 1, got '$value'"
}

check_env() {
  local name=$1 value=${!1} env
  for env in "${ENV_IDS[@]}"; do [[ $value == "$env" ]] && return 0; done
  die "$name must be one of ${ENV_IDS[*]}, got '$value'"
}

check_lambda() {  # $1 = where the value came from, $2 = the value
  is_number "$2" && awk_true "$2" "x + 0 > 0" || die "$1 must be a number > 0, got '$2'"
}

run() {  # show a command, then run it (DRY_RUN=1: only show it)
  echo "+ $*"
  [[ $DRY_RUN == 1 ]] || "$@"
}

require_scripts() {
  local stem
  for stem in "$@"; do
    [[ -f $stem.py ]] || die "$stem.py is missing"
  done
}

own_venv() {  # $1 = a venv of a subcommand's own (d3rlpy, oldest): created with $PYTHON unless it exists
  local venv=$1
  if [[ ! -x $venv/bin/python ]]; then
    [[ $DRY_RUN == 1 ]] || command -v "$PYTHON" >/dev/null ||
      die_setup "$PYTHON not found; set PYTHON to a Python 3.11 interpreter"
    run "$PYTHON" -m venv "$venv" || die_setup "could not create $venv with $PYTHON -m venv"
  fi
}

setup() {
  if [[ ! -x $PY ]]; then
    if [[ $DRY_RUN != 1 ]]; then
      command -v "$PYTHON" >/dev/null || die_setup "$PYTHON not found; set PYTHON to a Python 3.11 interpreter"
      # an old interpreter would only fail later, deep inside pip's resolver
      "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || die_setup "$PYTHON is $("$PYTHON" -V 2>&1); the project needs Python 3.10 or newer (3.11 is tested)"
    fi
    run "$PYTHON" -m venv .venv ||
      die_setup "could not create .venv with $PYTHON -m venv (Debian/Ubuntu: apt install python3-venv)"
  fi
  if [[ $SKIP_INSTALL == 1 ]]; then
    echo "SKIP_INSTALL=1: not installing requirements.txt"
  else
    echo "installing requirements.txt into .venv (SKIP_INSTALL=1 skips this)"
    run "$PY" -m pip install --quiet -r requirements.txt ||
      die_setup "pip install -r requirements.txt failed (see above)"
  fi
}

# Course-style flags to ours, word by word (like the course runner, the value is split on spaces).
# Fills FLAGS. $1 = script stem, $2 = name of the *_EXTRA_FLAGS variable.
translate_flags() {
  local stem=$1 var=$2 word name value i=0
  local -a words
  read -r -a words <<< "${!var}"
  FLAGS=()
  while (( i < ${#words[@]} )); do
    word=${words[i]}
    i=$((i + 1))
    if [[ $word != --* ]]; then
      FLAGS+=("$word")
      continue
    fi
    name=${word%%=*}
    name=${name#--}
    case $name in
      env_name) name=env-id ;;
      iql_expectile) name=expectile ;;
      rnd_size) name=rnd-hidden ;;
      rnd_n_layers) name=rnd-layers ;;
      awac_lambda)
        if [[ $stem == iql ]]; then
          # the course gave IQL's actor exp(A/lambda); iql.py takes the inverse temperature beta = 1/lambda
          if [[ $word == *=* ]]; then value=${word#*=}; else value=${words[i]:-}; i=$((i + 1)); fi
          check_lambda "$var: --awac_lambda" "$value"
          FLAGS+=(--beta "$(inverse "$value")")
          continue
        fi
        name=lam ;;
      *) name=${name//_/-} ;;
    esac
    if [[ $word == *=* ]]; then FLAGS+=("--$name=${word#*=}"); else FLAGS+=("--$name"); fi
  done
}

runs_dir_of() {  # the last --runs-dir among the words of a command (what tyro will use)
  local dir=runs prev= word
  for word in "$@"; do
    [[ $prev == --runs-dir ]] && dir=$word
    [[ $word == --runs-dir=* ]] && dir=${word#--runs-dir=}
    prev=$word
  done
  echo "$dir"
}

list_runs() {  # run directories directly in $1 (none yet is fine)
  [[ -d $1 ]] || return 0
  find "$1" -mindepth 1 -maxdepth 1 -type d -name '*__*__*__*' | sort
}

# Parse each stage's command with its own Args and check_args before the first run starts, so a typo
# in the third stage's flags does not surface only after the first two stages have trained.
preflight() {  # each argument: "stem word word ..."
  "$PY" - "$@" <<'EOF'
import importlib
import sys

import tyro

status = 0
for spec in sys.argv[1:]:
    stem, *argv = spec.split()
    module = importlib.import_module(stem)
    try:
        args = tyro.cli(module.Args, args=argv, prog=f"{stem}.py")
        if hasattr(module, "check_args"):
            module.check_args(args)
    except SystemExit as exc:  # tyro has already said what is wrong
        if exc.code:
            print(f"benchmark.sh: error: {stem}.py rejects its flags: {' '.join(argv)}", file=sys.stderr)
            status = 2
    except ValueError as err:
        print(f"benchmark.sh: error: {stem}.py: {err}", file=sys.stderr)
        status = 2
sys.exit(status)
EOF
}

# ------------------------------------------------------------------ default pipeline (run_hw5.sh)

pipeline() {
  (( $# == 0 )) || die "the default pipeline takes no arguments (got '$*'); see ./benchmark.sh help"
  local var
  for var in RUN_EXPLORATION RUN_AWAC RUN_IQL EXPL_USE_RND AWAC_USE_RND IQL_USE_RND SKIP_INSTALL DRY_RUN; do
    check_01 "$var"
  done
  for var in EXPL_ENV_NAME AWAC_ENV_NAME IQL_ENV_NAME; do check_env "$var"; done
  [[ -z $AWAC_LAMBDA ]] || check_lambda AWAC_LAMBDA "$AWAC_LAMBDA"
  if [[ -n $IQL_EXPECTILE ]]; then
    is_number "$IQL_EXPECTILE" && awk_true "$IQL_EXPECTILE" "x + 0 > 0 && x + 0 < 1" \
      || die "IQL_EXPECTILE must be a number in (0, 1), got '$IQL_EXPECTILE'"
  fi

  local -a stages=()
  if [[ $RUN_EXPLORATION == 1 ]]; then
    translate_flags rnd_cql EXPL_EXTRA_FLAGS
    stages+=("rnd_cql --env-id $EXPL_ENV_NAME $(rnd_flag "$EXPL_USE_RND") --runs-dir runs ${FLAGS[*]}")
  fi
  if [[ $RUN_AWAC == 1 ]]; then
    translate_flags awac AWAC_EXTRA_FLAGS
    local lam=${AWAC_LAMBDA:+ --lam $AWAC_LAMBDA}
    stages+=("awac --env-id $AWAC_ENV_NAME $(rnd_flag "$AWAC_USE_RND") --runs-dir runs$lam ${FLAGS[*]}")
  fi
  if [[ $RUN_IQL == 1 ]]; then
    translate_flags iql IQL_EXTRA_FLAGS
    local beta=
    [[ -z $AWAC_LAMBDA ]] || beta=" --beta $(inverse "$AWAC_LAMBDA")"
    local tau=${IQL_EXPECTILE:+ --expectile $IQL_EXPECTILE}
    stages+=("iql --env-id $IQL_ENV_NAME $(rnd_flag "$IQL_USE_RND") --runs-dir runs$beta$tau ${FLAGS[*]}")
  fi
  (( ${#stages[@]} )) || { echo "RUN_EXPLORATION, RUN_AWAC and RUN_IQL are all 0: nothing to run"; return 0; }
  [[ $DRY_RUN == 1 ]] || require_scripts "${stages[@]%% *}" report

  setup
  [[ $DRY_RUN == 1 ]] || preflight "${stages[@]}"

  local -a words new=()
  local stage dir before rc line
  for stage in "${stages[@]}"; do
    read -r -a words <<< "$stage"
    words[0]=${words[0]}.py
    dir=$(runs_dir_of "${words[@]}")
    before=$(list_runs "$dir")
    rc=0
    run "$PY" "${words[@]}" || rc=$?
    if (( rc != 0 )); then
      echo "$PROG: ${words[0]} failed (exit $rc)" >&2
      exit "$rc"
    fi
    # the run directory this stage just created, so the table shows these runs and no older ones
    while IFS= read -r line; do
      if [[ -n $line ]]; then new+=("$line"); fi
    done < <(comm -13 <(echo "$before") <(list_runs "$dir"))
  done
  if [[ $DRY_RUN == 1 ]]; then
    echo "+ $PY report.py <the new run directories> --out runs/report"
  elif (( ${#new[@]} )); then
    run "$PY" report.py "${new[@]}" --out runs/report
  else
    echo "no new run directory to report"
  fi
}

rnd_flag() { if [[ $1 == 1 ]]; then echo --use-rnd; else echo --no-use-rnd; fi; }

# ------------------------------------------------------------------ parallel grids

parse_grid_options() {  # $1 = subcommand, $2 = default seeds, then its options; sets SEEDS WORKERS ONLY
  local sub=$1
  SEEDS=$2 WORKERS=2 ONLY=alpha,numsteps,lam,tau
  shift 2
  while (( $# )); do
    case $1 in
      --seeds|--workers|--only)
        (( $# >= 2 )) || die "$1 needs a value"
        set -- "$1=$2" "${@:3}"
        continue ;;
      --seeds=*) SEEDS=${1#*=} ;;
      --workers=*) WORKERS=${1#*=} ;;
      --only=*) [[ $sub == sweeps ]] || die "--only is an option of sweeps only"; ONLY=${1#*=} ;;
      *) opts="--seeds N, --workers N"; [[ $sub != sweeps ]] || opts+=", --only LIST"
         die "$sub: unknown option '$1' (options: $opts)" ;;
    esac
    shift
  done
  [[ $SEEDS =~ ^[1-9][0-9]*$ ]] || die "--seeds must be a whole number >= 1, got '$SEEDS'"
  [[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "--workers must be a whole number >= 1, got '$WORKERS'"
  local part='(alpha|numsteps|lam|tau)'
  [[ $ONLY =~ ^$part(,$part)*$ ]] || die "--only takes a comma-separated list of alpha, numsteps, lam, tau; got '$ONLY'"
  check_01 SKIP_INSTALL
  check_01 DRY_RUN
}

completed() {  # $1 = runs dir, $2 = env id, $3 = exp name, $4 = seed, then the job's flags: a finished run of them?
  local dir=$1 env=$2 exp=$3 seed=$4 summary
  shift 4
  for summary in "$dir/${env}__${exp}__${seed}__"*/summary.json; do
    [[ -f $summary ]] || continue
    # the job's own flags must be the run's: a run left under the same name with other flags is redone
    "$PY" - "$summary" "$@" <<'PYTHON_END' && return 0
import json, sys
summary = json.load(open(sys.argv[1]))
words, given, i = sys.argv[2:], {}, 0
while i < len(words):
    key = words[i][2:].replace("-", "_")
    if i + 1 < len(words) and not words[i + 1].startswith("--"):
        given[key], i = words[i + 1], i + 2
    elif key.startswith("no_"):
        given[key[3:]], i = False, i + 1
    else:
        given[key], i = True, i + 1
args = summary.get("args", {})
def same(value, word):
    if isinstance(word, bool) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value == word or str(value) == str(word)
    try:
        return float(word) == value
    except ValueError:
        return False
sys.exit(0 if summary.get("status") == "completed" and all(k in args and same(args[k], w) for k, w in given.items())
         else 1)
PYTHON_END
  done
  return 1
}

add_job() {  # $1 = runs dir, then the script stem and its flags (--env-id, --exp-name, --seed among them)
  local dir=$1 env= exp= seed= prev= word
  shift
  for word in "$@"; do
    case $prev in --env-id) env=$word ;; --exp-name) exp=$word ;; --seed) seed=$word ;; esac
    prev=$word
  done
  if completed "$dir" "$env" "$exp" "$seed" "${@:2}"; then
    DONE=$((DONE + 1))
  else
    JOBS+=("${env}__${exp}__${seed} $1.py ${*:2} --runs-dir $dir --no-progress")
  fi
}

run_one() {  # one job of a grid, in the background: its output goes to its log, its exit status to .rc
  local name=$1 log=$2 start=$SECONDS rc=0
  shift 2
  OMP_NUM_THREADS=1 "$PY" "$@" > "$log" 2>&1 || rc=$?
  echo "$rc" > "${log%.log}.rc"
  if (( rc == 0 )); then
    echo "  done   $name ($((SECONDS - start)) s)"
  else
    echo "  FAILED $name (exit $rc, $((SECONDS - start)) s)"
  fi
}

forward_interrupt() {
  local pid
  echo "$PROG: interrupted, stopping the running jobs (each saves an interrupted summary)" >&2
  for pid in "${PIDS[@]}"; do kill -INT -- "-$pid" 2>/dev/null || true; done
  wait || true
  exit 130
}

run_grid() {  # $1 = runs dir, $2 = report dir; runs JOBS with WORKERS at a time, then the report
  local dir=$1 out=$2 logs=$1/logs job name log i=0 start=$SECONDS
  local -a words failed=()
  [[ $DRY_RUN == 1 ]] || require_scripts "${ALGOS[@]}" report
  setup
  (( DONE == 0 )) || echo "$DONE runs already completed in $dir are kept (delete $dir to redo them)"
  if [[ $DRY_RUN == 1 ]]; then
    for job in "${JOBS[@]}"; do echo "+ OMP_NUM_THREADS=1 $PY ${job#* }"; done
    echo "+ $PY report.py $dir --out $out"
    return 0
  fi
  mkdir -p "$logs"
  echo "${#JOBS[@]} runs, $WORKERS at a time, logs in $logs/"
  PIDS=()
  set -m  # each job in its own process group, so an interrupt can be forwarded to it as SIGINT
  trap forward_interrupt INT TERM
  for job in "${JOBS[@]}"; do
    read -r -a words <<< "$job"
    name=${words[0]}
    log=$logs/$name.log
    while (( $(jobs -rp | wc -l) >= WORKERS )); do wait -n || true; done
    i=$((i + 1))
    echo "[$i/${#JOBS[@]}] start  $name"
    rm -f "${log%.log}.rc"
    run_one "$name" "$log" "${words[@]:1}" &
    PIDS+=($!)
  done
  wait || true
  trap 'echo "$PROG: interrupted" >&2; exit 130' INT TERM
  set +m
  for job in "${JOBS[@]}"; do
    name=${job%% *}
    [[ $(cat "$logs/$name.rc" 2>/dev/null) == 0 ]] || failed+=("$name")
  done
  echo "grid finished in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
  local rc=0
  run "$PY" report.py "$dir" --out "$out" || rc=$?
  for name in "${failed[@]}"; do
    echo "FAILED: $name (exit $(cat "$logs/$name.rc" 2>/dev/null || echo '?')), log: $logs/$name.log" >&2
    tail -n 15 "$logs/$name.log" 2>/dev/null | sed 's/^/    /' >&2
  done
  (( ${#failed[@]} == 0 )) || { echo "$PROG: ${#failed[@]} of ${#JOBS[@]} runs failed" >&2; exit 1; }
  return "$rc"
}

full() {
  parse_grid_options full 5 "$@"
  local seed env algo
  JOBS=() DONE=0
  # seeds outermost: a grid stopped half-way still has every cell with some seeds
  for seed in $(seq 1 "$SEEDS"); do
    for env in "${ENV_IDS[@]}"; do
      for algo in "${ALGOS[@]}"; do
        add_job runs/full "$algo" --env-id "$env" --exp-name "$algo" --seed "$seed"
      done
    done
  done
  run_grid runs/full results
}

sweeps() {
  parse_grid_options sweeps 1 "$@"
  local seed env v alpha n unsup suffix flag
  JOBS=() DONE=0
  local medium=PointmassMedium-v0
  for seed in $(seq 1 "$SEEDS"); do
    if [[ ,$ONLY, == *,alpha,* ]]; then  # course 2.1 and 2.3: DQN (alpha 0) against CQL, offline on RND data
      for alpha in 0 0.02 0.1 0.5; do
        add_job runs/sweeps rnd_cql --env-id $medium --use-rnd --unsupervised-exploration --offline-exploitation \
          --cql-alpha "$alpha" --exp-name "rnd_cql_alpha$alpha" --seed "$seed"
      done
    fi
    if [[ ,$ONLY, == *,numsteps,* ]]; then  # course 2.2: how much exploration data, DQN and CQL
      for n in 5000 10000 15000; do
        for alpha in 0 0.1; do
          add_job runs/sweeps rnd_cql --env-id $medium --use-rnd --unsupervised-exploration --offline-exploitation \
            --num-exploration-steps "$n" --cql-alpha "$alpha" --exp-name "rnd_cql_numsteps${n}_alpha$alpha" \
            --seed "$seed"
        done
      done
    fi
    for env in PointmassEasy-v0 $medium; do  # course parts 4 and 5: supervised and unsupervised exploration
      for unsup in 0 1; do
        suffix= flag=
        [[ $unsup == 0 ]] || { suffix=_unsup; flag=--unsupervised-exploration; }
        if [[ ,$ONLY, == *,lam,* ]]; then
          for v in 0.1 1 2 10 20 50; do
            add_job runs/sweeps awac --env-id "$env" --use-rnd --num-exploration-steps 20000 $flag --lam "$v" \
              --exp-name "awac_lam$v$suffix" --seed "$seed"
          done
        fi
        if [[ ,$ONLY, == *,tau,* ]]; then
          for v in 0.5 0.6 0.7 0.8 0.9 0.95 0.99; do
            add_job runs/sweeps iql --env-id "$env" --use-rnd --num-exploration-steps 20000 $flag --expectile "$v" \
              --exp-name "iql_tau$v$suffix" --seed "$seed"
          done
        fi
      done
    done
  done
  run_grid runs/sweeps results/sweeps
}

coverage() {
  parse_grid_options coverage 3 "$@"
  local seed env
  JOBS=() DONE=0
  for seed in $(seq 1 "$SEEDS"); do
    for env in "${ENV_IDS[@]}"; do  # course part 1: the same run with and without the RND bonus
      add_job runs/coverage rnd_cql --env-id "$env" --unsupervised-exploration --use-rnd --total-steps 10000 \
        --exp-name rnd_cql_unsup_rnd --seed "$seed"
      add_job runs/coverage rnd_cql --env-id "$env" --unsupervised-exploration --no-use-rnd --total-steps 10000 \
        --exp-name rnd_cql_unsup_random --seed "$seed"
    done
  done
  run_grid runs/coverage results/coverage
}

speed() {
  (( $# == 0 )) || die "speed takes no options (got '$*')"
  check_01 SKIP_INSTALL
  check_01 DRY_RUN
  [[ $DRY_RUN == 1 ]] || require_scripts "${ALGOS[@]}" report
  setup
  local algo rc
  # the environment alone: single-env and vector-env steps/s, collection time, import cost
  run "$PY" pointmass.py bench
  # one at a time with the default thread count: the numbers a user sees running a script alone
  for algo in "${ALGOS[@]}"; do
    rc=0
    run "$PY" "$algo.py" --runs-dir runs/speed --no-progress || rc=$?
    (( rc == 0 )) || { echo "$PROG: $algo.py failed (exit $rc)" >&2; exit "$rc"; }
  done
  run "$PY" report.py runs/speed --out results/speed
}

d3rlpy_compare() {
  (( $# == 0 )) || die "d3rlpy takes no options (got '$*')"
  check_01 DRY_RUN
  [[ $DRY_RUN == 1 ]] || require_scripts rnd_cql pointmass
  # a venv of its own: d3rlpy 2.8.1 pulls scikit-learn and gym, which the project does not need, and pins
  # gymnasium 1.0.0, older than pointmass.py needs (1.1, AutoresetMode); it runs on 1.x, so it goes in without
  # its pins, after its other dependencies
  local venv=.venv-d3rlpy
  own_venv "$venv"
  run "$venv/bin/python" -m pip install --quiet torch==2.13.0 "gymnasium>=1.1,<2" tyro rich tensorboard h5py \
    "gym>=0.26" click structlog colorama dataclasses-json scikit-learn tqdm typing-extensions \
    && run "$venv/bin/python" -m pip install --quiet --no-deps d3rlpy==2.8.1 \
    || die_setup "pip install of d3rlpy 2.8.1 into $venv failed (see above)"
  [[ $DRY_RUN == 1 ]] && { echo "+ OMP_NUM_THREADS=1 $venv/bin/python - (the comparison below)"; return; }
  OMP_NUM_THREADS=1 "$venv/bin/python" - <<'PYTHON_END'
# updates/s of d3rlpy's DiscreteCQL and of rnd_cql.py's CQL update: the same Q-network (2 -> 256 -> 256 -> 5
# ReLU MLP on the raw observation), batch 256, alpha 0.1, gamma 0.95, lr 1e-3, target copy every 300 updates,
# one torch thread, 50 000 uniformly random PointmassMedium-v0 transitions; each repeat times 1 500 updates
# (batch sampling included) after 100 warm-up updates, alternating the two libraries
import statistics, time
import d3rlpy, gymnasium as gym, numpy as np, torch
import pointmass, rnd_cql
torch.set_num_threads(1)
N, HIDDEN, BATCH, UPDATES, REPEATS = 50_000, 256, 256, 1_500, 5
env = gym.make("PointmassMedium-v0")
rng = np.random.default_rng(0)
rows = []  # (s, s', a, r, terminated, episode end)
o, _ = env.reset(seed=0)
for i in range(N):
    a = int(rng.integers(5))
    o2, r, te, tr, _ = env.step(a)
    rows.append((o, o2, a, r, te, te or tr or i == N - 1))
    o = env.reset()[0] if te or tr else o2
obs, next_obs, actions, rewards, terms, ends = map(np.array, zip(*rows))
# both learn r' = (r + 1) * 100, rnd_cql.py's default --exploit-rew-shift 1 / --exploit-rew-scale 100
d3_data = d3rlpy.dataset.MDPDataset(obs.astype(np.float32), actions[:, None],
                                    ((rewards + 1.0) * 100.0).astype(np.float32), terms.astype(np.float32),
                                    timeouts=(ends & ~terms).astype(np.float32))
d3_cql = d3rlpy.algos.DiscreteCQLConfig(
    batch_size=BATCH, learning_rate=1e-3, alpha=0.1, gamma=0.95, target_update_interval=300,
    encoder_factory=d3rlpy.models.VectorEncoderFactory(hidden_units=[HIDDEN, HIDDEN])).create(device="cpu:0")
d3_cql.build_with_dataset(d3_data)
buffer = rnd_cql.ReplayBuffer(2, N)
for i in range(N):
    buffer.add(obs[i], next_obs[i], actions[i], rewards[i], terms[i], ends[i] and not terms[i])
space = env.observation_space
q, q_target = (rnd_cql.FourierMLP(space, 5, HIDDEN, 0, 1.0) for _ in range(2))
q_target.load_state_dict(q.state_dict())
optimizer = torch.optim.Adam(q.parameters(), lr=1e-3, fused=True)
count = {"ours": 0}

def d3rlpy_update():
    d3_cql.update(d3_data.sample_transition_batch(BATCH))

def our_update():
    batch = buffer.sample(BATCH, rng, torch.device("cpu"))
    reward = (batch[2] + 1.0) * 100.0
    rnd_cql.critic_update(q, q_target, optimizer, batch, reward, batch[4], 0.95, 0.1, 10.0)
    count["ours"] += 1
    if count["ours"] % 300 == 0:
        q_target.load_state_dict(q.state_dict())

def rate(update, flush_denormal: bool) -> float:
    torch.set_flush_denormal(flush_denormal)
    start = time.perf_counter()
    for _ in range(UPDATES):
        update()
    return UPDATES / (time.perf_counter() - start)

# rnd_cql.py's train() flushes denormals to zero (denormal Adam moments slow the CPU ~10x); d3rlpy does not,
# so d3rlpy is timed both as shipped and with the same setting
CASES = {"d3rlpy DiscreteCQL, as shipped": (d3rlpy_update, False),
         "d3rlpy DiscreteCQL, denormals flushed": (d3rlpy_update, True),
         "rnd_cql.py (denormals flushed, as its train() does)": (our_update, True)}
for update, flush in CASES.values():
    torch.set_flush_denormal(flush)
    for _ in range(100):
        update()
rates = {name: [] for name in CASES}
for _ in range(REPEATS):
    for name, (update, flush) in CASES.items():
        rates[name].append(rate(update, flush))
medians = {k: statistics.median(v) for k, v in rates.items()}
print(f"d3rlpy {d3rlpy.__version__}, 1 thread, {HIDDEN}x{HIDDEN}, batch {BATCH}, "
      f"{REPEATS} repeats of {UPDATES} updates, on {rnd_cql.machine(torch.device('cpu'))}")
print("| library | updates/s, median | all repeats |")
print("|---|---|---|")
for k, v in rates.items():
    print(f"| {k} | {medians[k]:.0f} | {', '.join(f'{x:.0f}' for x in v)} |")
ours = medians["rnd_cql.py (denormals flushed, as its train() does)"]
for name in list(CASES)[:2]:
    print(f"ratio of the medians, rnd_cql.py / {name}: {ours / medians[name]:.2f}")
PYTHON_END
}

oldest() {  # CI installs the newest versions; a lower bound that is too low only shows here
  check_01 DRY_RUN
  local venv=.venv-oldest pins=()
  [[ -f requirements.txt ]] || die "requirements.txt is missing"
  # one requirement a line, its comment dropped and its ">=" read as "==" (pip reads 1.26 as 1.26.0)
  mapfile -t pins < <(sed -e 's/[[:space:]]*#.*//' -e '/^[[:space:]]*$/d' -e 's/>=/==/' requirements.txt)
  own_venv "$venv"
  run "$venv/bin/python" -m pip install --quiet "${pins[@]}" ||
    die_setup "pip install of requirements.txt's lowest versions into $venv failed (see above)"
  if [[ $DRY_RUN == 1 ]]; then echo "+ $venv/bin/python -m pytest $*"; else exec "$venv/bin/python" -m pytest "$@"; fi
}

run_tests() {
  check_01 SKIP_INSTALL
  check_01 DRY_RUN
  setup
  # exec: pytest's own exit status (1 failures, 5 no tests collected, ...) is the script's
  if [[ $DRY_RUN == 1 ]]; then echo "+ $PY -m pytest $*"; else exec "$PY" -m pytest "$@"; fi
}

# ------------------------------------------------------------------ main

case ${1:-} in
  "") pipeline ;;
  test) shift; run_tests "$@" ;;
  full) shift; full "$@" ;;
  sweeps) shift; sweeps "$@" ;;
  coverage) shift; coverage "$@" ;;
  speed) shift; speed "$@" ;;
  d3rlpy) shift; d3rlpy_compare "$@" ;;
  oldest) shift; oldest "$@" ;;
  help|-h|--help) usage ;;
  *) die "unknown subcommand '$1' (one of: test, full, sweeps, coverage, speed, d3rlpy, oldest, help)" ;;
esac
