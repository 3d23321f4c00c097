#!/usr/bin/env bash
# The reader's whole training (issue 28), resumable: run it again after any interruption, in this
# session or a later one, and it goes on from the last checkpoint (in .cache/, ignored by git).
#   1. ablation pilots: 6,000 pairs each, with every kind of negative, then without one of the
#      common new kinds at a time (other, cut); each measured on the held-apart articles and on
#      the SQuAD suite's dev half ("Normans"), per question (details.json, normans-details.json);
#   2. the main run: the first 200,000 of the 344,581 pairs (shuffled, so every training article is
#      in it), one epoch: 12,500 batches, about 3 hours on two idle cores at the measured 20 pairs/s.
# Install the result with: .venv/bin/python -m rag.reader.train --install (after the run ends).
# Progress: .cache/reader-train/progress.log (pairs/s, loss, hours trained).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
py=.venv/bin/python
while pgrep -f "rag.reader.train --pairs" > /dev/null; do sleep 20; done  # a pilot still running
for kind in all other cut; do
    work=.cache/reader-ablate-$kind
    if [[ ! -f $work/metrics.json ]]; then
        without=()
        [[ $kind != all ]] && without=(--without "$kind")
        $py -m rag.reader.train --pairs 6000 --int8-only --work "$work" "${without[@]}" >> ".cache/ablate-$kind.log" 2>&1
    fi
    if [[ ! -f $work/normans-dev.txt ]]; then
        $py -m evals.reader --split dev --details "$work/normans-details.json" "$work/reader-int8.onnx" \
            > "$work/normans-dev.tmp" 2>> ".cache/ablate-$kind.log"
        mv "$work/normans-dev.tmp" "$work/normans-dev.txt"
    fi
done
exec $py -m rag.reader.train --pairs 200000 >> .cache/reader-train.log 2>&1
