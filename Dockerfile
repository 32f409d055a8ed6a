# faqbot: the Telegram bot in a slim image. Build:  docker build -t faqbot .
# Run:  docker run -d --name faqbot -e TELEGRAM_BOT_TOKEN=... -e FAQBOT_ADMIN_IDS=... \
#         -v faqbot-data:/data --restart unless-stopped faqbot

# --- build stage: install the package and its dependencies into a virtualenv --------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/faqbot
WORKDIR /src
COPY pyproject.toml README.md ./
COPY faqbot ./faqbot
RUN /opt/faqbot/bin/pip install --no-compile .

# --- runtime stage: the virtualenv, the knowledge base, a non-root user ---------------------------
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/faqbot/bin:$PATH \
    FAQBOT_DATA_DIR=/data \
    FAQBOT_KNOWLEDGE_DIR=/app/knowledge \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin faqbot \
    && mkdir -p /data /app \
    && chown faqbot:faqbot /data
COPY --from=build /opt/faqbot /opt/faqbot
COPY knowledge /app/knowledge
WORKDIR /app
# Refuse to build an image whose knowledge base does not validate.
RUN faqbot validate
USER faqbot
# The question log (SQLite) and the generated pseudonymisation secret live here.
VOLUME ["/data"]
# Only used in webhook mode: faqbot run --webhook-url https://... --listen 0.0.0.0 --port 8443
EXPOSE 8443
# On SIGTERM (docker stop's signal) faqbot run exits within FAQBOT_SHUTDOWN_SECONDS (8; docker
# waits 10 before it kills): what it did not finish stays in the inbox for the next start.
STOPSIGNAL SIGTERM
ENTRYPOINT ["faqbot"]
CMD ["run"]
