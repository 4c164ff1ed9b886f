"""Archive stage: PDF/A files, names, archive numbers and fixity for finished documents."""
