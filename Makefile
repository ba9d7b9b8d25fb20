# fmridyn: the two entry points of the README, plus helpers.
#   make demo   install what is missing, build (release), run the main job on bundled data
#   make test   install what is missing, build, run every test suite
SWIFT ?= swift
SHELL := /bin/bash
DEMO_OUT ?= demo-out

PREFIX ?= /usr/local

.PHONY: bootstrap build release demo test install bench-nifti clean

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	$(SWIFT) build

release: bootstrap
	$(SWIFT) build -c release

# The main job: simulate a motor-task dataset, extract, fit the NODE SVAE, export latents and
# score the recovery of the true latents (fmridyn demo; about 12 s on 2 cores).
demo: release
	.build/release/fmridyn demo --out $(DEMO_OUT)

# swift test runs the XCTest suites (its Swift Testing line after them counts only Swift Testing
# tests, of which there are none), then the notebooks run as smoke tests; the last line sums up.
test: bootstrap
	@scripts/python-tools.sh
	$(SWIFT) build --build-tests
	@set -o pipefail; $(SWIFT) test 2>&1 | tee .build/test-output.txt
	@echo "notebooks-cli smoke run"
	@out=$$(mktemp -d) && for notebook in notebooks-cli/*.sh; do QUICK=1 FMRIDYN=.build/debug/fmridyn bash $$notebook $$out/$$(basename $$notebook .sh) > $$out/log.txt 2>&1 || { cat $$out/log.txt; exit 1; }; done && rm -rf $$out
	@grep -E "^\s*Executed [0-9]+ tests?, with [0-9]+ failures?" .build/test-output.txt | tail -1 | \
	  awk '{ total=$$2; failed=$$5; n=split("$(wildcard notebooks-cli/*.sh)", a, " "); print "tests: " total - failed + n " passed, " failed " failed" }'

# Installs the release binary and the bundled atlases it looks for beside it
# (PREFIX/bin/fmridyn, PREFIX/share/fmridyn/atlases).
install: release
	install -d $(PREFIX)/bin $(PREFIX)/share/fmridyn/atlases
	install -m 755 .build/release/fmridyn $(PREFIX)/bin/fmridyn
	install -m 644 atlases/*.tsv atlases/*.nii.gz atlases/README.md $(PREFIX)/share/fmridyn/atlases/

# Reads an HCP-size run with fmridyn and nibabel side by side (needs python3 + nibabel).
bench-nifti: release
	python3 bench/nifti_read.py

clean:
	rm -rf .build $(DEMO_OUT)
