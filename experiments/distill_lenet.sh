#!/usr/bin/env bash
# Issue 24, LeNet-5: magnitude pruning at several sparsities without and with the dense model
# as teacher (train.distill; T 4, alpha 0.9 unless TEMPERATURE and ALPHA say otherwise), seeds
# 1-3; at each sparsity where pruning without distillation loses at least 0.5 pt of float test
# accuracy (mean of the seeds), the share of that loss distillation recovers. One dense model
# per seed (configs/mnist_lenet5.yaml), each sparsity pruned from it with one global threshold
# over EPOCHS fine-tuning epochs at lr 1e-3, the sparsity reaching its target after RAMP of them
# (default 30 and 10; 10 and 7 give the shorter fine-tuning first measured, *_e10.csv).
# Resumable: a run whose log holds its result is not run again.
# MIXUP=A fine-tunes both arms on mixup (train.mixup_alpha A) instead of the config's plain
# samples: the teacher and the student then see the same mixed images, a richer transfer set
# than the training images alone (Beyer et al. 2022, "function matching"); the arm without
# distillation is re-run with the same mixup, so the gain is the teacher's, not mixup's.
# Usage (from the repository root, after building):
#   [EPOCHS=30] [RAMP=10] [SPARSITIES="0.98 0.97 0.99"] [TEMPERATURE=T ALPHA=A] [MIXUP=A] \
#     bash experiments/distill_lenet.sh [RUNS]
# RUNS defaults to runs/distill_lenet_e$EPOCHS. Writes
# experiments/results/distill_lenet_e$EPOCHS.csv (seed, sparsity, distill, dense and pruned test
# accuracy of every run done so far; with TEMPERATURE and ALPHA,
# distill_lenet_e${EPOCHS}_tT_aA.csv, the runs without distillation shared; with MIXUP, an _mA
# suffix before it, both arms' runs apart) and prints, per
# sparsity with all its runs, the losses and the share recovered.
set -euo pipefail
epochs=${EPOCHS:-30}
ramp=${RAMP:-10}
runs=${1:-runs/distill_lenet_e$epochs}
mcuforge=./build/mcuforge
tag= # the distilled runs' settings, in their file names when not the defaults
kd_settings=()
if [ -n "${TEMPERATURE:-}${ALPHA:-}" ]; then
  both="TEMPERATURE and ALPHA go together"
  tag=_t${TEMPERATURE:?$both}_a${ALPHA:?$both}
  kd_settings=(train.distill.temperature="$TEMPERATURE" train.distill.alpha="$ALPHA")
fi
mix=() mtag= # both arms' mixup, in their file names when set
if [ -n "${MIXUP:-}" ]; then
  mtag=_m$MIXUP
  mix=(train.mixup_alpha="$MIXUP")
fi
out=experiments/results/distill_lenet_e$epochs$mtag$tag.csv
mkdir -p "$runs" experiments/results
seeds="1 2 3"
sparsities=${SPARSITIES:-0.98 0.97 0.99}

name() { # seed sparsity distill -> the run's path without extension
  if [ "$3" = 1 ]; then echo "$runs/s$1/prune_$2_kd1$mtag$tag"; else echo "$runs/s$1/prune_$2_kd0$mtag"; fi
}
prune_once() { # seed sparsity distill
  local dir=$runs/s$1 base
  base=$(name "$@")
  grep -q "^test accuracy: dense" "$base.log" 2>/dev/null && return 0
  local teacher=(train.distill.teacher=)
  [ "$3" = 1 ] && teacher=(train.distill.teacher="$dir/model.h5" "${kd_settings[@]}")
  "$mcuforge" prune "$dir/model.h5" --sparsity "$2" --epochs "$epochs" --ramp-epochs "$ramp" \
    --lr 1e-3 --out "$base.h5" "${teacher[@]}" "${mix[@]}" > "$base.log.tmp" && mv "$base.log.tmp" "$base.log"
}
result() { # seed sparsity distill -> "dense,pruned" (fractions)
  sed -n 's/^test accuracy: dense \([0-9.]*\) %, pruned \([0-9.]*\) %.*/\1,\2/p' \
    "$(name "$@").log" | awk -F, '{ printf "%.4f,%.4f", $1 / 100, $2 / 100 }'
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
      if [ -f "$(name "$s" "$S" "$kd").log" ]; then
        echo "$s,$S,$kd,$(result "$s" "$S" "$kd")" >> "$out.tmp"
      fi
    done
  done
done
mv "$out.tmp" "$out"
for S in $sparsities; do
  n=0
  for s in $seeds; do
    for kd in 0 1; do [ -f "$(name "$s" "$S" "$kd").log" ] && n=$((n + 1)); done
  done
  [ "$n" = $((2 * $(echo $seeds | wc -w))) ] || continue
  without=$(mean_loss "$S" 0) with=$(mean_loss "$S" 1)
  awk -v S="$S" -v a="$without" -v b="$with" 'BEGIN {
    printf "sparsity %s: loss without distillation %.2f pt, with %.2f pt", S, a, b
    if (a >= 0.5) printf ": %.0f %% of it recovered", 100 * (a - b) / a
    else printf " (below 0.5 pt without)"
    printf "\n" }'
  # with mixup, the target's reference is still pruning without distillation on plain samples
  plain=$(mtag= name "${seeds%% *}" "$S" 0).log
  if [ -n "$mtag" ] && [ -f "$plain" ]; then
    a=$(mtag= mean_loss "$S" 0)
    awk -v a="$a" -v b="$with" 'BEGIN {
      printf "  against pruning without distillation or mixup (%.2f pt lost): ", a
      if (a >= 0.5) printf "%.0f %% of it recovered\n", 100 * (a - b) / a
      else printf "below 0.5 pt\n" }'
  fi
done
