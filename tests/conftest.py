"""Load our Hypothesis profile (ci/dev/thorough, see verify.profiles) on top of Hypothesis's own."""
from verify import profiles

profiles.load()
