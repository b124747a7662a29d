"""The local-convolution study (registry architectures conv2d, local2d): the models and bases (analysis),
the mechanism stated by the data across data sets (mechanism), and the report section (report,
mechanism_report, figures)."""
