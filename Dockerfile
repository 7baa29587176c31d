FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY service ./service
COPY frontend ./frontend
RUN pip install --no-cache-dir -e .
# The app runs as an unprivileged user that can write only its own data folder (uploads,
# the SQLite file of a single-machine setup); the code stays read-only to it.
RUN groupadd --system --gid 10001 civic \
    && useradd --system --uid 10001 --gid civic --home-dir /app --no-create-home civic \
    && mkdir -p /app/var \
    && chown civic:civic /app/var
USER civic:civic
EXPOSE 8000
CMD ["uvicorn", "--factory", "service.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
