"""The report machinery of `specbias report`: the agreement report (build), its computations (data), its
figures (figures, figure_blocks) and the document model and file writer (document)."""
