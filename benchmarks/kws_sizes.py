"""Per-size compute of the keyword spotter: parameters and FLOPs of front, gate and back, and the
saving a perfect gate allows.

  python benchmarks/kws_sizes.py [--sizes=tiny,medium,dscnn_s,small] [--keyword_share=0.2]

For each size of `gcnet.models.kws.KWS_DSCNN_SIZES` in the configuration of
`experiments/fsdd_kws_gc.py` (1 s windows at 8 kHz), XLA's per-window FLOPs of each part
(`gcnet.eval.compute.stage_costs`, the canonical convolutions), the front's share of the total, and
the saving of a perfect gate (it passes exactly the keyword windows) when a `keyword_share` of the
windows hold a keyword: `total / (front + gate + share * back)`; `--keyword_share` takes several
values (the FSDD test splits have 0.24 keyword windows; an always-on stream far fewer). No training:
FLOPs and parameters do not depend on the weights. Prints a table and writes JSON (`--out`).
"""

import argparse
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def size_costs(size: str) -> dict:
  import jax
  import jax.numpy as jnp
  from experiments import fsdd_kws_gc
  from gcnet import models
  from gcnet.eval import compute
  config = fsdd_kws_gc.get_config()
  with config.unlocked():
    config.model.size = size
  window = int(config.data.window_seconds * config.data.sample_rate)
  model = models.build(config.model, 4)
  example = jnp.zeros((1, window), jnp.float32)
  params = jax.eval_shape(lambda: model.init(jax.random.key(0), example))["params"]
  return compute.stage_costs(model, params, jax.ShapeDtypeStruct((1, window), jnp.float32))


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--sizes", default="tiny,medium,dscnn_s,small")
  p.add_argument("--keyword_share", default="0.24,0.05")
  p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "kws_sizes.json"))
  args = p.parse_args(argv)
  shares = [float(x) for x in args.keyword_share.split(",")]
  rows = {}
  for size in args.sizes.split(","):
    c = size_costs(size)
    parts = c["parts"]
    front, gate, back = (parts[k]["flops_xla"] for k in ("front", "gate", "back"))
    total = front + gate + back
    rows[size] = {
        "params": {k: parts[k]["params"] for k in parts} | {"total": c["total"]["params"]},
        "flops": {"front": front, "gate": gate, "back": back, "total": total},
        "front_share": (front + gate) / total,
        "z_shape": c["z_shapes"][0],
        "perfect_gate_saving": {str(s): total / (front + gate + s * back) for s in shares},
        "bound_saving": total / (front + gate),
    }
  print(f"{'size':10s} {'params':>8s} {'front p':>8s} {'back p':>8s} {'MFLOPs':>8s} "
        f"{'front':>7s} {'back':>7s} {'front %':>8s} "
        + " ".join(f"{'save@' + str(s):>9s}" for s in shares) + f" {'bound':>7s}")
  for size, r in rows.items():
    f = r["flops"]
    print(f"{size:10s} {r['params']['total']:8d} {r['params']['front'] + r['params']['gate']:8d} "
          f"{r['params']['back']:8d} {f['total'] / 1e6:8.2f} {f['front'] / 1e6:7.2f} "
          f"{f['back'] / 1e6:7.2f} {100 * r['front_share']:7.1f}% "
          + " ".join(f"{r['perfect_gate_saving'][str(s)]:8.2f}x" for s in shares)
          + f" {r['bound_saving']:6.2f}x")
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as fh:
    json.dump({"command": "python " + " ".join([os.path.relpath(sys.argv[0], REPO)]
                                                + sys.argv[1:]), "sizes": rows}, fh, indent=2)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
