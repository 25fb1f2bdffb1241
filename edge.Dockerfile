# The edge app (/api/contact, /api/chat, /api/portal) for `hosting: netlify`, where Netlify proxies
# /api/* to edge.origin. Build from the repository root:
#   docker build -f edge.Dockerfile -t sitegen-edge .
#   docker run -p 8080:8080 --env-file edge.env sitegen-edge
# The image builds the site to get the handlers' data (dist/_edge/) from the same site.yaml and
# content as the static deploy, then runs `python -m edge` (the edge's production logging).
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SITEGEN_LOCAL_DIR=/tmp/sitegen-local
WORKDIR /srv/site
COPY . .
# The locked versions, hash-checked (requirements/runtime.txt is uv.lock's export), then the project
# itself without resolving anything.
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt \
    && pip install --no-cache-dir --no-deps . \
    && sitegen build --quiet --jobs 1 && rm -rf .sitegen-cache
USER nobody
EXPOSE 8080
CMD ["python", "-m", "edge", "--host", "0.0.0.0", "--port", "8080"]
