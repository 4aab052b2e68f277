"""One PNG of a metric against the swept keys: lines, a heatmap, or scatter plots."""

import math
from collections import defaultdict
from typing import Any, Sequence

from matplotlib.figure import Figure

_MAX_LINE_VALUES = 12


def _number(value: Any):
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    return None
  return float(value) if math.isfinite(value) else None


def _label(key: str) -> str:
  return key[len("config."):] if key.startswith("config.") else key


def _sorted_values(values) -> list:
  """Distinct values, numbers in numeric order before everything else in text order."""
  distinct = list(dict.fromkeys(values))
  return sorted(distinct, key=lambda v: (0, _number(v), "") if _number(v) is not None
                else (1, 0.0, repr(v)))


def _axis(ax, values, key: str):
  """Positions for `values` on the x axis: numeric (log if they span >= 10x) or categorical."""
  nums = [_number(v) for v in values]
  if all(n is not None for n in nums):
    if min(nums) > 0 and max(nums) / min(nums) >= 10:
      ax.set_xscale("log")
    ticks = sorted(set(nums))
    if len(ticks) <= _MAX_LINE_VALUES:
      ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
      ax.minorticks_off()
    ax.set_xlabel(_label(key))
    return _number
  order = _sorted_values(values)
  ax.set_xticks(range(len(order)), [str(v) for v in order])
  ax.set_xlabel(_label(key))
  return order.index


def choose_kind(rows: Sequence[dict], keys: Sequence[str]) -> str:
  distinct = [len(set(map(repr, (r.get(k) for r in rows)))) for k in keys]
  if len(keys) == 2 and distinct[0] * distinct[1] == len(rows) and min(distinct) > 1:
    return "heatmap"
  if all(d <= _MAX_LINE_VALUES for d in distinct):
    return "lines"
  return "scatter"


def plot_metric(rows: Sequence[dict], keys: Sequence[str], metric: str, path: str,
                kind: str = "auto") -> bool:
  """Plots `metric` of `rows` against `keys` into `path`; False if there is nothing to plot."""
  rows = [r for r in rows if _number(r.get(metric)) is not None]
  if not rows or not keys:
    return False
  if kind == "auto":
    kind = choose_kind(rows, keys)
  if kind == "heatmap" and len(keys) != 2:
    raise ValueError(f"A heatmap needs exactly 2 swept keys; got {list(keys)}.")
  fig = Figure(figsize=(6.4 if kind != "scatter" else 4.0 * len(keys), 4.8))
  if kind == "heatmap":
    _heatmap(fig, rows, keys, metric)
  elif kind == "lines":
    _lines(fig, rows, keys, metric)
  elif kind == "scatter":
    _scatter(fig, rows, keys, metric)
  else:
    raise ValueError(f"Unknown plot kind {kind!r}.")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  return True


def _lines(fig, rows, keys, metric):
  """`metric` against the first key; one line per combination of the other keys."""
  ax = fig.add_subplot()
  x_key, rest = keys[0], keys[1:]
  groups = defaultdict(list)
  for r in rows:
    groups[tuple(r.get(k) for k in rest)].append(r)
  position = _axis(ax, [r.get(x_key) for r in rows if r.get(x_key) is not None], x_key)
  for label in _sorted_values(groups):
    points = sorted((position(r[x_key]), _number(r[metric])) for r in groups[label]
                    if r.get(x_key) is not None)
    if points:
      xs, ys = zip(*points)
      name = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(rest, label)) or None
      ax.plot(xs, ys, marker="o", label=name)
  ax.set_ylabel(metric)
  ax.grid(alpha=0.3)
  if rest:
    ax.legend(fontsize="small")


def _heatmap(fig, rows, keys, metric):
  ax = fig.add_subplot()
  xs = _sorted_values(r.get(keys[0]) for r in rows)
  ys = _sorted_values(r.get(keys[1]) for r in rows)
  cells = defaultdict(list)
  for r in rows:
    cells[(xs.index(r.get(keys[0])), ys.index(r.get(keys[1])))].append(_number(r[metric]))
  grid = [[float("nan")] * len(xs) for _ in ys]
  for (i, j), vals in cells.items():
    grid[j][i] = sum(vals) / len(vals)
  image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
  fig.colorbar(image, ax=ax, label=metric)
  low, high = image.get_clim()
  for j, line in enumerate(grid):
    for i, v in enumerate(line):
      if not math.isnan(v):
        bright = high > low and (v - low) / (high - low) > 0.6   # viridis is light at the top
        ax.text(i, j, f"{v:.3g}", ha="center", va="center", fontsize="small",
                color="black" if bright else "white")
  ax.set_xticks(range(len(xs)), [str(v) for v in xs])
  ax.set_yticks(range(len(ys)), [str(v) for v in ys])
  ax.set_xlabel(_label(keys[0]))
  ax.set_ylabel(_label(keys[1]))


def _scatter(fig, rows, keys, metric):
  """One panel per key: random searches, where values rarely repeat."""
  for n, key in enumerate(keys):
    ax = fig.add_subplot(1, len(keys), n + 1)
    points = [r for r in rows if r.get(key) is not None]
    position = _axis(ax, [r[key] for r in points], key)
    ax.scatter([position(r[key]) for r in points], [_number(r[metric]) for r in points])
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
