"""The local-convolution study (registry architectures conv2d, local2d): the mechanism (analysis) and its
report section (report, figures)."""
