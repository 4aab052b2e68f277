"""Dry runs of launch.tpu_vm, launch.slurm and launch.local: the exact commands they print."""

import shlex

from launch import common
from launch import local
from launch import slurm
from launch import tpu_vm

REPO = str(common.REPO_ROOT)
CONFIG = "experiments/fashion_mnist_gc.py"


def _commands(text):
  """Non-comment lines of a dry run, each split the way a shell splits it."""
  return [shlex.split(line) for line in text.splitlines() if line and not line.startswith("#")]


def _option(argv, name):
  values = [a.split("=", 1)[1] for a in argv if a.startswith(name + "=")]
  assert len(values) == 1, (name, argv)
  return values[0]


def test_tpu_vm_dry_run(capsys):
  assert tpu_vm.main([
      "--name=gc-v5e", "--zone=us-west4-a", "--project=proj", "--accelerator_type=v5litepod-16",
      "--runtime_version=v2-alpha-tpuv5-lite", f"--config={CONFIG}",
      "--workdir=gs://bkt/runs/fm", "--data_dir=gs://bkt/tfds",
      "--upload_data_from=/data/tfds", "--create", "--dry-run", "--",
      "--config.train.num_steps=100"]) == 0
  cmds = _commands(capsys.readouterr().out)
  tpu = ["gcloud", "compute", "tpus", "tpu-vm"]
  where = ["--zone=us-west4-a", "--project=proj"]
  archive = "/tmp/gcnet-src-gc-v5e.tgz"
  assert cmds[0] == tpu + ["describe", "gc-v5e"] + where
  assert cmds[1] == tpu + ["create", "gc-v5e", "--accelerator-type=v5litepod-16",
                           "--version=v2-alpha-tpuv5-lite"] + where
  assert cmds[2][:2] == ["bash", "-c"]
  pack = cmds[2][2]
  assert f"git -C {REPO} ls-files -z --cached --others --exclude-standard" in pack
  assert f"tar -czf {archive}" in pack
  assert cmds[3] == tpu + ["scp", archive, "gc-v5e:~/gcnet-src.tgz", "--worker=all"] + where
  install = cmds[4]
  assert install[:7] == tpu + ["ssh", "gc-v5e", "--worker=all"] and install[-2:] == where
  remote = _option(install, "--command")
  assert "tar -xzf ~/gcnet-src.tgz -C ~/gcnet" in remote
  pip = remote.split("; ")[-1]
  assert shlex.split(pip) == ["python3", "-m", "pip", "install", "-q", "-e", ".", "jax[tpu]",
                              "gcsfs"]
  assert cmds[5] == ["gcloud", "storage", "rsync", "--recursive", "/data/tfds", "gs://bkt/tfds"]
  train = cmds[6]
  assert train[:7] == tpu + ["ssh", "gc-v5e", "--worker=all"] and train[-2:] == where
  cd, run = _option(train, "--command").split(" && ")
  assert cd == "cd ~/gcnet"
  assert shlex.split(run) == [
      "env", "GCNET_DISTRIBUTED=auto", "TFDS_DATA_DIR=gs://bkt/tfds", "python3", "-m",
      "gcnet.cli.train", f"--config={CONFIG}", "--workdir=gs://bkt/runs/fm",
      "--config.train.num_steps=100"]
  assert len(cmds) == 7


def test_tpu_vm_reuse_only_and_skip_install(capsys):
  assert tpu_vm.main(["--name=t", "--zone=z", f"--config={CONFIG}:runlocal",
                      "--workdir=gs://b/w", "--skip_install", "--dry-run"]) == 0
  cmds = _commands(capsys.readouterr().out)
  assert [c[4] for c in cmds] == ["describe", "ssh"]   # no create without --create


def test_slurm_dry_run_per_gpu(capsys):
  assert slurm.main([
      "--nodes=2", "--gpus_per_node=8", "--partition=gpu", "--time=04:00:00",
      "--account=lab", "--cpus_per_task=12", "--sbatch_arg=--exclusive",
      "--setup=source .venv/bin/activate", f"--config={CONFIG}", "--workdir=/shared/runs/fm",
      "--data_dir=/shared/tfds", "--log_dir=/shared/logs", "--dry-run",
      "--config.train.num_steps=100"]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert lines[0] == "#!/bin/bash"
  directives = [l[len("#SBATCH "):] for l in lines if l.startswith("#SBATCH ")]
  assert directives == [
      "--job-name=gcnet-fashion_mnist_gc", "--nodes=2", "--ntasks-per-node=8",
      "--gpus-per-node=8", "--cpus-per-task=12", "--time=04:00:00", "--partition=gpu",
      "--account=lab", "--output=/shared/logs/%x-%j.out", "--exclusive"]
  body = [l for l in lines if not l.startswith("#")]
  assert body[:3] == ["set -eo pipefail", f"cd {REPO}", "source .venv/bin/activate"]
  assert 'export TFDS_DATA_DIR="/shared/tfds"' in body
  assert not any("JAX_LOCAL_DEVICE_IDS" in l for l in body)
  assert shlex.split(body[-1]) == [
      "srun", "--kill-on-bad-exit=1", "python", "-m", "gcnet.cli.train", f"--config={CONFIG}",
      "--workdir=/shared/runs/fm", "--config.train.num_steps=100"]


def test_slurm_per_node_and_submit(tmp_path, monkeypatch, capsys):
  assert slurm.main(["--nodes=4", "--gpus_per_node=4", "--processes=per_node",
                     f"--config={CONFIG}:runlocal", "--workdir=/w", "--dry-run"]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert "#SBATCH --ntasks-per-node=1" in lines and "#SBATCH --gpus-per-node=4" in lines
  assert 'export JAX_LOCAL_DEVICE_IDS="0,1,2,3"' in lines
  # Without --dry-run the script is written and handed to sbatch.
  submitted = []
  monkeypatch.setattr(slurm.subprocess, "run",
                      lambda cmd, check: submitted.append(cmd) or type("R", (), {"returncode": 0}))
  assert slurm.main(["--nodes=1", "--gpus_per_node=0", f"--config={CONFIG}", "--workdir=/w",
                     f"--log_dir={tmp_path}", "--job_name=cpu"]) == 0
  script = tmp_path / "cpu.sbatch"
  assert submitted == [["sbatch", str(script)]]
  text = script.read_text()
  assert "#SBATCH --ntasks-per-node=1" in text and "gpus-per-node" not in text


def test_local_dry_run(capsys):
  assert local.main([f"--config={CONFIG}:runlocal", "--workdir=/tmp/w", "--devices=4",
                     "--dry-run", "--", "--config.train.num_steps=3"]) == 0
  argv = shlex.split(capsys.readouterr().out)
  assert argv[0] == "JAX_PLATFORMS=cpu"
  assert argv[1].startswith("XLA_FLAGS=") and argv[1].endswith(
      "--xla_force_host_platform_device_count=4")
  assert argv[3:] == ["-m", "gcnet.cli.train", f"--config={CONFIG}:runlocal", "--workdir=/tmp/w",
                      "--config.train.num_steps=3"]


def test_overrides_without_separator_pass_through():
  parser = __import__("argparse").ArgumentParser()
  parser.add_argument("--config")
  args, extra = common.parse_args(parser, ["--config=x.py", "--config.a=1", "--", "--stop_after=2"])
  assert args.config == "x.py" and extra == ["--config.a=1", "--stop_after=2"]
