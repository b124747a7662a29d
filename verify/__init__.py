"""specbias verify: agreement between theory and numerics, departure flags and reports."""
