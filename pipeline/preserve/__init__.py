"""Keeping the archive for its retention period: backups, fixity over time, appraisal and destruction."""
