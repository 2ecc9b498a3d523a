# syntax=docker/dockerfile:1
# Golden Path: one image for every role (api, worker, the migration job); the command picks it.
#   docker build -t goldenpath .
#   docker build -t goldenpath --build-arg TERRAFORM_VERSION=1.11.4 .   # with terraform:apply
# Nothing secret is needed to build it, and nothing secret is baked in: settings come from the
# environment or a mounted file (docs/deploy.md).

ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python3 -m venv /opt/goldenpath
COPY pyproject.toml README.md ./
COPY starter ./starter
COPY src ./src
RUN /opt/goldenpath/bin/pip install .

# Terraform is optional: only the terraform:apply action needs it. The archive is checked
# against HashiCorp's published SHA256SUMS before it is unpacked.
ARG TERRAFORM_VERSION=""
ARG TARGETARCH=amd64
COPY deploy/docker/fetch_terraform.py /tmp/
RUN if [ -n "$TERRAFORM_VERSION" ]; then \
      python3 /tmp/fetch_terraform.py "$TERRAFORM_VERSION" "$TARGETARCH" /opt/goldenpath/bin; \
    fi

FROM ${BASE_IMAGE}
# git: the local git backend and git:repo; tini: signals reach goldenpath, zombies are reaped.
# Not pinned: the base's Debian release fixes the versions, and a rebuild takes its security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git tini \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 goldenpath \
    && useradd --system --uid 10001 --gid goldenpath --home-dir /var/lib/goldenpath \
       --create-home --shell /usr/sbin/nologin goldenpath \
    && mkdir -p /etc/goldenpath
COPY --from=build /opt/goldenpath /opt/goldenpath
ENV PATH=/opt/goldenpath/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GOLDENPATH_DATA_DIR=/var/lib/goldenpath \
    GOLDENPATH_HOST=0.0.0.0 \
    GOLDENPATH_PORT=8000
USER 10001:10001
WORKDIR /var/lib/goldenpath
VOLUME ["/var/lib/goldenpath"]
EXPOSE 8000
ENTRYPOINT ["/usr/bin/tini", "--", "goldenpath"]
CMD ["api"]
