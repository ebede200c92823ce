# TEMNet Studio: the two commands of the README.
#   make run   - create .venv, install, generate the demo project if missing, open the app
#   make test  - create .venv, install with the test extra, run the whole test suite
# and the installers (README, "Build the installers"):
#   make bundle      - PyInstaller one-folder bundle in dist/TEMNetStudio/
#   make dist-linux  - release tarball (install.sh) and .deb in dist/
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO   ?= demo_project/demo.temnet
PIP_FLAGS ?= --disable-pip-version-check -q

VERSION = $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' temnet_app/__init__.py)

.PHONY: run test install install-test install-build icons bundle dist-linux lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[test]'
	touch $@

$(VENV)/.installed-build: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[build]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-build: $(VENV)/.installed-build

icons: $(VENV)/.installed-build
	QT_QPA_PLATFORM=offscreen $(BIN)/python installer/make_icons.py build/icons

bundle: icons
	rm -rf dist/TEMNetStudio
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller installer/temnet.spec
	[ -e dist/TEMNetStudio/temnet ] || [ -e dist/TEMNetStudio/temnet.exe ] || ln -s TEMNetStudio dist/TEMNetStudio/temnet
	if command -v strip >/dev/null && [ "$$(uname -s)" = Linux ]; then \
	    find dist/TEMNetStudio/_internal/tensorflow -name '*.so*' -type f -exec strip --strip-unneeded {} + ; fi
	du -sh dist/TEMNetStudio

dist-linux: bundle
	sh installer/linux/make_dist.sh $(VERSION)

run: $(VENV)/.installed
	$(BIN)/temnet demo --out $(DEMO)
	$(BIN)/temnet open $(DEMO)

test: $(VENV)/.installed-test
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen MPLBACKEND=Agg $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) demo_project .pytest_cache build dist
