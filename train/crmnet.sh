# Sourced by the training scripts (from the repository root): `crmnet` runs the command line
# through `cargo run --release`, or CRMNET_BIN when set, a built binary that does not wait while
# another build holds the target folder.
crmnet() { if [ -n "${CRMNET_BIN:-}" ]; then "$CRMNET_BIN" "$@"; else cargo run --release --quiet -- "$@"; fi; }
