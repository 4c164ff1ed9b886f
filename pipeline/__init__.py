"""Dangan's stages as plain functions; nothing here imports Airflow."""
