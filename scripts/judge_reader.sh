#!/usr/bin/env bash
# Judge a trained reader in the answers, against the reader this checkout ships: rule 2 of the
# model card (rag/reader/model/MODEL_CARD.md), each side answered in this run, on dev questions only.
#
#   scripts/judge_reader.sh WORK [OUT]
#
# WORK is a training run's folder (.cache/reader-train-windows, say: its reader-int8.onnx and
# tokenizer.json). OUT (default .cache/judge-<WORK's name>) receives:
#   checkout/        a scratch checkout of HEAD with that reader installed and the abstention model
#                    refitted for it (scripts/fit_abstention.py --write; its output in fit.log)
#   shipped-dev/, candidate-dev/       rag eval --split dev --no-baseline --out, in each checkout
#   shipped-scale/, candidate-scale/   benchmarks.quality --split dev scale-dev --store bbc --out:
#                    the news dev questions and the 171 written for the whole BBC corpus, asked of it
#   compare.md       python -m evals.compare of both, the questions at scale also pooled (221)
# A step whose output is there already is skipped, so a stopped run is resumed by running it again.
# An OUT belongs to one candidate (its checkout keeps the reader it was made with); to answer the
# shipped side once for two candidates, copy one OUT's shipped-dev/ and shipped-scale/ into the other.
# About 25 minutes on two idle cores (the BBC store is built once, in benchmarks/.cache). Remove the
# scratch checkout afterwards with: git worktree remove --force OUT/checkout
set -euo pipefail
failed() { echo "judge_reader.sh: $1 failed; its output is in $2" >&2; tail -5 "$2" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 1 && -f $1/reader-int8.onnx && -f $1/tokenizer.json ]] || {
    echo "usage: scripts/judge_reader.sh WORK [OUT]  (WORK: a training run's folder with reader-int8.onnx and tokenizer.json)" >&2
    exit 2
}
work=$(cd "$1" && pwd)
out=${2:-$root/.cache/judge-$(basename "$work")}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
py=$root/.venv/bin/python
tree=$out/checkout
if [[ ! -d $tree ]]; then
    git -C "$root" worktree add --detach "$tree" HEAD
    ln -s "$root/.venv" "$tree/.venv"
    mkdir -p "$root/benchmarks/.cache"
    ln -s "$root/benchmarks/.cache" "$tree/benchmarks/.cache"  # the BBC store, built once
fi
if [[ ! -f $out/fit.log ]]; then
    cp "$work/reader-int8.onnx" "$work/tokenizer.json" "$tree/rag/reader/model/"
    (cd "$tree" && PYTHONPATH=$tree $py scripts/fit_abstention.py --write > "$out/fit.tmp" 2>&1) ||
        failed "the abstention refit" "$out/fit.tmp"
    mv "$out/fit.tmp" "$out/fit.log"
fi
for side in shipped candidate; do
    dir=$root
    [[ $side == candidate ]] && dir=$tree
    if [[ ! -f $out/$side-dev/results.json ]]; then
        (cd "$dir" && PYTHONPATH=$dir $py -m rag eval --split dev --no-baseline --out "$out/$side-dev" \
            > "$out/$side-dev.log" 2>&1) || failed "rag eval ($side)" "$out/$side-dev.log"
    fi
    if [[ ! -f $out/$side-scale/results.json ]]; then
        (cd "$dir" && PYTHONPATH=$dir $py -m benchmarks.quality --split dev scale-dev --store bbc --weights 0.5 \
            --out "$out/$side-scale" > "$out/$side-scale.log" 2>&1) || failed "benchmarks.quality ($side)" "$out/$side-scale.log"
    fi
done
{
    echo "# $work against the shipped reader (dev questions)"
    echo
    grep -E "^(10-fold|abstain_threshold)" "$out/fit.log"
    echo
    echo "## The suites' own articles"
    (cd "$root" && PYTHONPATH=$root $py -m evals.compare "$out/shipped-dev" "$out/candidate-dev")
    echo
    echo "## The whole BBC corpus, by split"
    (cd "$root" && PYTHONPATH=$root $py -m evals.compare "$out/shipped-scale" "$out/candidate-scale")
    echo
    echo "## The whole BBC corpus, the two splits pooled"
    (cd "$root" && PYTHONPATH=$root $py -m evals.compare "$out/shipped-scale" "$out/candidate-scale" \
        --pool "news, dev and scale-dev, whole BBC corpus")
} > "$out/compare.md"
cat "$out/compare.md"
