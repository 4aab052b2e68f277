"""How the loop groups its steps into calls of the jitted step (`config.train.steps_per_call`)."""


def call_sizes(start_step: int, end_step: int, steps_per_call: int, every: tuple[int, ...],
               ) -> list[int]:
  """The number of steps of each call from `start_step` (done) to `end_step`.

  A call runs `steps_per_call` (k) steps when no step that must end a call (a positive multiple of
  one of `every`: logging, evaluation, checkpoints; or `end_step`) falls strictly inside it, and a
  single step otherwise; so every such step ends a call, whatever k, and a run resumed from any
  checkpoint plans the same calls as the run it continues.

  Returns:
    A list of sizes, each `1` or `steps_per_call`, summing to `end_step - start_step`.
  """
  if steps_per_call < 1:
    raise ValueError(f"config.train.steps_per_call={steps_per_call}; use a positive integer.")
  every = tuple(e for e in every if e and e > 0)
  sizes, step = [], start_step
  while step < end_step:
    nxt = min([end_step] + [(step // e + 1) * e for e in every])
    n = steps_per_call if nxt - step >= steps_per_call else 1
    sizes.append(n)
    step += n
  return sizes
