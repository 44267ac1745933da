"""Settings from the environment, with embedded defaults so `make run` needs no services.

Embedded default: a SQLite file under instance/, Redis replaced in-process by fakeredis and jobs run synchronously.
Production: DATABASE_URL (postgresql+psycopg://…) and REDIS_URL.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


MIN_SECRET_KEY_BYTES = 32  # HS256 keys: at least the hash's own length (RFC 7518 §3.2)


def checked_secret_key(value: str) -> str:
    """An explicitly set SECRET_KEY signs every token: a short one can be brute-forced offline from any token."""
    if len(value.encode()) < MIN_SECRET_KEY_BYTES:
        raise RuntimeError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes (e.g. `python -c "
                           "'import secrets; print(secrets.token_urlsafe(48))'`)")
    return value


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/ (embedded mode only).

    Persisting it keeps tokens valid across restarts of `make run`; production sets SECRET_KEY explicitly.
    """
    if os.environ.get("SECRET_KEY"):
        return checked_secret_key(os.environ["SECRET_KEY"])
    if os.environ.get("DATABASE_URL"):
        raise RuntimeError("SECRET_KEY must be set when DATABASE_URL is (production mode)")
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    """Read at app creation; every value can be overridden by the environment."""

    def __init__(self) -> None:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        self.SECRET_KEY = _secret_key()
        # Fernet keys (comma-separated, the first encrypts) for institutions' secrets at rest; unset: from SECRET_KEY.
        self.SECRETS_ENCRYPTION_KEY = os.environ.get("SECRETS_ENCRYPTION_KEY") or None
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'medins.sqlite3'}"
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "medins:")
        # Without a real Redis there is no worker, so jobs run inline in the request.
        self.JOBS_SYNCHRONOUS = _flag("JOBS_SYNCHRONOUS", default=self.REDIS_URL is None)
        # A worker heartbeats its job every JOB_HEARTBEAT_SECONDS; a job unheard of for JOB_ABANDONED_AFTER_SECONDS
        # more is abandoned (its worker died) and runs again (backend.jobs.recovery).
        self.JOB_HEARTBEAT_SECONDS = _int("JOB_HEARTBEAT_SECONDS", 5)
        self.JOB_ABANDONED_AFTER_SECONDS = _int("JOB_ABANDONED_AFTER_SECONDS", 20)
        self.DEV_LOGIN = _flag("DEV_LOGIN")
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
        # json: one object per line for a log shipper (production); text: plain lines for a terminal.
        self.LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
        # When set, GET /metrics wants it as a Bearer token (else restrict /metrics at the proxy, deploy/nginx).
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None

        self.JWT_ISSUER = os.environ.get("JWT_ISSUER", "medins-backend")
        self.PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
        self.ACCESS_TOKEN_TTL_SECONDS = _int("ACCESS_TOKEN_TTL_SECONDS", 900)
        self.REFRESH_TOKEN_TTL_SECONDS = _int("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600)
        self.BIND_TOKEN_TTL_SECONDS = _int("BIND_TOKEN_TTL_SECONDS", 600)
        self.BIND_FAILURES_PER_HOUR = _int("BIND_FAILURES_PER_HOUR", 5)

        self.WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
        self.WECHAT_APPID = os.environ.get("WECHAT_APPID", "")
        self.WECHAT_SECRET = os.environ.get("WECHAT_SECRET", "")
        self.ALIPAY_GATEWAY = os.environ.get("ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do")
        self.ALIPAY_APP_ID = os.environ.get("ALIPAY_APP_ID", "")
        self.ALIPAY_PRIVATE_KEY = _read_optional(os.environ.get("ALIPAY_PRIVATE_KEY_FILE"))
        self.ALIPAY_PUBLIC_KEY = _read_optional(os.environ.get("ALIPAY_PUBLIC_KEY_FILE"))
        self.PLATFORM_TIMEOUT_SECONDS = float(os.environ.get("PLATFORM_TIMEOUT_SECONDS", "5"))
        # Subscribe-message templates for notifications; unset → in-app notifications only.
        self.WECHAT_NOTIFY_TEMPLATE_ID = os.environ.get("WECHAT_NOTIFY_TEMPLATE_ID") or None
        self.ALIPAY_NOTIFY_TEMPLATE_ID = os.environ.get("ALIPAY_NOTIFY_TEMPLATE_ID") or None

        self.INSTITUTION_MAX_CLOCK_SKEW_SECONDS = _int("INSTITUTION_MAX_CLOCK_SKEW_SECONDS", 300)
        # Signature version 1 (timestamp + body) is accepted through this date; version 2 adds method and path.
        self.INSTITUTION_SIGNATURE_V1_UNTIL = os.environ.get("INSTITUTION_SIGNATURE_V1_UNTIL", "2027-06-30") or None
        self.IDEMPOTENCY_TTL_SECONDS = _int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600)
        self.IDEMPOTENCY_LOCK_SECONDS = _int("IDEMPOTENCY_LOCK_SECONDS", 60)

        self.UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
        self.STATEMENT_DIR = os.environ.get("STATEMENT_DIR", str(INSTANCE_DIR / "statements"))
        self.MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)

        # Chatbot (issue 6): dialogue state idles out after CHAT_SESSION_IDLE_SECONDS; one turn holds the
        # session's lock at most CHAT_LOCK_SECONDS and a second message waits for it up to CHAT_LOCK_WAIT_SECONDS;
        # a human hold lapses CHAT_HUMAN_TIMEOUT_SECONDS after the agent's last action.
        self.CHAT_SESSION_IDLE_SECONDS = _int("CHAT_SESSION_IDLE_SECONDS", 30 * 60)
        self.CHAT_LOCK_SECONDS = _int("CHAT_LOCK_SECONDS", 30)
        self.CHAT_LOCK_WAIT_SECONDS = _int("CHAT_LOCK_WAIT_SECONDS", 10)
        self.CHAT_HUMAN_TIMEOUT_SECONDS = _int("CHAT_HUMAN_TIMEOUT_SECONDS", 600)
        # Chat and NLU limits are per caller (the signed-in person, else the chat session, else the address);
        # CHAT_IP_RATE_LIMIT is a separate, higher ceiling per client address (carrier NAT puts many people
        # behind one). While an agent is being found, CHAT_MINUTES_PER_WAITING_PERSON × place in the queue is the
        # expected wait the bot tells the person.
        self.CHAT_NLU_RATE_LIMIT = os.environ.get("CHAT_NLU_RATE_LIMIT", "30/minute")
        self.CHAT_MESSAGE_RATE_LIMIT = os.environ.get("CHAT_MESSAGE_RATE_LIMIT", "60/minute")
        self.CHAT_IP_RATE_LIMIT = os.environ.get("CHAT_IP_RATE_LIMIT", "600/minute")
        self.CHAT_MINUTES_PER_WAITING_PERSON = _int("CHAT_MINUTES_PER_WAITING_PERSON", 3)
        # How many reverse proxies in front of the app append to X-Forwarded-For (0: use the peer address).
        self.TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 0)

        # Staff console (server-rendered, /staff/): a server-side session whose id travels in Flask's signed cookie.
        # The cookie is HttpOnly, SameSite=Lax and Secure; SESSION_COOKIE_SECURE=0 only for local plain http.
        self.SESSION_COOKIE_NAME = "medins_staff"
        self.SESSION_COOKIE_PATH = "/staff"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", default=True)
        self.STAFF_SESSION_IDLE_SECONDS = _int("STAFF_SESSION_IDLE_SECONDS", 30 * 60)
        self.STAFF_SESSION_MAX_SECONDS = _int("STAFF_SESSION_MAX_SECONDS", 12 * 3600)
        # Failed staff sign-ins (console and API alike) allowed per username and per client address.
        self.STAFF_LOGIN_FAILURES_PER_USERNAME = os.environ.get("STAFF_LOGIN_FAILURES_PER_USERNAME", "5/15 minutes")
        self.STAFF_LOGIN_FAILURES_PER_ADDRESS = os.environ.get("STAFF_LOGIN_FAILURES_PER_ADDRESS", "30/15 minutes")
        # CSRF: every POST under /staff/ is checked by the console's blueprint; the JSON API uses Bearer tokens.
        self.WTF_CSRF_CHECK_DEFAULT = False
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which has its own timeouts
        # Monitoring (NX §33): rules are data; the periodic job scans this many days back.
        self.MONITORING_LOOKBACK_DAYS = _int("MONITORING_LOOKBACK_DAYS", 35)

        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_KEY_PREFIX = self.REDIS_KEY_PREFIX + "ratelimit"
        self.RATELIMIT_HEADERS_ENABLED = True
        # Redis down: limits are counted per worker in memory until it is back (docs/reliability.md).
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

        self.API_TITLE = "门诊共济自助服务 API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "docs"
        # The docs page's browser loads Swagger UI's files from this server (the swagger-ui-py package's copy), so
        # the page works offline and on an intranet; OPENAPI_SWAGGER_UI_URL may point elsewhere (a CDN, a mirror).
        self.OPENAPI_SWAGGER_UI_URL = os.environ.get("OPENAPI_SWAGGER_UI_URL", "/api/docs/assets/")
        # No "validator" badge: it would send the document's address to validator.swagger.io.
        self.OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None, "displayOperationId": True}


