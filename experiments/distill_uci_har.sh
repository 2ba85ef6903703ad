#!/usr/bin/env bash
# Issue 24, UCI-HAR: a ResNetv1-6 width-8 student (configs/uci_har_resnet_w8_distill.yaml) with
# and without distillation from the width-32 teacher (configs/uci_har_resnet_w32.yaml), seeds
# 1-5; float32 test accuracy (history.csv) and int8 accuracy on target, whole test split in
# QEMU, first with max ranges (firmware/report.json); then the same models quantized with MSE
# ranges (deploy --range mse, firmware_mse/report.json), which keep int8 closer to float32
# (README, "Quantization"); then the same MSE ranges followed by 3 epochs of quantization-aware
# training (quantize --qat, firmware_qat/report.json), where the distilled student keeps its
# teacher (the embedded train.distill) and the other trains on labels alone: each arm's whole
# recipe, teacher or not (the config's own quantize section; `mcuforge run` of it gives the
# same firmware).
# Resumable: a run or deploy whose report.json exists is not run again.
# Usage (from the repository root, after building):
#   [SEEDS="6 7 8 9 10"] [TEMPERATURE=T ALPHA=A] [MIXUP=A] [TEACHER_WIDTH=W] \
#   bash experiments/distill_uci_har.sh [RUNS]
# SEEDS other than the 1-5 write their CSVs with a _seeds<first>-<last> suffix.
# TEMPERATURE and ALPHA (together) replace the config's T 4, alpha 0.9 for the distilled
# students: those runs go to w8_kd1_tT_aA_s<seed> and the CSVs get a _tT_aA suffix; the students
# without distillation are shared.
# MIXUP=A trains both arms with train.mixup_alpha A instead of the config's 1.0 (MIXUP=0: no
# mixup; QAT keeps it, from the embedded config): both arms' folders get an _mA suffix
# (w8_kd0_mA_s<seed>, w8_kd1_mA..._s<seed>), and so do the CSVs, so the gain compares students
# trained alike but for the teacher.
# TEACHER_WIDTH=W distils from a width-W teacher instead (configs/uci_har_resnet_w32.yaml with
# model.width=W, seed 1: at W = 16 that is configs/uci_har_resnet.yaml's recipe), trained once
# into RUNS/teacher_wW; the distilled runs and the CSVs get a _twW suffix.
# Writes experiments/results/distill_uci_har.csv (max ranges), distill_uci_har_mse.csv and
# distill_uci_har_qat.csv and prints their summaries (experiments/summarize_pairs.awk: means,
# standard errors, the gain).
set -euo pipefail
runs=${1:-runs/distill_uci_har}
mcuforge=./build/mcuforge
seeds=${SEEDS:-1 2 3 4 5}
tag= # the distilled runs' settings, in their names when not the config's
kd_settings=()
teacher_width=${TEACHER_WIDTH:-32}
if [ "$teacher_width" != 32 ]; then tag=_tw$teacher_width; fi
mix=() mtag= # both arms' mixup, in their names when set
if [ -n "${MIXUP:-}" ]; then
  mtag=_m$MIXUP
  mix=(train.mixup_alpha="$MIXUP")
fi
if [ -n "${TEMPERATURE:-}${ALPHA:-}" ]; then
  both="TEMPERATURE and ALPHA go together"
  tag=${tag}_t${TEMPERATURE:?$both}_a${ALPHA:?$both}
  kd_settings=(train.distill.temperature="$TEMPERATURE" train.distill.alpha="$ALPHA")
fi
out=experiments/results/distill_uci_har
if [ "$seeds" != "1 2 3 4 5" ]; then
  out=${out}_seeds${seeds%% *}-${seeds##* }
fi
out=$out$mtag$tag.csv
run_dir() { # seed distill -> the run's folder
  if [ "$2" = 1 ]; then echo "$runs/w8_kd1$mtag${tag}_s$1"; else echo "$runs/w8_kd0${mtag}_s$1"; fi
}
mkdir -p "$runs" experiments/results
teacher=$runs/teacher_w$teacher_width/model.h5
if [ ! -f "$teacher" ]; then
  "$mcuforge" train configs/uci_har_resnet_w32.yaml model.width="$teacher_width" \
    train.output="$teacher" train.progress=lines
fi
for seed in $seeds; do
  for kd in 0 1; do
    dir=$(run_dir "$seed" "$kd")
    [ -f "$dir/firmware/report.json" ] && continue
    teacher_args=(train.distill.teacher=)
    [ "$kd" = 1 ] && teacher_args=(train.distill.teacher="$teacher" "${kd_settings[@]}")
    "$mcuforge" run configs/uci_har_resnet_w8_distill.yaml train.seed="$seed" "${teacher_args[@]}" \
      "${mix[@]}" train.output="$dir/model.h5" train.progress=lines quantize.method=ptq quantize.range=max
  done
done
for seed in $seeds; do
  for kd in 0 1; do
    dir=$(run_dir "$seed" "$kd")
    [ -f "$dir/firmware_mse/report.json" ] && continue
    "$mcuforge" deploy "$dir/model.h5" --precision int8 --range mse --out "$dir/firmware_mse" \
      --force --run --all-test
  done
done
for seed in $seeds; do
  for kd in 0 1; do
    dir=$(run_dir "$seed" "$kd")
    [ -f "$dir/firmware_qat/report.json" ] && continue
    "$mcuforge" quantize "$dir/model.h5" --bits 8 --range mse --qat --epochs 3 \
      --out "$dir/model.qat.q8.h5" > "$dir/qat.log"
    "$mcuforge" deploy "$dir/model.qat.q8.h5" --out "$dir/firmware_qat" --force --run --all-test
  done
done
for firmware in firmware firmware_mse firmware_qat; do
  csv=$out
  [ "$firmware" != firmware ] && csv=${out%.csv}_${firmware#firmware_}.csv
  echo "seed,distill,float_accuracy,int8_target_accuracy" > "$csv.tmp"
  for seed in $seeds; do
    for kd in 0 1; do
      dir=$(run_dir "$seed" "$kd")
      float=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "test_accuracy") c = i }
                       NR > 1 { v = $c } END { print v }' "$dir/history.csv")
      int8=$(sed -n 's/^  "accuracy": \([0-9.]*\),$/\1/p' "$dir/$firmware/report.json")
      echo "$seed,$kd,$float,$int8" >> "$csv.tmp"
    done
  done
  mv "$csv.tmp" "$csv"
  echo "$firmware ($csv):"
  awk -f experiments/summarize_pairs.awk "$csv"
done
