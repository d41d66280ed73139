"""Synthetic, dirty departmental deliveries in the shape of shared/spec/feeds.md, with ground truth.

    from pipelines.lib.generator import generate
    summary = generate(20_000, seed=1, out=Path("var/landing"))
"""

from pipelines.lib.generator.core import DeliverySummary, GenerationSummary, generate, month_ends
from pipelines.lib.generator.defects import KINDS as DEFECT_KINDS

__all__ = ["DEFECT_KINDS", "DeliverySummary", "GenerationSummary", "generate", "month_ends"]