class TestConfig(Config):
    """The suite runs on PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL are set, else embedded."""

    __test__ = False  # not a pytest test class despite its name

    def __init__(self, database_url: str | None = None, redis_url: str | None = None) -> None:
        super().__init__()
        self.TESTING = True
        self.DEV_LOGIN = True
        # Staff passwords are hashed for every test that seeds staff; the production cost would dominate the run.
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
        self.SQLALCHEMY_DATABASE_URI = database_url or os.environ.get("TEST_DATABASE_URL") or (
            f"sqlite:///{INSTANCE_DIR / 'test.sqlite3'}"
        )
        self.REDIS_URL = redis_url or os.environ.get("TEST_REDIS_URL") or None
        self.JOBS_SYNCHRONOUS = True
        self.SESSION_COOKIE_SECURE = False  # the test client and the browser tests speak plain http on loopback
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        # Never the real platforms from a test: a closed loopback port unless a test starts the fake platforms.
        self.WECHAT_API_BASE = "http://127.0.0.1:9"
        self.ALIPAY_GATEWAY = "http://127.0.0.1:9/gateway.do"
        self.WECHAT_APPID = "wx-test-app"
        self.WECHAT_SECRET = "wx-test-secret"
        self.ALIPAY_APP_ID = "2021000000000000"


def _read_optional(path: str | None) -> str | None:
    return Path(path).read_text() if path else None
