#!/usr/bin/env bash
# Issue 24, LeNet-5: magnitude pruning at several sparsities without and with the dense model as
# teacher (train.distill, T 4, alpha 0.9), seeds 1-3; at each sparsity where pruning without
# distillation loses at least 0.5 pt of float test accuracy (mean of the seeds), the share of
# that loss distillation recovers. One dense model per seed (configs/mnist_lenet5.yaml),
# each sparsity pruned from it with one global threshold over 10 fine-tuning epochs at lr 1e-3
# (7 of ramp). Resumable: a run whose log holds its result is not run again.
# Usage (from the repository root, after building): bash experiments/distill_lenet.sh [RUNS]
# Writes experiments/results/distill_lenet.csv (seed, sparsity, distill, dense and pruned test
# accuracy) and prints the losses and the share recovered per sparsity.
set -euo pipefail
runs=${1:-runs/distill_lenet}
mcuforge=./build/mcuforge
out=experiments/results/distill_lenet.csv
mkdir -p "$runs" experiments/results
seeds="1 2 3"
sparsities="0.97 0.98 0.99"

prune_once() { # seed sparsity distill
  local dir=$runs/s$1 log=$runs/s$1/prune_$2_kd$3.log
  grep -q "^test accuracy: dense" "$log" 2>/dev/null && return 0
  local teacher="train.distill.teacher="
  [ "$3" = 1 ] && teacher="train.distill.teacher=$dir/model.h5"
  "$mcuforge" prune "$dir/model.h5" --sparsity "$2" --epochs 10 --ramp-epochs 7 --lr 1e-3 \
    --out "$dir/pruned_$2_kd$3.h5" "$teacher" > "$log.tmp" && mv "$log.tmp" "$log"
}
result() { # seed sparsity distill -> "dense,pruned" (fractions)
  sed -n 's/^test accuracy: dense \([0-9.]*\) %, pruned \([0-9.]*\) %.*/\1,\2/p' \
    "$runs/s$1/prune_$2_kd$3.log" | awk -F, '{ printf "%.4f,%.4f", $1 / 100, $2 / 100 }'
}
mean_loss() { # sparsity distill -> mean (dense - pruned) in pt
  for s in $seeds; do result "$s" "$1" "$2"; echo; done |
    awk -F, '{ l += ($1 - $2) * 100; n++ } END { printf "%.3f", l / n }'
}

for s in $seeds; do
  [ -f "$runs/s$s/model.h5" ] ||
    "$mcuforge" train configs/mnist_lenet5.yaml train.seed="$s" train.output="$runs/s$s/model.h5" \
      train.progress=lines
done
for S in $sparsities; do
  for s in $seeds; do prune_once "$s" "$S" 0; prune_once "$s" "$S" 1; done
done
echo "seed,sparsity,distill,dense_accuracy,pruned_accuracy" > "$out.tmp"
for S in $sparsities; do
  for kd in 0 1; do
    for s in $seeds; do
      [ -f "$runs/s$s/prune_${S}_kd$kd.log" ] && echo "$s,$S,$kd,$(result "$s" "$S" "$kd")" >> "$out.tmp"
    done
  done
done
mv "$out.tmp" "$out"
for S in $sparsities; do
  without=$(mean_loss "$S" 0) with=$(mean_loss "$S" 1)
  awk -v S="$S" -v a="$without" -v b="$with" 'BEGIN {
    printf "sparsity %s: loss without distillation %.2f pt, with %.2f pt", S, a, b
    if (a >= 0.5) printf ": %.0f %% of it recovered", 100 * (a - b) / a
    else printf " (below 0.5 pt without)"
    printf "\n" }'
done
