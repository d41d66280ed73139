"""popbase: the population base information pipeline (人口基础信息库)."""
