"""Write synthetic raw NBA tables as Parquet (moved to the synth package: python -m synth)."""

from synth.cli import add_arguments, run  # noqa: F401
from synth.pipeline import generate  # noqa: F401
