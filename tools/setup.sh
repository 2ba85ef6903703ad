#!/usr/bin/env bash
# Installs every Debian package mcuforge needs to build, test and run.
# Idempotent: safe to run again; apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-dev      # cblas_sgemm for im2col convolutions and dense layers
  libhdf5-dev hdf5-tools  # model files (h5dump to inspect them)
  libcyaml-dev libyaml-dev  # YAML configs (libyaml gives line/column marks)
  libpng-dev zlib1g-dev  # PNG image folders, gzip (IDX, UCI-HAR text)
  libsndfile1-dev      # WAV files (spoken digits)
  libfftw3-dev         # FFT of the MFCC front end
  gnuplot-nox          # training-curve plots (PNG)
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi  # Cortex-M4 firmware
  qemu-system-arm      # the emulated STM32F405 (netduinoplus2) that runs it
  make
  libcmocka-dev        # unit tests, run through ctest
  clang                # libFuzzer targets (fuzz/run.sh, cmake -DMF_FUZZ=ON)
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
