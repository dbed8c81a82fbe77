# cwl-audit — `make demo` shows the tool on the bundled snapshots; `make test` runs every test.
# Both install what they need themselves (Rust crates, a Python venv, the npm SARIF multitool).
SHELL := bash
CARGO ?= cargo
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
MULTITOOL := $(TOOLS)/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
DEMO_OUT := target/demo

.PHONY: demo test tools lint policy-test eval-only clean-tools

## demo: evaluate snapshots/ with the evaluator-only build; also writes target/demo/cwl-audit.sarif
demo:
	$(CARGO) build --release --no-default-features --bin cwl-audit
	@mkdir -p $(DEMO_OUT)
	@# Exit 1 means "findings", which is what the demo shows; only 2 (unusable input) is an error here.
	./target/release/cwl-audit eval snapshots --format sarif --output $(DEMO_OUT)/cwl-audit.sarif >/dev/null 2>&1 || [ $$? -eq 1 ]
	./target/release/cwl-audit eval snapshots || [ $$? -eq 1 ]
	@echo "SARIF report: $(DEMO_OUT)/cwl-audit.sarif"

## test: every test — Rust unit/integration tests (incl. SARIF validation with the official tools),
## Rego unit tests, the evaluator-only build, and lints.
test: tools
	PYTHON=$(abspath $(PY)) MULTITOOL=$(abspath $(MULTITOOL)) CWL_AUDIT_PYTHON=$(abspath $(PY)) \
		$(CARGO) test --all-targets
	$(MAKE) --no-print-directory eval-only policy-test

## eval-only: the evaluator-only build must compile without any AWS crate (and say so on `collect`)
eval-only:
	$(CARGO) build --no-default-features --bin cwl-audit
	@if $(CARGO) tree --no-default-features -e normal --prefix none | grep -q '^aws-'; then \
		echo "evaluator-only build pulls AWS crates" >&2; exit 1; fi
	@# There, `collect` exists only to say so (exit 2); `iam-policy` is data and works.
	@out=$$(./target/debug/cwl-audit collect --out target/eval-only-check 2>&1); code=$$?; \
		if [ $$code -ne 2 ] || ! grep -q 'built without the `collect` feature' <<<"$$out"; then \
		echo "evaluator-only 'collect' must exit 2 and say why (got $$code: $$out)" >&2; exit 1; fi
	@./target/debug/cwl-audit iam-policy | grep -q '"cloudtrail:DescribeTrails"'

## policy-test: Rego unit tests of the bundled policies, as users run them
policy-test:
	./target/debug/cwl-audit test

tools: $(VENV)/.installed $(MULTITOOL)

$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

$(MULTITOOL):
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) @microsoft/sarif-multitool@5.7.0
	@test -x $@

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

clean-tools:
	rm -rf $(VENV) $(TOOLS)
