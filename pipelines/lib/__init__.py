"""Pure, Dagster-free logic used by the pipeline and the generator."""
