# Two commands for a new user:  make train  (the default experiment on real data)  and  make test.
.PHONY: setup train test

setup: .venv/.installed

.venv/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $@

# Extra gcnet.cli.train flags for both runs, e.g. make train ARGS="--config.train.num_steps=500"
train: setup
	bash scripts/main_job.sh $(ARGS)

test: setup
	.venv/bin/python -m pytest -n 2 -q tests
