# fmridyn: the two entry points of the README, plus helpers.
#   make demo   install what is missing, build (release), run the main job on bundled data
#   make test   install what is missing, build, run every test suite
SWIFT ?= swift
DEMO_OUT ?= demo-out

.PHONY: bootstrap build release demo test bench-nifti clean

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	$(SWIFT) build

release: bootstrap
	$(SWIFT) build -c release

# Until the simulator and the model land, the main job runs the preprocessing walkthroughs
# on bundled real data (an EPI run and the nitime fMRI run).
demo: release
	FMRIDYN=.build/release/fmridyn notebooks-cli/00a-inspect-nifti.sh $(DEMO_OUT)
	FMRIDYN=.build/release/fmridyn notebooks-cli/00b-extract-timeseries.sh $(DEMO_OUT)

test: bootstrap
	$(SWIFT) build --build-tests
	$(SWIFT) test
	@echo "notebooks-cli smoke run"
	@out=$$(mktemp -d) && for notebook in notebooks-cli/*.sh; do FMRIDYN=.build/debug/fmridyn bash $$notebook $$out/$$(basename $$notebook .sh) > $$out/log.txt 2>&1 || { cat $$out/log.txt; exit 1; }; done && rm -rf $$out

# Reads an HCP-size run with fmridyn and nibabel side by side (needs python3 + nibabel).
bench-nifti: release
	python3 bench/nifti_read.py

clean:
	rm -rf .build $(DEMO_OUT)
