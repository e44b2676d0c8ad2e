"""A fake EQC service (enrichment.md §3.2) for the tests and for demos.

`with FakeEqc() as eqc:` serves on 127.0.0.1 (a free port) from a background thread until
the block ends. It knows the companies given to `add_company`, accepts only its own token,
logs every request it receives, and can be told to misbehave for the next requests
(`fail_next`). By hand, for a demo:

    python -m tests.eqc_server --port 8765 --company 测试公司=614810477
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SEARCH = "/kg-api-hfd/api/search/"
FAULTS = ("ok", "token_expired", "timeout", "reset", "bad_json")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query, percent-decoded
    headers: dict[str, str]  # names lower-cased


class FakeEqc:
    def __init__(self, *, token: str = "test-token", port: int = 0) -> None:
        self.token = token
        self.port = port
        self.url = ""  # "http://127.0.0.1:<port>" once started
        self.slow_seconds = 6.0  # how long a "timeout" keeps the client waiting
        self.requests: list[Request] = []
        self._searches: dict[str, dict[str, Any]] = {}  # name → list[0]
        self._details: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # id → findDepart, findLabels
        self._faults: deque[int | str] = deque()
        self._expired = False
        self._search_count = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeEqc:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-eqc", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def add_company(
        self,
        name: str,
        company_id: str,
        *,
        full_name: str | None = None,
        match_type: str = "全称精确匹配",
        former_names: str | None = None,
        unite_code: str | None = None,
        province: str | None = None,
        registered_capital: str | None = "1,000万元",
    ) -> None:
        """A company that a search for `name` finds first, with its business detail and labels."""
        full = name if full_name is None else full_name
        self._searches[name.strip()] = {
            "companyId": company_id,
            "companyFullName": full,
            "name": full,
            "type": match_type,
            "unite_code": unite_code,
            "_score": 98.5,
            "rank_score": 1.0,
            "is_list": 0,
        }
        depart = {
            "businessInfodto": {
                "company_name": full,
                "unite_code": unite_code,
                "registerCaptial": registered_capital,
                "registered_date": "2005-06-01",
                "registered_status": "存续",
                "legal_person_name": "张三",
                "province": province,
                "company_former_name": former_names,
                "address": "深圳市福田区益田路5033号",
            }
        }
        region = {
            "companyId": company_id,
            "lv1Name": "地区分类",
            "lv2Name": province or "广东省",
            "lv3Name": "深圳市",
            "lv4Name": None,
        }
        self._details[company_id] = (depart, {"labels": [{"type": "地区分类", "labels": [region]}]})

    def fail_next(self, *responses: int | str) -> None:
        """What the next requests get, in order, instead of their normal answer: an HTTP status
        (with a small JSON body), "token_expired" (200 {"error": "TokenExpired"}), "timeout" (no
        answer for `slow_seconds`, then the connection closes), "reset" (the connection closes at
        once), "bad_json" (200 "<html>") or "ok" (the normal answer)."""
        for response in responses:
            if isinstance(response, str) and response not in FAULTS:
                raise ValueError(f"unknown fault {response!r}; use a status or one of {FAULTS}")
        with self._lock:
            self._faults.extend(responses)

    def expire_token(self) -> None:
        """From now on every request gets 401."""
        self._expired = True

    def search_count(self) -> int:
        """How many searches (`/kg-api-hfd/api/search/?key=`) got their normal answer."""
        with self._lock:
            return self._search_count

    def _handle(self, handler: _Handler) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._lock:
            self.requests.append(Request(handler.command, urllib.parse.unquote(handler.path), headers))
            fault = self._faults.popleft() if self._faults else "ok"
        if fault == "timeout":
            time.sleep(self.slow_seconds)
        if fault in ("timeout", "reset"):
            handler.close_connection = True  # no answer at all
        elif fault == "bad_json":
            _answer(handler, 200, b"<html>", "text/html")
        elif fault == "token_expired":
            _answer_json(handler, 200, {"error": "TokenExpired"})
        elif isinstance(fault, int):
            _answer_json(handler, fault, {"error": f"forced HTTP {fault}"})
        elif self._expired or headers.get("token") != self.token:
            _answer_json(handler, 401, {"error": "Unauthorized"})
        else:
            _answer_json(handler, *self._route(handler.path))

    def _route(self, raw_path: str) -> tuple[int, dict[str, Any]]:
        url = urllib.parse.urlsplit(raw_path)
        query = {key: values[0] for key, values in urllib.parse.parse_qs(url.query, True).items()}
        if url.path == SEARCH and "key" in query:
            with self._lock:
                self._search_count += 1
            found = self._searches.get(query["key"].strip())
            return 200, {"list": [found] if found else [], "total": 1 if found else 0}
        endpoint = url.path.removeprefix(SEARCH)
        depart, labels = self._details.get(
            query.get("targetId", ""), ({"businessInfodto": {}}, {"labels": []})
        )
        if endpoint == "findDepart":
            return 200, depart
        if endpoint == "findLabels":
            return 200, labels
        if endpoint == "searchAll":
            return 200, {"list": [], "total": 0}
        return 404, {"error": "NotFound"}


class _Server(ThreadingHTTPServer):
    fake: FakeEqc


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests read FakeEqc.requests instead


def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _answer_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    _answer(handler, status, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.eqc_server", description="A fake EQC service that knows the given companies."
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="test-token", help="the only token accepted (default: test-token)")
    parser.add_argument("--company", action="append", default=[], metavar="NAME=ID", help="repeatable")
    args = parser.parse_args(argv)
    companies = [pair.rpartition("=") for pair in args.company]
    for (name, sep, company_id), pair in zip(companies, args.company, strict=True):
        if not sep or not name.strip() or not company_id.strip():
            parser.error(f"--company wants NAME=ID, got {pair!r}")
    with FakeEqc(token=args.token, port=args.port) as eqc:
        for name, _, company_id in companies:
            eqc.add_company(name.strip(), company_id.strip())
        print(f"fake EQC at {eqc.url}, token {eqc.token}; Ctrl+C stops it")
        print(f"  WDH_EQC_BASE_URL={eqc.url} WDH_EQC_TOKEN={eqc.token}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
