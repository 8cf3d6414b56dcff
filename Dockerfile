# polyops in a container, for CI jobs (docs/ci.md):
#
#   docker build -t polyops .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" -e EXT_201_PASSWORD polyops plan
#
# Two stages: the release build on the Rust toolchain polyops is built and
# tested with, then only the binary on a slim Debian with the CA
# certificates (ftps:// targets trust the system store unless a site sets
# target.ca_file), git (`--changed-since` asks git what changed) and curl
# (a CI job posts the plan as a merge-request comment with it).
# `.ci/image-check` builds this file with buildah and runs polyops in it.

# The toolchain is pinned to the version the tests run on; Cargo.toml's
# rust-version is the oldest that builds polyops.
FROM docker.io/library/rust:1.95.0-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# --locked: exactly the dependencies of Cargo.lock, or fail.
RUN cargo build --release --locked \
 && install -m 755 target/release/polyops /usr/local/bin/polyops

FROM docker.io/library/debian:bookworm-slim
# safe.directory: a checkout mounted into the container belongs to another
# user, and git refuses to read such a repository unless told it is safe.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl git \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory '*' \
 && useradd --uid 10001 --user-group --create-home --home-dir /home/polyops --shell /usr/sbin/nologin polyops \
 && install -d -o polyops -g polyops /work
COPY --from=build /usr/local/bin/polyops /usr/local/bin/polyops
# Never root: polyops needs no privilege, and a CI job's checkout is
# writable for any user (GitLab's runner checks out with umask 0000).
USER polyops
WORKDIR /work
ENTRYPOINT ["polyops"]
CMD ["--help"]
