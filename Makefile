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

# Until the simulator lands (issue 7), the main job inspects a bundled real fMRI image.
demo: release
	.build/release/fmridyn info --stats Tests/Fixtures/nifti/example4d.nii.gz
	.build/release/fmridyn info --json Tests/Fixtures/nifti/functional.nii

test: bootstrap
	$(SWIFT) build --build-tests
	$(SWIFT) test

# Reads an HCP-size run with fmridyn and nibabel side by side (needs python3 + nibabel).
bench-nifti: release
	python3 bench/nifti_read.py

clean:
	rm -rf .build $(DEMO_OUT)
