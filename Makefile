# imagicle.proactive — one entry for people and CI.
#   make demo   set up this machine, start the simulated AppSuite on two test-bed hosts,
#               run the proactive check against them, inject two faults, run it again and
#               show the cases it opened (the demo's state store is .demo/state.sqlite)
#   make test   set up this machine and run every test suite (what CI runs)
SHELL := /bin/bash
VENV  := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
DEMO_STORE := $(CURDIR)/.demo/state.sqlite
DEMO := IMAGICLE_STATE_STORE=$(DEMO_STORE)

.PHONY: demo test setup setup-test demo-up demo-tour demo-down check cases explain fault clear silence \
	sanity units pytest integration molecule lint bench bench-history soak clean

demo: setup demo-up demo-tour

setup:
	@bash scripts/setup.sh runtime

setup-test:
	@bash scripts/setup.sh test

demo-up:
	@bash scripts/demo.sh up

demo-tour:
	@$(DEMO) bash scripts/demo.sh tour

demo-down:
	@bash scripts/demo.sh down

# The demo's playbooks, on the demo's state store.
check:
	$(DEMO) ansible-playbook playbooks/proactive_check.yml

cases:
	$(DEMO) ansible-playbook playbooks/cases.yml $(if $(CASE),-e case=$(CASE))

explain:
	$(DEMO) ansible-playbook playbooks/explain.yml -e explain_host=$(HOST)

fault:
	ansible-playbook playbooks/simulator.yml -l $(HOST) -e sim_action=fault -e 'sim_args="$(FAULT)"'

clear:
	ansible-playbook playbooks/simulator.yml -l $(HOST) -e sim_action=clear -e 'sim_args="all"'

silence:
	$(DEMO) ansible-playbook playbooks/silence.yml -e silence_host=$(HOST) -e silence_for=$(FOR) \
		-e "silence_reason='$(REASON)'"

test: setup-test
	@bash scripts/test.sh

sanity units pytest integration molecule lint: setup-test
	@bash scripts/test.sh $@

# The scheduled check (playbooks/proactive_check.yml) against ansible.builtin.setup on 10, 50, 100 and
# 200 test-bed hosts, interleaved, three rounds (its reduced form, 3 hosts x 1 round, is part of
# `make test`). Replaces any running test bed and tears it down at the end. Results:
# tests/output/bench_scale.json; see docs/benchmarks.md.
bench: setup-test
	python tests/bench/bench_scale.py $(if $(SIZES),--sizes $(SIZES)) $(if $(RUNS),--runs $(RUNS))

# One evaluation round of 1,000 hosts with and without their metric history (30 days of it in the
# state store), on SQLite and on a private PostgreSQL cluster (its reduced form, 20 hosts x 2 days,
# is part of `make test`). Results: tests/output/bench_history.json; see docs/benchmarks.md.
bench-history: setup-test
	python tests/bench/bench_history.py $(if $(HOSTS),--hosts $(HOSTS)) $(if $(DAYS),--days $(DAYS))

# 200 runs of the scheduled job with a changing mix of host faults and backend failures, then a
# count of tickets, pages and mails in the real services, and the run times early against late
# (its reduced form, four runs, is part of `make test`). Results: tests/output/soak.json.
soak: setup-test
	python tests/soak/soak.py --runs $(or $(RUNS),200)

clean: demo-down
	rm -rf collections/ansible_collections/imagicle/proactive/tests/output
