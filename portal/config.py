"""Configuration: defaults → file named by MADOGUCHI_CONFIG → MADOGUCHI_* env → overrides.

A portal holding health records must not start on guessed settings, so outside an explicit
development mode the required keys are checked and a one-line error names what is missing.
"""
from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "MADOGUCHI_"

DEFAULTS: dict[str, Any] = {
    "ENV": "production",
    "SECRET_KEY": None,
    "DATABASE_URL": None,
    # PEM files of the JPKI user-authentication CA certificates the portal trusts.
    "CARD_TRUST_ANCHORS": [],
    # JPKI signing CA certificates: enables first-use enrollment by the signing certificate.
    "CARD_SIGNING_TRUST_ANCHORS": [],
    # CRL files or URLs (partitioned CRLs welcome). Indexed at start-up when no index exists;
    # afterwards `madoguchi card refresh-crls` (cron, and after publishing a CRL) refreshes them.
    "CARD_CRLS": [],
    # Where the CRL indexes live, shared by every worker (default <instance>/crl-index).
    "CARD_CRL_INDEX_DIR": None,
    # An OCSP responder asked beside the CRLs (J-LIS gives access to certified relying
    # parties); either source that vouches is enough, either that says revoked refuses.
    "CARD_OCSP_URL": None,
    "CARD_OCSP_TIMEOUT_S": 5.0,   # seconds, fractions allowed
    # Missing or stale revocation data (no fresh CRL, no OCSP answer) refuses sign-in unless
    # an operator says otherwise.
    "CARD_CRL_SOFT_FAIL": False,
    "CARD_BRIDGE_URL": "http://127.0.0.1:35980",
    # The oldest card bridge (madoguchi-bridge) this portal works with: an older one is told
    # to update.  The folder of bridge packages the help page offers (with their SHA-256),
    # and how long the sign-in page waits for a bridge started through its URL scheme.
    "CARD_BRIDGE_MIN_VERSION": "1.0.0",
    "CARD_BRIDGE_DOWNLOADS": None,
    "CARD_BRIDGE_LAUNCH_WAIT_S": 8,
    # Folder for the embedded SQLite database and the demo's PKI and cards (default instance/).
    "INSTANCE_PATH": None,
    # Folder of the cities' logos and seal images named in their settings (default
    # <instance>/city-assets); references outside it are refused.
    "CITY_ASSETS_DIR": None,
    # The origin residents see (https://host[:port]); behind a proxy it must be configured.
    "PUBLIC_ORIGIN": None,
    # Every JSON body is refused beyond these (413 / 400): nothing a parser could choke on.
    "JSON_MAX_BYTES": 256 * 1024,
    "JSON_MAX_DEPTH": 32,
    "AUTH_RATE_LIMIT": "30/minute",
    "AUTH_CERT_RATE_LIMIT": "10/minute",
    # Staff password sign-in: per address, per account (city + user name), per city.
    "STAFF_LOGIN_RATE_LIMIT": "10/minute",
    "STAFF_LOGIN_ACCOUNT_RATE_LIMIT": "10/minute",  # above the lockout (5), which governs first
    "STAFF_LOGIN_CITY_RATE_LIMIT": "60/minute",
    "RATE_LIMIT_STORAGE": "memory://",
    # Reverse proxies in front of the portal that may be believed about the client's address
    # and scheme (X-Forwarded-For/-Proto); 0 believes no header, so nobody can forge one.
    "TRUSTED_PROXIES": 0,
    # Kiosks: {"kiosk-id": {"municipality": "392049", "name": "…公民館"}}.
    "KIOSKS": {},
    # OpenID Connect provider (see docs/oidc.md).
    "OIDC_ISSUER": None,
    "OIDC_PAIRWISE_SECRET": None,
    "OIDC_KEY_DIR": None,
    # A new signing key is published this long before it signs (relying parties cache JWKS).
    "OIDC_KEY_PUBLISH_SECONDS": 86400,
    "OIDC_CODE_SECONDS": 120,
    "OIDC_TOKEN_SECONDS": 600,
    "OIDC_ID_TOKEN_SECONDS": 600,
    # Service plugins this deployment loads (None = every installed plugin).
    "SERVICES": None,
    "DEFAULT_LOCALE": "ja",
    "LOCALES": ["ja", "en"],
    "STAFF_MAX_FAILED_LOGINS": 5,
    "STAFF_LOCKOUT_MINUTES": 15,
    "SESSION_IDLE_MINUTES": 30,
    "KIOSK_IDLE_SECONDS": 120,
    "SESSION_ABSOLUTE_HOURS": 8,
    "HSTS_SECONDS": 63072000,
    # Shown on the resident's own access log; why the portal read a record.
    "ACCESS_LOG_PAGE_SIZE": 50,
}

