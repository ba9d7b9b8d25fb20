#!/usr/bin/env bash
# Installs what fmridyn needs to build and test on Debian/Ubuntu, and nothing when all is there.
# Idempotent and quick: it asks dpkg first and runs apt-get only for missing packages.
set -euo pipefail

packages=(
  pkg-config          # locates the C libraries for SwiftPM
  libnifti2-dev       # NIfTI-1/2 C library (nifti2_io.h)
  libopenblas-dev     # BLAS
  liblapacke-dev      # LAPACK C interface
  libfftw3-dev        # FFTW (float and double)
  libisal-dev         # Intel ISA-L: fast gzip inflate
  zlib1g-dev          # zlib: gzip fallback and writing
  libopenmpi-dev      # Open MPI (mpi.h, libmpi): sharded and federated fits
  openmpi-bin         # mpirun, for those fits and their tests
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  echo "bootstrap: the Swift toolchain (6.0 or later) is not on PATH; install it from swift.org and retry." >&2
  exit 1
fi
