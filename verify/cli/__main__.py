"""`python -m verify.cli ...`: the `specbias` command."""
import sys

from verify.cli import main

sys.exit(main())
