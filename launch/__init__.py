"""Launchers for gcnet experiments and the sweep runner.

  python -m launch.local         one process (real devices or N simulated CPU devices)
  python -m launch.multiprocess  N processes on this machine forming one JAX runtime
  python -m launch.tpu_vm        gcloud commands for a Cloud TPU VM (pod slice)
  python -m launch.slurm         an sbatch script for a SLURM GPU cluster
  python -m launch.sweep         expand an experiment's `get_sweep(hyper)`, run, aggregate

See docs/launching.md.
"""
