"""openid-client (npm, by panva) as the relying party: the Python side of tests/oidc/rp.

Each step runs `node rp.mjs <command>` with one JSON request on stdin and reads one JSON
answer on stdout; the test keeps the state a relying party keeps in its session (PKCE
verifier, state, nonce) and, when it wants to, the relying party's JWKS cache."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

RP_DIR = Path(__file__).parent / "rp"


def install_rp() -> Path:
    """`npm ci` the pinned openid-client when node_modules is missing or older than the
    lock file (CI starts from a clean clone; `make install` does the same)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise RuntimeError("Node.js 20 and npm are needed for the OIDC relying-party tests")
    installed = RP_DIR / "node_modules" / ".package-lock.json"
    lock = RP_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(RP_DIR)],
                       check=True, capture_output=True, timeout=600)
    return RP_DIR / "rp.mjs"


@dataclass
class OpenIdClient:
    """One registered client as openid-client plays it."""
    script: Path
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    auth: str = "basic"  # client_secret_basic; "post" for client_secret_post
    jwks_cache: dict | None = field(default=None, repr=False)

    def run(self, command: str, **request) -> dict:
        payload = {"issuer": self.issuer, "client_id": self.client_id,
                   "client_secret": self.client_secret, "auth": self.auth,
                   "jwks_cache": self.jwks_cache, **request}
        done = subprocess.run(["node", str(self.script), command], input=json.dumps(payload),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        self.jwks_cache = answer.pop("jwks_cache", None) or self.jwks_cache
        return answer

    def ok(self, command: str, **request) -> dict:
        answer = self.run(command, **request)
        assert "error" not in answer, answer["error"]
        return answer

    def authorize(self, scope="openid profile", **params) -> dict:
        """The authorization request; its answer holds the url and the session state."""
        return self.ok("authorize", scope=scope, redirect_uri=self.redirect_uri, params=params)

    def grant(self, request: dict, callback_url: str, userinfo=True, **checks) -> dict:
        return self.run("grant", url=callback_url, code_verifier=request["code_verifier"],
                        state=request["state"], nonce=request["nonce"], userinfo=userinfo,
                        **checks)


def path_of(url: str) -> str:
    """The path and query of a provider URL, for the Flask test client."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
