# The README's two commands: `make run` (set up, build, start on samples/) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Debian packages the build and the tests need (installed only when missing).
APT_PACKAGES := libncurses-dev ncurses-term libpng-dev libdcmtk-dev dcmtk libopencv-dnn-dev \
                libopenjp2-7-dev libsqlite3-dev sqlite3 pkg-config tmux chafa python3-venv time
# Only the tests: real terminals with pixel graphics (xterm as a VT340 for Sixel, kitty) under Xvfb,
# driven by xdotool and photographed with xwd; PostgreSQL 15 for the department ledger's tests
# (pg_virtualenv starts a throwaway server for the run, fsync on); Orthanc with its DICOMweb plugin
# for the PACS tests (each run starts its own on free loopback ports; curl uploads to it).
TEST_APT_PACKAGES := xvfb xterm kitty xdotool x11-apps postgresql-15 postgresql-common orthanc orthanc-dicomweb curl
# The reference decoder for the tests lives in a throwaway virtual environment under .build/.
REFERENCE_VENV := .build/reference-venv
REFERENCE_DATA := .build/pydicom-reference
PYDICOM_VERSION := 3.0.2
# pydicom's JPEG 2000 plugin (OpenJPEG inside): the reference for Lightbox's JPEG 2000 decoding.
PYLIBJPEG_VERSION := 2.1.0
OPENJPEG_PLUGIN_VERSION := 2.6.0
# scipy: the reference for the monitoring statistics (KS, chi-squared, Wasserstein, Jensen–Shannon).
SCIPY_VERSION := 1.17.1
STATS_REFERENCE := .build/stats-reference.json
# Evidently, the monitor benchmark's peer (its own venv: it pins pandas below 3 and pulls much
# that the test references must not share).
EVIDENTLY_VERSION := 0.7.23
MONITOR_PEER_VENV := .build/monitor-peer-venv
# highdicom, the reference writer of the AI-object fixtures (SEG, parametric maps, TID 1500 SR over
# the CT phantom), and pydicom-data for its real liver segmentation.
HIGHDICOM_VERSION := 0.28.2
PYDICOM_DATA_VERSION := 1.0.0
AI_OBJECTS := .build/ai-objects
# The PyPI DICOMweb client, the PACS benchmark's peer for WADO-RS.
DICOMWEB_CLIENT_VERSION := 0.61.2

.PHONY: setup test-setup install-packages build run test bench clean

setup:
	@command -v swift >/dev/null || { echo "Swift 6 toolchain not found on PATH (see README: Install)"; exit 1; }
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(APT_PACKAGES)"

test-setup: setup
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(TEST_APT_PACKAGES)"

install-packages:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Release builds link the Swift runtime and Foundation statically: about 10 ms less start-up for
# every command (one flag for every release product, so they share one build plan).
RELEASE_BUILD := swift build -c release --static-swift-stdlib

# The engine library is loaded by lightbox only when a model runs: it is built beside it.
build: setup
	$(RELEASE_BUILD) --product lightbox
	$(RELEASE_BUILD) --product LightboxVision

run: build
	.build/release/lightbox samples

$(REFERENCE_DATA)/manifest.json: tools/pydicom_reference.py Makefile
	@test -x $(REFERENCE_VENV)/bin/python || python3 -m venv $(REFERENCE_VENV)
	$(REFERENCE_VENV)/bin/pip install -q --disable-pip-version-check "pydicom==$(PYDICOM_VERSION)" numpy \
	  "pylibjpeg==$(PYLIBJPEG_VERSION)" "pylibjpeg-openjpeg==$(OPENJPEG_PLUGIN_VERSION)"
	rm -rf $(REFERENCE_DATA)
	$(REFERENCE_VENV)/bin/python tools/pydicom_reference.py $(REFERENCE_DATA)

$(STATS_REFERENCE): Tests/TestSupport/monitor_reference.py Makefile
	@test -x $(REFERENCE_VENV)/bin/python || python3 -m venv $(REFERENCE_VENV)
	$(REFERENCE_VENV)/bin/pip install -q --disable-pip-version-check "scipy==$(SCIPY_VERSION)" numpy
	$(REFERENCE_VENV)/bin/python Tests/TestSupport/monitor_reference.py $@

