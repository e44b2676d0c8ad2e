"""The client of the EQC enterprise lookup service (enrichment.md §3).

`EqcClient.lookup(name)` is the synchronous lookup of the company-id resolution: a search
by name and, for the first hit, its business detail (findDepart) and labels (findLabels).
It speaks plain HTTP through urllib; the token travels only in a request header, never in a
URL, a message or the log. Requests that a retry can fix (429, 5xx, timeouts, broken
connections) are retried with exponential back-off, and a sliding window keeps the client
within the configured rate. `EqcSettings.from_env()` reads the `WDH_EQC_*` settings;
`CompanyHit.base_info_row()` gives the enterprise.base_info columns of a hit (§2.3).
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from http import HTTPStatus
from typing import Any, Literal, TypeVar

from loader.errors import WdhError
from loader.settings import Setting, setting

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://eqc.pingan.com"
SEARCH_PATH = "/kg-api-hfd/api/search/"
VALIDATE_PATH = SEARCH_PATH + "searchAll?keyword=test&currentPage=1&pageSize=1"
VALIDATE_TIMEOUT = 5.0
BROWSER_HEADERS = {  # sent with the token on every first attempt (§3.1)
    "Referer": "https://eqc.pingan.com/",
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    ),
    "Accept": "application/json",
    "Content-Type": "application/json; charset=utf-8",
}

Validity = Literal["valid", "invalid", "unknown"]
Number = TypeVar("Number", int, float)


@dataclass(frozen=True)
class EqcSettings:
    base_url: str  # without a trailing /
    token: str
    rate_limit: int = 10  # requests per rate_window seconds
    rate_window: float = 60.0
    timeout: float = 5.0  # seconds per request: the sync provider's (§3.3)
    retries: int = 2  # after the first attempt

    def __post_init__(self) -> None:
        if self.rate_limit < 1 or self.rate_window <= 0 or self.timeout <= 0 or self.retries < 0:
            raise ValueError(f"unusable EQC settings: {self!r}")

    def __repr__(self) -> str:
        masked = self.token[:4] + "…" if len(self.token) >= 12 else "***"
        shown = {f.name: masked if f.name == "token" else getattr(self, f.name) for f in fields(self)}
        return "EqcSettings(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"

    @classmethod
    def from_env(cls) -> EqcSettings | None:
        """The settings from the environment or the env file; None when `WDH_EQC_TOKEN` has no value."""
        token = setting("WDH_EQC_TOKEN")
        if token is None:
            return None
        base_url = DEFAULT_BASE_URL
        if (base := setting("WDH_EQC_BASE_URL")) is not None:
            base_url = base.value.strip().rstrip("/")
            if not base_url.startswith(("http://", "https://")):
                raise WdhError(
                    f"{base.origin} is not an http(s) URL: {base.value!r}",
                    hint=f"set it to the service's address, e.g. {DEFAULT_BASE_URL}",
                )
        return cls(
            base_url=base_url,
            token=token.value.strip(),
            rate_limit=_positive(setting("WDH_EQC_RATE_LIMIT"), 10, int, "requests, e.g. 10"),
            rate_window=_positive(setting("WDH_EQC_RATE_LIMIT_WINDOW"), 60.0, float, "seconds, e.g. 60"),
        )


def _positive(found: Setting | None, default: Number, parse: Callable[[str], Number], unit: str) -> Number:
    if found is None:
        return default
    value: Number | None
    try:
        value = parse(found.value.strip())
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        kind = "whole number" if parse is int else "number"
        raise WdhError(
            f"{found.origin} is not a positive {kind}: {found.value!r}",
            hint=f"set it to a positive {kind} of {unit}, or remove it for the default {default}",
        )
    return value


class EqcError(Exception):
    """A request failed after its retries: network trouble, 5xx, 429, another 4xx, or a body
    that is not a JSON object. The message names the request path, never the token."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the last HTTP status; None for a network error


class EqcAuthError(EqcError):
    """The token was refused (401, or a 200 body {"error": "TokenExpired"}): the service is
    unusable for the rest of the run."""


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


_UNITS = (("亿元", 1e8), ("万元", 1e4), ("亿", 1e8), ("万", 1e4), ("元", 1.0))


