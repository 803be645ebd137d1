# Baton: `baton` (the server) and `batonctl` (the admin CLI) in one image.
#   docker build -t baton .
#   docker run -e BATON_DATABASE_URL=postgres://user:pass@host:5432/baton -p 8080:8080 baton
# The image holds no PostgreSQL server, so the embedded cluster is not available here:
# always point BATON_DATABASE_URL at a database (docker-compose.yml does).

ARG SWIFT_VERSION=6.3

# ---- build ---------------------------------------------------------------------------------
FROM swift:${SWIFT_VERSION}-bookworm AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, so this layer stays cached until Package.swift or Package.resolved
# changes. Package.resolved is optional (it is not committed); when present it is honoured.
COPY Package.* ./
RUN swift package resolve \
        $([ -f Package.resolved ] && echo --force-resolved-versions || true)

COPY . .
RUN swift build -c release --product baton
RUN swift build -c release --product batonctl
RUN mkdir /staging \
    && cp "$(swift build -c release --show-bin-path)/baton" /staging/ \
    && cp "$(swift build -c release --show-bin-path)/batonctl" /staging/

# ---- runtime -------------------------------------------------------------------------------
FROM debian:bookworm-slim

# libpq5: the PostgreSQL client library; tzdata: regional business hours need time zones.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends ca-certificates libpq5 libstdc++6 tzdata \
    && rm -rf /var/lib/apt/lists/*

# The Swift runtime (stdlib, Concurrency, Dispatch, Foundation) from the toolchain that built the
# binaries, at the same path the binaries' RUNPATH names; swift-backtrace symbolicates crashes.
COPY --from=build /usr/lib/swift/linux/*.so /usr/lib/swift/linux/
COPY --from=build /usr/libexec/swift/linux/ /usr/libexec/swift/linux/
RUN echo /usr/lib/swift/linux > /etc/ld.so.conf.d/swift.conf && ldconfig

COPY --from=build /staging/baton /staging/batonctl /usr/local/bin/

# Fail the image build, not the first start, if a shared library is missing.
RUN ! ldd /usr/local/bin/baton /usr/local/bin/batonctl | grep 'not found'

RUN useradd --system --user-group --create-home --home-dir /var/lib/baton --shell /usr/sbin/nologin baton
USER baton:baton
WORKDIR /var/lib/baton

ENV BATON_HOST=0.0.0.0 \
    BATON_PORT=8080 \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no

EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["baton"]
CMD ["serve"]