REQUIRED = ("SECRET_KEY", "DATABASE_URL", "CARD_TRUST_ANCHORS")

# Keys whose environment value is a list (comma or os.pathsep separated) or a number.
_LIST_KEYS = {"CARD_TRUST_ANCHORS", "CARD_SIGNING_TRUST_ANCHORS", "CARD_CRLS", "SERVICES", "TSA_TRUST_ROOTS",
              "LOCALES"}
_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}
_BOOL_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}
_FLOAT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, float)}
_BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True,
               "0": False, "false": False, "no": False, "off": False, "": False}


class ConfigError(RuntimeError):
    """The configuration is unusable; the message is one line naming what is wrong."""


def load_config(overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Merge the configuration layers and validate the result."""
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    path = environ.get(ENV_PREFIX + "CONFIG")
    if path:
        config.update(_read_file(Path(path)))
    config.update(_from_environ(environ))
    if overrides:
        config.update({k.upper(): v for k, v in overrides.items()})
    validate(config)
    return config


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"設定ファイルを読めません / cannot read config file {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"設定ファイルの形式が不正です / malformed config file {path}: {exc}") from None
    return {k.upper(): v for k, v in data.items()}


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX):]
        if key in _LIST_KEYS:
            found[key] = [p for p in value.replace(os.pathsep, ",").split(",") if p.strip()]
        elif key in _INT_KEYS:
            try:
                found[key] = int(value)
            except ValueError:
                raise ConfigError(f"{name} は整数で指定してください / {name} must be an integer") from None
        elif key in _FLOAT_KEYS:
            try:
                found[key] = float(value)
            except ValueError:
                raise ConfigError(f"{name} は数で指定してください / {name} must be a number") from None
        elif key in _BOOL_KEYS:
            # "0" must not switch a safety off by being a non-empty string
            if value.strip().lower() not in _BOOL_WORDS:
                raise ConfigError(f"{name} は true か false で指定してください / {name} must be true or false")
            found[key] = _BOOL_WORDS[value.strip().lower()]
        else:
            found[key] = value
    return found


def is_development(config: Mapping[str, Any]) -> bool:
    return config.get("ENV") == "development"


def validate(config: dict[str, Any]) -> None:
    """Refuse to run on missing essentials outside development; fill dev defaults inside it."""
    if config["TRUSTED_PROXIES"] < 0:
        raise ConfigError("MADOGUCHI_TRUSTED_PROXIES は 0 以上で指定してください / "
                          "MADOGUCHI_TRUSTED_PROXIES must be 0 or more")
    if is_development(config):
        config.setdefault("SECRET_KEY", None)
        return
    missing = [ENV_PREFIX + key for key in REQUIRED if not config.get(key)]
    if not (config.get("OIDC_ISSUER") or config.get("PUBLIC_ORIGIN")):
        # The OIDC issuer must never come from a request's Host header.
        missing.append(f"{ENV_PREFIX}OIDC_ISSUER or {ENV_PREFIX}PUBLIC_ORIGIN")
    if missing:
        raise ConfigError("起動できません。設定が足りません / cannot start, missing settings: "
                          + ", ".join(missing))
    unreadable = [p for p in config["CARD_TRUST_ANCHORS"] if not Path(p).is_file()]
    if unreadable:
        raise ConfigError("カード信頼点の証明書がありません / card trust anchor not found: "
                          + ", ".join(map(str, unreadable)))
