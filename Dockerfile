# GreenLoop production image: several uvicorn workers behind a load balancer.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WEB_CONCURRENCY=4 \
    DATABASE_POOL=1

# A CJK font for the Chinese names on printed bin labels.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 greenloop
WORKDIR /app

COPY pyproject.toml README.md requirements.lock ./
COPY backend ./backend
COPY api ./api
COPY rewards ./rewards
COPY kiosks ./kiosks
COPY manage.py ./
RUN pip install --no-cache-dir -r requirements.lock . \
 && DEBUG=1 DATABASE_URL=postgres://unused/unused python manage.py collectstatic --noinput

USER greenloop
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# Forwarded headers are believed only from TRUSTED_PROXIES (the load balancers); unset, none are.
CMD ["sh", "-c", "if [ -n \"$TRUSTED_PROXIES\" ]; then set -- --proxy-headers --forwarded-allow-ips \"$TRUSTED_PROXIES\"; else set -- --no-proxy-headers; fi; exec uvicorn backend.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY} --lifespan off \"$@\""]
