# psveval's image: a static binary and CA certificates, nothing else.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t registry.example/psveval:$(git describe --tags --always) .
FROM golang:1.26 AS build
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/psveval/psveval/eval/rundir.Version=${VERSION}" \
      -o /out/psveval ./cmd/psveval

FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="psveval" org.opencontainers.image.version="${VERSION}"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/psveval /psveval
# The judgment cache and any run directory go on mounted volumes
# (XDG_CACHE_HOME, --out); HOME is set so the default cache has a home.
ENV HOME=/tmp
USER 65532:65532
ENTRYPOINT ["/psveval"]
