"""Training: mesh and shardings, train state, objective, jitted step, loop, checkpoints."""
