# imagicle.proactive — one entry for people and CI.
#   make demo   set up this machine, start the simulated AppSuite on two test-bed hosts,
#               run the proactive check against them
#   make test   set up this machine and run every test suite (what CI runs)
SHELL := /bin/bash
VENV  := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: demo test setup setup-test demo-up demo-down check sanity units pytest molecule lint bench clean

demo: setup demo-up check

setup:
	@bash scripts/setup.sh runtime

setup-test:
	@bash scripts/setup.sh test

demo-up:
	@bash scripts/demo.sh up

demo-down:
	@bash scripts/demo.sh down

check:
	ansible-playbook playbooks/proactive_check.yml

test: setup-test
	@bash scripts/test.sh

sanity units pytest molecule lint: setup-test
	@bash scripts/test.sh $@

bench: setup-test
	@bash scripts/demo.sh up
	python tests/bench/bench_facts.py

clean: demo-down
	rm -rf collections/ansible_collections/imagicle/proactive/tests/output
