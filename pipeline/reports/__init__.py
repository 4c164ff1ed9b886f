"""Reports people look at rather than read: the batch QC report (HTML and PDF) and the yearly statistics."""
