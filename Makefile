# The README's two commands: `make demo` and `make test`. Both set everything up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup bytecode demo test release examples bench audit lab clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

# The kit's bytecode, as a regular install has it (an editable install has none, and where PYTHONDONTWRITEBYTECODE
# is set Python never writes it: every start, and every sandbox zygote, compiled the kit again).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q autograder

setup: $(STAMP)

## Grade the bundled example submissions (a correct, a buggy and an untouched student) and print the table;
## end with the class report and the students' feedback pages (grade writes them; `report` if it could not).
demo: bytecode
	rm -f out/demo/report.html
	$(BIN)/python -m autograder grade examples/submitted --out out/demo --jobs 2
	@test -s out/demo/report.html || $(BIN)/python -m autograder report out/demo
	@echo "class report:           file://$(CURDIR)/out/demo/report.html"
	@echo "students' feedback:     file://$(CURDIR)/out/demo/<student>/<assignment>/<notebook>.html, e.g."
	@echo "                        file://$(CURDIR)/out/demo/bob/02_linear_regression/linear_regression.html"

## Run the whole test suite. As root, first install what the simulated container of the isolation tests needs.
test: $(STAMP)
	sh tools/container_sim_setup.sh $(BIN)/python
	sh tools/browser_setup.sh
	$(BIN)/python -m pytest -q

## Regenerate the self-check data and release/ from source/ (nbgrader generate_assignment).
release: $(STAMP)
	$(BIN)/python -m autograder build

## Rebuild examples/submitted from release/, the reference solutions and the mistake catalog.
examples: $(STAMP)
	$(BIN)/python tools/make_examples.py

## Speed: this grader (with and without the pages and class report) against nbgrader autograde on the same notebooks,
## for the assignments the course holds.
bench: bytecode
	$(BIN)/python benchmarks/bench_grading.py --overhead

## Which catalogued mistakes the hidden tests catch, per blank.
audit: $(STAMP)
	$(BIN)/python -m autograder audit

## Open the student notebooks in JupyterLab, as a user or as root (a container's, a VM's only user: JupyterLab
## refuses to run as root without --allow-root).
lab: $(STAMP)
	cd release && ../$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf out .pytest_cache
