"""HEAT v2 API (sessions_app)."""

from .environment import env

# Prefixes of platform configuration that non-admins may read (CONTRACT §2).
PUBLIC_CONFIG_PREFIXES = env.list("PUBLIC_CONFIG_PREFIXES", default=["public_api_v1"])
HEAT_MAX_UPLOAD_BYTES = env.int("HEAT_MAX_UPLOAD_BYTES", default=5 * 1024**3)
# Read and write uploads in pieces of this size (never the whole body in memory).
HEAT_UPLOAD_CHUNK_BYTES = env.int("HEAT_UPLOAD_CHUNK_BYTES", default=1024 * 1024)
