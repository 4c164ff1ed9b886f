# One image for every Dangan service: Airflow components, Celery workers and the review app.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    DANGAN_HOME=/data/dangan \
    # OCR engines must not spread over cores: parallelism comes from Celery worker slots.
    OMP_NUM_THREADS=1

# OCR, PDF/A and the fonts the text layer and synthetic scans need; curl for health checks.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-osd \
        ghostscript unpaper qpdf pngquant poppler-utils \
        fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming fonts-wqy-zenhei \
        libgl1 libglib2.0-0 curl \
    && rm -rf /var/lib/apt/lists/*

# uid 50000, group 0: the convention of the official Airflow image, so volumes made for it fit.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home dangan \
    && mkdir -p /data/dangan /opt/airflow/logs \
    && chown -R 50000:0 /data/dangan /opt/airflow

WORKDIR /opt/dangan
COPY pyproject.toml constraints.txt README.md ./
COPY pipeline ./pipeline
COPY schemas ./schemas
COPY classifiers ./classifiers
COPY review ./review
# The `airflow` extra brings the Celery provider and a celery it works with (constraints.txt);
# Airflow's metadata and the catalogue both use psycopg 3 from the package's own dependencies.
RUN pip install -c constraints.txt ".[airflow]"
COPY dags ./dags

USER 50000
