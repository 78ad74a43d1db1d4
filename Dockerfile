# One image for the web server (the default command), the Celery worker and Celery beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SAYPRO_VAR_DIR=/app/var \
    SAYPRO_MEDIA_ROOT=/data/media

WORKDIR /app

# Dependencies first: this layer is reused until requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

RUN groupadd --system --gid 10001 saypro \
    && useradd --system --uid 10001 --gid saypro --home-dir /app --shell /usr/sbin/nologin saypro

# The code stays owned by root: the application user can read it, not change it.
COPY . .

# Static files are collected into the image; WhiteNoise serves them. The key only lets settings load here.
RUN DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=localhost \
        DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var /data/media \
    && chown -R saypro:saypro /app/var /data/media

USER saypro
EXPOSE 8000

CMD ["gunicorn", "--config", "scripts/gunicorn_config.py", "saypro.wsgi"]