def _float(value: Any) -> float | None:
    """A number, also from text such as "12.5" or "1,000万元" (→ 10,000,000); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text, factor = value.replace(",", "").strip().removesuffix("人民币"), 1.0
    for unit, unit_factor in _UNITS:
        if text.endswith(unit):
            text, factor = text.removesuffix(unit), unit_factor
            break
    try:
        number = float(text) * factor
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = float(value) if isinstance(value, bool) else _float(value)
    return int(number) if number is not None and number.is_integer() else None


# enterprise.base_info column → (conversion, keys of the findDepart dto to fall back on).
# Each is first looked up in the search's list[0] under its own name or the camelCase one.
BASE_INFO_COLUMNS: dict[str, tuple[Callable[[Any], Any], tuple[str, ...]]] = {
    "company_id": (_text, ()),
    "name": (_text, ()),
    "name_display": (_text, ()),
    "symbol": (_text, ()),
    "rank_score": (_float, ()),
    "country": (_text, ()),
    "company_en_name": (_text, ("company_en_name",)),
    "smdb_code": (_text, ()),
    "is_hk": (_int, ()),
    "coname": (_text, ()),
    "is_list": (_int, ()),
    "company_nature": (_text, ()),
    "_score": (_float, ()),
    "type": (_text, ()),
    "organization_code": (_text, ("organization_code",)),
    "le_rep": (_text, ("legal_person_name", "le_rep")),
    "reg_cap": (_float, ("registerCaptial", "reg_cap")),
    "is_pa_relatedparty": (_int, ()),
    "province": (_text, ("province",)),
    "est_date": (_text, ("registered_date", "est_date")),
    "company_short_name": (_text, ()),
    "is_debt": (_int, ()),
    "unite_code": (_text, ("unite_code",)),
    "registered_status": (_text, ("registered_status",)),
    "cocode": (_text, ()),
    "default_score": (_float, ()),
    "company_former_name": (_text, ("company_former_name",)),
    "is_rank_list": (_int, ()),
    "trade_register_code": (_text, ()),
    "is_normal": (_int, ()),
    "company_full_name": (_text, ("company_full_name", "company_name")),
}


def _camel(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])_([a-z])", lambda m: m.group(1).upper(), key)


def _pick(convert: Callable[[Any], Any], *places: tuple[dict[str, Any], tuple[str, ...]]) -> Any:
    """The first value that converts to something, trying each key and its camelCase variant."""
    for source, keys in places:
        for key in keys:
            for variant in (key, _camel(key)):
                if (value := convert(source.get(variant))) is not None:
                    return value
    return None


def _first_item(body: dict[str, Any] | None) -> dict[str, Any]:
    items = body.get("list") if body else None
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def _dto(depart_body: dict[str, Any] | None) -> dict[str, Any]:
    dto = depart_body.get("businessInfodto") if depart_body else None
    return dto if isinstance(dto, dict) else {}


@dataclass
class CompanyHit:
    query: str  # the text sent
    company_id: str
    full_name: str
    match_type: str | None  # list[0].type: 全称精确匹配 / 模糊匹配 / 拼音 / …
    unite_code: str | None
    former_names: list[str]  # from the findDepart dto
    search_body: dict[str, Any]
    depart_body: dict[str, Any] | None  # None: findDepart failed
    labels_body: dict[str, Any] | None  # None: findLabels failed

    def base_info_row(self) -> dict[str, Any]:
        """The columns of enterprise.base_info for this hit (api_fetched_at/updated_at are the database's)."""
        first, dto = _first_item(self.search_body), _dto(self.depart_body)
        row = {
            column: _pick(convert, (first, (column,)), (dto, fallback))
            for column, (convert, fallback) in BASE_INFO_COLUMNS.items()
        }
        return {
            **row,
            "search_key_word": self.query,
            "data_source": "search",
            "raw_data": self.search_body,
            "raw_business_info": self.depart_body,
            "raw_biz_label": self.labels_body,
        }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: following it would send the token to wherever it points."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class EqcClient:
    """Requests to the EQC service, with retries and the rate limit; `requests_made` counts them."""

    def __init__(
        self,
        settings: EqcSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.requests_made = 0
        self._sleep = sleep
        self._clock = clock
        self._sent: deque[float] = deque()  # when the requests of the current window were sent
        self._opener = urllib.request.build_opener(_NoRedirect())
        self._opener.addheaders = []  # no urllib User-Agent: the 403 retry sends the token alone

    def search(self, name: str) -> dict[str, Any] | None:
        """The search response for `name` (trimmed); None when the service answers 404."""
        return self._get(SEARCH_PATH + "?key=" + urllib.parse.quote(name.strip(), safe=""))

    def lookup(self, name: str) -> CompanyHit | None:
        """The first search hit with its business detail and labels; None when not found.

        A failure of findDepart or findLabels leaves that body None; a refused token does not.
        """
        query = name.strip()
        body = self.search(query) if query else None
        first = _first_item(body)
        company_id, full_name = _text(first.get("companyId")), _text(first.get("companyFullName"))
        if body is None or company_id is None or full_name is None:
            return None
        depart = self._detail("findDepart", company_id)
        labels = self._detail("findLabels", company_id)
        dto = _dto(depart)
        former = _text(dto.get("company_former_name")) or ""
        return CompanyHit(
            query=query,
            company_id=company_id,
            full_name=full_name,
            match_type=_text(first.get("type")),
            unite_code=_pick(_text, (first, ("unite_code",)), (dto, ("unite_code",))),
            former_names=[part.strip() for part in re.split(r"[,，]", former) if part.strip()],
            search_body=body,
            depart_body=depart,
            labels_body=labels,
        )

    def validate(self) -> Validity:
        """Whether the token works (§3.1): one request, 5 s. 'unknown' when the service could not
        tell (another status, a network error); the original system assumed 'valid' then."""
        try:
            body = self._get(VALIDATE_PATH, timeout=VALIDATE_TIMEOUT, retries=0)
        except EqcAuthError:
            return "invalid"
        except EqcError as exc:
            return "invalid" if exc.status == 403 else "unknown"
        return "valid" if body is not None else "unknown"

    def _detail(self, endpoint: str, company_id: str) -> dict[str, Any] | None:
        try:
            return self._get(f"{SEARCH_PATH}{endpoint}?targetId={urllib.parse.quote(company_id, safe='')}")
        except EqcAuthError:
            raise
        except EqcError as exc:
            log.warning("%s; the hit is kept without it", exc)
            return None

    def _get(
        self, path: str, *, timeout: float | None = None, retries: int | None = None
    ) -> dict[str, Any] | None:
        """The JSON object GET `path` answers; None on 404. Raises EqcAuthError when the token is
        refused, EqcError when the request still fails after its retries."""
        timeout = self.settings.timeout if timeout is None else timeout
        retries = self.settings.retries if retries is None else retries
        where = f"EQC GET {urllib.parse.unquote(path)}"
        token_only = False
        attempt = 0
        while True:
            status: int | None = None
            try:
                status, body = self._send(path, timeout, token_only)
            except (OSError, http.client.HTTPException) as exc:
                problem = _network_problem(exc, timeout)
            else:
                if status == 403 and attempt == 0 and not token_only:
                    token_only = True  # §3.1: once more with the token header alone
                    continue
                if 200 <= status < 300:
                    return _decode(where, status, body)
                if status == 401:
                    raise EqcAuthError(f"{where}: the token was refused (HTTP 401)", status)
                if status == 404:
                    return None
                problem = _http_problem(status)
                if status != 429 and status < 500:
                    raise EqcError(f"{where}: {problem}", status)
            if attempt == retries:
                tries = f" (after {attempt + 1} attempts)" if attempt else ""
                raise EqcError(f"{where}: {problem}{tries}", status)
            attempt += 1
            self._sleep(2**attempt * random.uniform(0.8, 1.2))

    def _send(self, path: str, timeout: float, token_only: bool) -> tuple[int, bytes]:
        """One request: its status and body (also of an error status). Never logs headers."""
        self._wait_for_slot()
        headers = {"token": self.settings.token, **({} if token_only else BROWSER_HEADERS)}
        request = urllib.request.Request(self.settings.base_url + path, headers=headers)
        self.requests_made += 1
        started = time.perf_counter()
        outcome: int | str = "no answer"
        try:
            with self._opener.open(request, timeout=timeout) as response:
                outcome = response.status
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            outcome = exc.code
            with exc:
                return exc.code, exc.read()
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            log.debug("EQC GET %s → %s in %.0f ms", urllib.parse.unquote(path), outcome, elapsed)

    def _wait_for_slot(self) -> None:
        """At most rate_limit requests in any rate_window seconds: sleep until the oldest leaves it."""
        window = self.settings.rate_window
        now = self._clock()
        while self._sent and self._sent[0] <= now - window:
            self._sent.popleft()
        if len(self._sent) >= self.settings.rate_limit:
            free_at = self._sent.popleft() + window
            log.info(
                "EQC rate limit (%d per %g s): waiting %.1f s",
                self.settings.rate_limit,
                window,
                free_at - now,
            )
            self._sleep(free_at - now)
            now = max(self._clock(), free_at)
        self._sent.append(now)


def _decode(where: str, status: int, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise EqcError(
            f"{where}: the answer is not JSON (HTTP {status}, {len(body)} bytes)", status
        ) from None
    if not isinstance(data, dict):
        raise EqcError(f"{where}: the answer is not a JSON object (HTTP {status})", status)
    if data.get("error") == "TokenExpired":
        raise EqcAuthError(f"{where}: the token has expired (TokenExpired)", status)
    return data


def _http_problem(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _network_problem(exc: Exception, timeout: float) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    return reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
