"""Stage 11: what leaves the system — the delivery package an agency accepts, and its acceptance check.

`package` builds a BagIt bag (PDF/A per record, catalogue sheets, METS with PREMIS events, QC evidence)
from the catalogue; `accept` checks a package as the receiving archive would, naming every problem.
"""
