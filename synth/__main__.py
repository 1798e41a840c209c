"""`python -m synth`: see synth.cli."""

import sys

from synth.cli import main

sys.exit(main())
