# cwl-audit — `make demo` shows the tool on the bundled snapshots; `make test` runs every test.
# Both install what they need themselves (Rust crates, a Python venv, the npm SARIF multitool).
SHELL := bash
CARGO ?= cargo
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
MULTITOOL := $(TOOLS)/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
DEMO_OUT := target/demo

.PHONY: demo test tools browser shells lint policy-test eval-only opa-crosscheck clean-tools bench man completions fuzz soak soak-remediate

## demo: evaluate snapshots/ with the evaluator-only build: root usage (CWL-014) account by account,
## then what failed among all fifteen CIS monitoring rules; also writes target/demo/cwl-audit.sarif.
## The evaluator-only build has its own target directory (target/eval-only), so it never replaces
## the full build's target/release/cwl-audit (whose `collect` the README's next step uses).
DEMO_TARGET := target/eval-only
DEMO_BIN := $(DEMO_TARGET)/release/cwl-audit
demo:
	$(CARGO) build --release --no-default-features --bin cwl-audit --target-dir $(DEMO_TARGET)
	@mkdir -p $(DEMO_OUT)
	@# Exit 1 means "findings", which is what the demo shows; only 2 (unusable input) is an error here.
	$(DEMO_BIN) eval snapshots --format sarif --output $(DEMO_OUT)/cwl-audit.sarif >/dev/null 2>&1 || [ $$? -eq 1 ]
	$(DEMO_BIN) eval snapshots --rule CWL-014 || [ $$? -eq 1 ]
	@echo
	@echo "All fifteen rules (\`cwl-audit eval snapshots\` shows every verdict):"
	@$(DEMO_BIN) eval snapshots 2>/dev/null | tail -n 1 || true
	@echo "SARIF report: $(DEMO_OUT)/cwl-audit.sarif"

## test: every test — Rust unit/integration tests (incl. SARIF validation with the official tools and
## the collector against the moto emulator), the evaluator-only build, Rego unit tests, and the
## cross-check of every scenario with real OPA.
SCENARIOS := target/scenarios
# Most integration tests wait on moto, the AWS CLI or Chromium (other processes), not on a core:
# six at once on the 2-core CI machine took the integration tests from 447 s to 335 s, and more
# queued on the CPU again. Override with `make test TEST_THREADS=N`.
TEST_THREADS ?= 6

test: tools browser shells
	rm -rf $(SCENARIOS)
	@# Where the browser is installed its test must run: CWL_AUDIT_REQUIRE_BROWSER turns a skip into a failure.
	@# The same for the completion tests of the shells found: CWL_AUDIT_REQUIRE_SHELLS lists them.
	PYTHON=$(abspath $(PY)) MULTITOOL=$(abspath $(MULTITOOL)) CWL_AUDIT_PYTHON=$(abspath $(PY)) \
		CWL_AUDIT_REQUIRE_BROWSER=$$(command -v $(CHROMIUM) >/dev/null && command -v chromedriver >/dev/null && echo 1) \
		CWL_AUDIT_REQUIRE_SHELLS="$$(for s in $(COMPLETION_SHELLS); do command -v $$s >/dev/null && printf '%s ' $$s; done)" \
		CWL_AUDIT_KEEP_SCENARIOS=$(abspath $(SCENARIOS)) RUST_TEST_THREADS=$(TEST_THREADS) $(CARGO) test --all-targets
	$(MAKE) --no-print-directory eval-only policy-test opa-crosscheck

## opa-crosscheck: real OPA (embedded in opa-golib-python-bindings) decides the bundled snapshots and
## every scenario the Rust tests evaluated ($(SCENARIOS)) exactly as cwl-audit does
opa-crosscheck:
	$(PY) tests/opa-crosscheck.py ./target/debug/cwl-audit snapshots $(SCENARIOS)

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

## policy-test: Rego unit tests of the bundled policies and of examples/ (a custom policy set, see
## docs/writing-policies.md), as users run them, and an evaluation with the example policies
policy-test:
	./target/debug/cwl-audit test
	./target/debug/cwl-audit test examples/policies
	./target/debug/cwl-audit eval snapshots --policy-dir examples/policies --rule ORG-001 --format json --fail-on never \
		| grep -q '"pass": 2'

tools: $(VENV)/.installed $(MULTITOOL)

## browser: headless Chromium and its WebDriver for the HTML report's browser test (tests/it/html.rs),
## from Debian's packages where missing: apt-get as root, or with sudo that needs no password.
## Without a package manager (or the right to use it) the test is skipped with a message.
CHROMIUM := chromium
browser:
	@if command -v $(CHROMIUM) >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "make: no apt-get: the HTML browser test will be skipped (install chromium and chromedriver)" >&2; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo; \
	else echo "make: not root and no password-less sudo: the HTML browser test will be skipped" \
		"(apt-get install chromium chromium-driver)" >&2; exit 0; fi; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver

## shells: zsh and fish for the completion tests (tests/it/completions.rs; bash is the Makefile's
## shell), from Debian's packages where missing, as `browser` installs Chromium; without apt-get
## (or the right to use it) those two tests are skipped with a message.
COMPLETION_SHELLS := zsh fish
shells:
	@missing=$$(for s in $(COMPLETION_SHELLS); do command -v $$s >/dev/null || printf '%s ' $$s; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "make: no apt-get: the completion tests of $$missing will be skipped (install $$missing)" >&2; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo; \
	else echo "make: not root and no password-less sudo: the completion tests of $$missing will be skipped" \
		"(apt-get install $$missing)" >&2; exit 0; fi; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing

$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	@# --ignore-requires-python: opa-golib-python-bindings declares Python >= 3.14 but works on 3.11.
	$(PY) -m pip install --quiet --disable-pip-version-check --ignore-requires-python -r requirements-test.txt
	@touch $@

$(MULTITOOL):
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) @microsoft/sarif-multitool@5.7.0
	@test -x $@

## bench: parse and coverage time of the CIS monitoring patterns (target: covers < 1 ms per pair), then
## the organization-scale evaluation benchmark (BENCH_ACCOUNTS=100,1000,3000; writes target/bench/org.md),
## `collect` of 17 regions against the moto emulator (target/bench/collect.md), and
## `collect --organization` of 100 and 1,000 accounts x 17 regions against a 75 ms latency stub
## (target/bench/collect-org.md; release build). BENCHMARKS.md records a run.
bench: tools
	$(CARGO) bench --no-default-features --bench pattern
	$(CARGO) bench --no-default-features --bench org
	$(CARGO) build --bin cwl-audit
	$(PY) scripts/bench-collect.py ./target/debug/cwl-audit
	$(CARGO) build --release --bin cwl-audit
	$(PY) scripts/bench-collect-org.py ./target/release/cwl-audit --accounts 100,1000

## man: man pages generated from the clap definitions (cwl-audit.1 and one per subcommand) in target/man
man:
	$(CARGO) build --no-default-features --bin cwl-audit
	./target/debug/cwl-audit man --out-dir target/man

## completions: shell completion scripts in target/completions
completions:
	$(CARGO) build --no-default-features --bin cwl-audit
	@mkdir -p target/completions
	./target/debug/cwl-audit completions bash > target/completions/cwl-audit.bash
	./target/debug/cwl-audit completions zsh > target/completions/_cwl-audit
	./target/debug/cwl-audit completions fish > target/completions/cwl-audit.fish

## fuzz: each cargo-fuzz target for FUZZ_SECONDS (needs the nightly toolchain and cargo-fuzz;
## not part of `make test`). Add a target by appending its name to FUZZ_TARGETS; its seeds are
## fuzz/seeds/<target> plus FUZZ_SEEDS_<target> (read only: new inputs go to fuzz/corpus/<target>).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := pattern_parse pattern_covers snapshot_load metadata_parse
FUZZ_SEEDS_snapshot_load := snapshots
FUZZ_SEEDS_metadata_parse := policies
fuzz:
	@$(foreach t,$(FUZZ_TARGETS),mkdir -p fuzz/corpus/$(t) && echo "fuzz $(t) for $(FUZZ_SECONDS)s" && \
		$(CARGO) +nightly fuzz run $(t) fuzz/corpus/$(t) $(wildcard fuzz/seeds/$(t)) $(FUZZ_SEEDS_$(t)) \
		-- -max_total_time=$(FUZZ_SECONDS) &&) true

## soak: the generative test (tests/it/generative.rs) on SOAK_CASES organizations (default 5000) from
## SOAK_SEED (default: from the clock; printed). Every mismatch prints its seed and a reproducer;
## replay one with GEN_CASE=<seed> cargo test --test it generative::replay -- --ignored --nocapture.
## GEN_SKIP_KNOWN=1 leaves out the known defects of issue #12, GEN_OPEN=1 adds the open questions.
SOAK_CASES ?= 5000
SOAK_SEED ?=
soak:
	SOAK_CASES=$(SOAK_CASES) SOAK_SEED=$(SOAK_SEED) $(CARGO) test --test it generative::soak -- --ignored --nocapture

## soak-remediate: the hostile-string property test of remediate (every value from a snapshot through
## every output format, the AWS CLI plan run by a logging stub) on HOSTILE_CASES cases (default 200;
## `make test` runs 8)
HOSTILE_CASES ?= 200
soak-remediate: tools
	HOSTILE_CASES=$(HOSTILE_CASES) PYTHON=$(abspath $(PY)) CWL_AUDIT_PYTHON=$(abspath $(PY)) \
		$(CARGO) test --test it remediate::hostile_names_random -- --nocapture

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --no-default-features --all-targets -- -D warnings

clean-tools:
	rm -rf $(VENV) $(TOOLS)
