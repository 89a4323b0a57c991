# `dlwatch serve` in a container, built from this checkout: docker build -t dlwatch .
# (No package index has dlwatch; installing whatever someone publishes under that name would run
# their code, so the image installs the source it is built from.) docs/serve.md says how to run it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
# keyrings.alt: a container has no OS keyring; its file keyring lives in the volume (plaintext,
# protected by the volume's permissions; DLWATCH_<CLIENT>_PASSWORD variables need none).
RUN pip install . keyrings.alt && rm -rf /build

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin dlwatch \
    && mkdir /data && chown dlwatch:dlwatch /data && chmod 0700 /data
USER dlwatch
WORKDIR /data
ENV DLWATCH_HOME=/data \
    XDG_DATA_HOME=/data/.local/share \
    PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring
VOLUME /data
EXPOSE 9797

# Healthy while serve answers its summary: 200 with the read token (DLWATCH_SERVE_READ_TOKEN), or a
# 401 when the token is kept in the keyring instead (it answered; it only would not tell us more).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["python", "-c", "import os, urllib.error, urllib.request as u\ntoken = os.environ.get('DLWATCH_SERVE_READ_TOKEN', '')\nrequest = u.Request('http://127.0.0.1:9797/api/v1/summary', headers={'Authorization': 'Bearer ' + token})\ntry:\n    u.urlopen(request, timeout=4)\nexcept urllib.error.HTTPError as exc:\n    raise SystemExit(exc.code != 401)\n"]

CMD ["dlwatch", "serve", "--bind", "0.0.0.0:9797"]
