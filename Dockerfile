# Tarian in a container: a static binary (pure Go: SQLite, the event store
# and the bus are compiled in) on a distroless base, run as a non-root user
# with its data in the /data volume. Build:
#
#	docker build --build-arg VERSION=$(git describe --tags --always) \
#	  --build-arg COMMIT=$(git rev-parse --short=12 HEAD) \
#	  --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t tarian .
#	docker run -p 8080:8080 -v tarian-data:/data tarian
#
# See docs/operations.md ("Packaging").

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
ARG BUILD_DATE=
RUN CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X github.com/tarian-soc/tarian/internal/buildinfo.Version=${VERSION} -X github.com/tarian-soc/tarian/internal/buildinfo.Commit=${COMMIT} -X github.com/tarian-soc/tarian/internal/buildinfo.BuildDate=${BUILD_DATE}" \
	-o /out/tarian ./cmd/tarian \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tarian /usr/local/bin/tarian
# nonroot is uid and gid 65532 in the distroless image.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
# The API and console; add the receivers' ports your configuration opens
# (syslog 6514/TLS, 1514, HEC 8088, OTLP 4317/4318, Lumberjack 5044,
# Forward 24224).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tarian"]
CMD ["serve", "--data", "/data", "--listen", "0.0.0.0:8080"]
