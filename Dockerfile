# GreenLoop production image: built and started by the same scripts CI runs (deploy/bin/*).
#   docker build -t greenloop .
#   docker run --rm greenloop release   # once per release: migrate, reference data
#   docker run -p 8000:8000 greenloop   # web (default); `greenloop worker` for the job worker
# The base is pinned by digest so a rebuild gets the same system; refresh it deliberately with
#   docker buildx imagetools inspect python:3.13-slim-bookworm
# and pass --build-arg PYTHON_IMAGE=python:3.13-slim-bookworm@sha256:<new digest>.
ARG PYTHON_IMAGE=python:3.13-slim-bookworm@sha256:fcbd8dfc2605ba7c2eca646846c5e892b2931e41f6227985154a596f26ab8ed7

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md requirements.lock manage.py ./
COPY backend ./backend
COPY api ./api
COPY accounts ./accounts
COPY geo ./geo
COPY sorting ./sorting
COPY stats ./stats
COPY rewards ./rewards
COPY kiosks ./kiosks
COPY demo ./demo
COPY deploy/bin ./deploy/bin
# Every locked dependency ships a wheel for this platform, so the build needs no compiler either.
RUN VENV=/opt/greenloop STATIC_ROOT=/opt/greenloop-static deploy/bin/build /src \
 && cp -r deploy/bin /opt/greenloop/deploy

FROM ${PYTHON_IMAGE}
# A CJK font for the Chinese names on printed bin labels; nothing else beyond the base.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 greenloop \
 && mkdir -p /data/media && chown -R greenloop:greenloop /data
COPY --from=build /opt/greenloop /opt/greenloop
COPY --from=build /opt/greenloop-static /opt/greenloop-static

ENV PATH=/opt/greenloop/bin:/opt/greenloop/deploy:$PATH \
    VENV=/opt/greenloop \
    STATIC_ROOT=/opt/greenloop-static \
    MEDIA_ROOT=/data/media \
    GREENLOOP_DATA_DIR=/data \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WEB_CONCURRENCY=4 \
    DATABASE_POOL=1 \
    PORT=8000

# Uploaded photos: a volume writable by the unprivileged user (or an object store; see docs).
VOLUME ["/data"]
USER greenloop
WORKDIR /home/greenloop
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["healthcheck"]
CMD ["web"]