$(AI_OBJECTS)/manifest.json: tools/ai_objects_reference.py Makefile samples/ground-truth.json
	@test -x $(REFERENCE_VENV)/bin/python || python3 -m venv $(REFERENCE_VENV)
	$(REFERENCE_VENV)/bin/pip install -q --disable-pip-version-check "pydicom==$(PYDICOM_VERSION)" numpy \
	  "highdicom==$(HIGHDICOM_VERSION)" "pydicom-data==$(PYDICOM_DATA_VERSION)"
	rm -rf $(AI_OBJECTS)
	$(REFERENCE_VENV)/bin/python tools/ai_objects_reference.py samples $(AI_OBJECTS)

test: test-setup $(REFERENCE_DATA)/manifest.json $(STATS_REFERENCE) $(AI_OBJECTS)/manifest.json
	swift build --product LightboxVision
	pg_virtualenv -o fsync=on -- env LIGHTBOX_REQUIRE_POSTGRES=1 LIGHTBOX_REQUIRE_ORTHANC=1 LIGHTBOX_PYDICOM_REFERENCE=$(CURDIR)/$(REFERENCE_DATA) \
	  LIGHTBOX_STATS_REFERENCE=$(CURDIR)/$(STATS_REFERENCE) LIGHTBOX_AI_OBJECTS=$(CURDIR)/$(AI_OBJECTS) swift test --disable-xctest

bench: build
	$(RELEASE_BUILD) --product lightbox-benchmark
	@test -x $(REFERENCE_VENV)/bin/python || python3 -m venv $(REFERENCE_VENV)
	$(REFERENCE_VENV)/bin/pip install -q --disable-pip-version-check "pydicom==$(PYDICOM_VERSION)" numpy onnxruntime faiss-cpu
	tools/benchmark.sh .build/release/lightbox $(REFERENCE_VENV)/bin/python
	.build/release/lightbox-benchmark reviewer
	.build/release/lightbox-benchmark picture
	.build/release/lightbox-benchmark triage --python $(REFERENCE_VENV)/bin/python
	.build/release/lightbox-benchmark similar --python $(REFERENCE_VENV)/bin/python
	.build/release/lightbox-benchmark decisions
	.build/release/lightbox-benchmark worklist --studies 10000,100000 --workdir .build/bench-worklist
	@test -x $(MONITOR_PEER_VENV)/bin/python || python3 -m venv $(MONITOR_PEER_VENV)
	$(MONITOR_PEER_VENV)/bin/pip install -q --disable-pip-version-check "evidently==$(EVIDENTLY_VERSION)" "pandas<3"
	mkdir -p .build/bench-monitor
	.build/release/lightbox-benchmark monitor --workdir .build/bench-monitor --python $(MONITOR_PEER_VENV)/bin/python
	@$(MAKE) --no-print-directory install-packages PACKAGES="postgresql-15 postgresql-common"
	mkdir -p .build/bench-department
	pg_virtualenv -o fsync=on -- .build/release/lightbox-benchmark department --workdir .build/bench-department
	@$(MAKE) --no-print-directory install-packages PACKAGES="orthanc orthanc-dicomweb curl dcmtk"
	$(REFERENCE_VENV)/bin/pip install -q --disable-pip-version-check "dicomweb-client==$(DICOMWEB_CLIENT_VERSION)"
	mkdir -p .build/bench-pacs
	.build/release/lightbox-benchmark pacs --workdir .build/bench-pacs --python $(REFERENCE_VENV)/bin/python
	$(REFERENCE_VENV)/bin/pip install -q --disable-pip-version-check "highdicom==$(HIGHDICOM_VERSION)"
	mkdir -p .build/bench-external
	.build/release/lightbox-benchmark external --workdir .build/bench-external --python $(REFERENCE_VENV)/bin/python

clean:
	rm -rf .build
