"""gcnet.train.distributed.plan: which environments start a multi-process runtime."""

import pytest

from gcnet.train import distributed

_SLURM = {"SLURM_JOB_ID": "77", "SLURM_STEP_NODELIST": "gpu[01-02]", "SLURM_NTASKS": "16",
          "SLURM_PROCID": "9", "SLURM_LOCALID": "1"}


def test_single_process_by_default():
  assert distributed.plan({}) == distributed.Plan("single")
  assert distributed.plan({"GCNET_DISTRIBUTED": "off", **_SLURM}).mode == "single"


def test_explicit_variables():
  env = {"GCNET_COORDINATOR_ADDRESS": "10.0.0.1:1234", "GCNET_NUM_PROCESSES": "4",
         "GCNET_PROCESS_ID": "3"}
  assert distributed.plan(env) == distributed.Plan("explicit", "10.0.0.1:1234", 4, 3)
  with pytest.raises(ValueError, match="GCNET_PROCESS_ID"):
    distributed.plan({**env, "GCNET_PROCESS_ID": ""})
  with pytest.raises(ValueError, match="not in"):
    distributed.plan({**env, "GCNET_PROCESS_ID": "4"})


def test_auto_slurm_and_ompi():
  assert distributed.plan({"GCNET_DISTRIBUTED": "auto"}) == distributed.Plan("auto")
  with pytest.raises(ValueError, match="GCNET_DISTRIBUTED"):
    distributed.plan({"GCNET_DISTRIBUTED": "maybe"})
  assert distributed.plan(_SLURM) == distributed.Plan("slurm", None, 16, 9)
  # srun's step size wins over the job's task count; one task is a single process.
  assert distributed.plan({**_SLURM, "SLURM_STEP_NUM_TASKS": "1"}).mode == "single"
  assert distributed.plan({k: v for k, v in _SLURM.items()
                           if k != "SLURM_STEP_NODELIST"}).mode == "single"
  assert distributed.plan({"OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"}) == \
      distributed.Plan("ompi", None, 2, 1)


def test_initialize_is_a_no_op_for_one_process(monkeypatch):
  for key in ("GCNET_COORDINATOR_ADDRESS", "GCNET_DISTRIBUTED", "SLURM_JOB_ID",
              "OMPI_COMM_WORLD_SIZE"):
    monkeypatch.delenv(key, raising=False)
  assert distributed.initialize().mode == "single"
