"""Put gcnet's layers into an existing Flax model without rewriting it.

    gated = insert_gc(model, after="conv1", example=x[:1], rngs=nnx.Rngs(1))    # NNX
    gated = GatedAt(model=MyLinenCNN(), after="Conv_0", example_shape=(28, 28, 1))  # Linen

Both give the loss its named unweighted terms and the runtime a `StagedModel` (front / back at the
insertion point) for `StagedRunner`, calibration, `deployment_costs` and the exports. See
docs/guide/.
"""

from gcnet.insert.linen_insert import GatedAt
from gcnet.insert.nnx_insert import GatedAfter, NNXInsertion, NNXStages, insert_dsl, insert_gc
from gcnet.insert.report import format_gate_report, gate_report
from gcnet.insert.terms import DSL_TERMS, GC_TERMS, dsl_terms, gc_terms
