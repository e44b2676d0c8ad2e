"""The EQC lookup client against a fake EQC service over real HTTP (enrichment.md §3); no database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from loader.eqc import BASE_INFO_COLUMNS, CompanyHit, EqcAuthError, EqcClient, EqcError, EqcSettings
from loader.errors import WdhError
from tests.eqc_server import FakeEqc

BROWSER_HEADERS = ("referer", "user-agent", "accept", "content-type")


class FakeTime:
    """An injected clock and sleep: sleeping records the delay and moves the clock on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def eqc() -> Iterator[FakeEqc]:
    with FakeEqc() as fake:
        yield fake


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def client_for(eqc: FakeEqc, fake_time: FakeTime, **settings: Any) -> EqcClient:
    """A client of the fake service; a rate limit high enough not to sleep unless a test lowers it."""
    config = EqcSettings(eqc.url, eqc.token, **{"rate_limit": 100, **settings})
    return EqcClient(config, sleep=fake_time.sleep, clock=fake_time.clock)


def paths(eqc: FakeEqc) -> list[str]:
    return [request.path for request in eqc.requests]


def test_lookup_returns_the_first_hit_with_its_detail_and_labels(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.add_company(
        "测试公司",
        "614810477",
        full_name="测试有限公司",
        former_names="旧名一，旧名二,旧名三",
        unite_code="91440300MA5EXAMPLE",
        province="广东省",
    )
    client = client_for(eqc, fake_time)

    hit = client.lookup("  测试公司 ")

    assert hit is not None
    assert (hit.query, hit.company_id, hit.full_name) == ("测试公司", "614810477", "测试有限公司")
    assert (hit.match_type, hit.unite_code) == ("全称精确匹配", "91440300MA5EXAMPLE")
    assert hit.former_names == ["旧名一", "旧名二", "旧名三"]
    assert hit.search_body["list"][0]["companyId"] == "614810477"
    assert hit.depart_body is not None and hit.depart_body["businessInfodto"]["legal_person_name"] == "张三"
    assert hit.labels_body is not None and hit.labels_body["labels"][0]["type"] == "地区分类"
    assert paths(eqc) == [
        "/kg-api-hfd/api/search/?key=测试公司",
        "/kg-api-hfd/api/search/findDepart?targetId=614810477",
        "/kg-api-hfd/api/search/findLabels?targetId=614810477",
    ]
    assert client.requests_made == 3 and eqc.search_count() == 1 and fake_time.sleeps == []


def test_base_info_row_fills_the_columns_from_the_hit_and_the_business_detail(
    eqc: FakeEqc, fake_time: FakeTime
) -> None:
    eqc.add_company("测试公司", "614810477", former_names="旧名一，旧名二", unite_code="91440300MA5EXAMPLE")
    hit = client_for(eqc, fake_time).lookup("测试公司")
    assert hit is not None

    row = hit.base_info_row()

    assert set(row) == {*BASE_INFO_COLUMNS, "search_key_word", "data_source", "raw_data"} | {
        "raw_business_info",
        "raw_biz_label",
    }
    assert row["company_id"] == "614810477" and row["company_full_name"] == "测试公司"
    assert (row["search_key_word"], row["type"], row["data_source"]) == ("测试公司", "全称精确匹配", "search")
    assert row["reg_cap"] == 10_000_000.0  # "1,000万元" from findDepart
    assert (row["est_date"], row["le_rep"], row["registered_status"]) == ("2005-06-01", "张三", "存续")
    assert row["unite_code"] == "91440300MA5EXAMPLE" and row["company_former_name"] == "旧名一，旧名二"
    assert (row["_score"], row["is_list"], row["country"]) == (98.5, 0, None)
    assert row["raw_data"] == hit.search_body
    assert row["raw_business_info"] == hit.depart_body and row["raw_biz_label"] == hit.labels_body


def test_base_info_row_reads_camel_case_keys_and_drops_numbers_that_are_not_numbers() -> None:
    first = {
        "companyId": "1",
        "companyFullName": "甲公司",
        "companyShortName": "甲",
        "rankScore": "12.5",
        "_score": "n/a",
        "isHk": "1",
        "is_list": "yes",
        "leRep": "李四",
    }
    dto = {"legal_person_name": "王五", "registerCaptial": "未公开", "registered_date": "2010-01-01"}
    hit = CompanyHit("甲", "1", "甲公司", None, None, [], {"list": [first]}, {"businessInfodto": dto}, None)

    row = hit.base_info_row()

    assert (row["company_short_name"], row["rank_score"], row["is_hk"]) == ("甲", 12.5, 1)
    assert (row["_score"], row["is_list"], row["reg_cap"]) == (None, None, None)
    assert row["le_rep"] == "李四"  # list[0] first, the business detail only when it has none
    assert row["est_date"] == "2010-01-01" and row["raw_biz_label"] is None


def test_unknown_name_is_not_found(eqc: FakeEqc, fake_time: FakeTime) -> None:
    assert client_for(eqc, fake_time).lookup("不存在的公司") is None
    assert paths(eqc) == ["/kg-api-hfd/api/search/?key=不存在的公司"]


def test_hit_without_a_full_name_is_not_found(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.add_company("测试公司", "614810477", full_name="")
    assert client_for(eqc, fake_time).lookup("测试公司") is None
    assert len(eqc.requests) == 1


def test_search_404_is_not_found_without_retry(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.add_company("测试公司", "614810477")
    eqc.fail_next(404)
    assert client_for(eqc, fake_time).lookup("测试公司") is None
    assert len(eqc.requests) == 1 and fake_time.sleeps == []


def test_every_request_carries_the_token_and_browser_headers(eqc: FakeEqc, fake_time: FakeTime) -> None:
    client_for(eqc, fake_time).search("测试公司")

    headers = eqc.requests[0].headers
    assert headers["token"] == "test-token"
    assert headers["referer"] == "https://eqc.pingan.com/"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["user-agent"].startswith("Mozilla/5.0")


def test_403_is_retried_once_with_only_the_token_header(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.fail_next(403)

    assert client_for(eqc, fake_time).search("测试公司") == {"list": [], "total": 0}

    first, second = eqc.requests
    assert all(name in first.headers for name in BROWSER_HEADERS)
    assert second.headers["token"] == "test-token"
    assert [name for name in BROWSER_HEADERS if name in second.headers] == []
    assert fake_time.sleeps == []


def test_second_403_is_an_error(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.fail_next(403, 403)
    with pytest.raises(EqcError, match="HTTP 403") as raised:
        client_for(eqc, fake_time).search("测试公司")
    assert not isinstance(raised.value, EqcAuthError) and len(eqc.requests) == 2


def test_429_is_retried_with_exponential_backoff(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.add_company("测试公司", "614810477")
    eqc.fail_next(429, 429)

    assert client_for(eqc, fake_time).search("测试公司") is not None

    assert len(eqc.requests) == 3
    first, second = fake_time.sleeps
    assert 1.6 <= first <= 2.4 and 3.2 <= second <= 4.8


def test_5xx_after_the_last_retry_is_an_error_without_the_token(
    eqc: FakeEqc, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    eqc.fail_next(503, 503, 503, 503)
    caplog.set_level(logging.DEBUG, logger="loader.eqc")

    with pytest.raises(EqcError) as raised:
        client_for(eqc, fake_time, retries=2).search("测试公司")

    message = str(raised.value)
    assert "HTTP 503" in message and "/kg-api-hfd/api/search/?key=测试公司" in message
    assert raised.value.status == 503 and not isinstance(raised.value, EqcAuthError)
    assert eqc.token not in message and eqc.token not in caplog.text
    assert len(eqc.requests) == 3 and len(fake_time.sleeps) == 2
    assert "→ 503" in caplog.text  # the request log: path, status, time


def test_timeout_is_retried(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.slow_seconds = 1.0
    eqc.fail_next("timeout")

    assert client_for(eqc, fake_time, timeout=0.5).search("测试公司") is not None

    assert len(eqc.requests) == 2 and len(fake_time.sleeps) == 1


def test_timeouts_after_the_last_retry_say_so(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.slow_seconds = 1.0
    eqc.fail_next("timeout", "timeout")
    with pytest.raises(EqcError, match=r"no answer within 0.5 s \(after 2 attempts\)"):
        client_for(eqc, fake_time, timeout=0.5, retries=1).search("测试公司")


def test_connection_reset_is_retried(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.fail_next("reset")

    assert client_for(eqc, fake_time).search("测试公司") is not None

    assert len(eqc.requests) == 2 and len(fake_time.sleeps) == 1


def test_401_is_an_auth_error_without_retry(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.expire_token()
    with pytest.raises(EqcAuthError, match="HTTP 401"):
        client_for(eqc, fake_time).lookup("测试公司")
    assert len(eqc.requests) == 1 and fake_time.sleeps == []


def test_token_expired_body_is_an_auth_error(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.fail_next("token_expired")
    with pytest.raises(EqcAuthError, match="TokenExpired"):
        client_for(eqc, fake_time).lookup("测试公司")
    assert len(eqc.requests) == 1


def test_answer_that_is_not_json_is_an_error(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.fail_next("bad_json")
    with pytest.raises(EqcError, match="not JSON"):
        client_for(eqc, fake_time).search("测试公司")


def test_failing_business_detail_is_tolerated(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.add_company("测试公司", "614810477", former_names="旧名一")
    eqc.fail_next("ok", 500, 500, 500)

    hit = client_for(eqc, fake_time, retries=2).lookup("测试公司")

    assert hit is not None and hit.company_id == "614810477"
    assert hit.depart_body is None and hit.former_names == []
    assert hit.labels_body is not None
    assert len(eqc.requests) == 5  # search, findDepart three times, findLabels


def test_refused_token_during_business_detail_is_not_tolerated(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.add_company("测试公司", "614810477")
    eqc.fail_next("ok", 401)
    with pytest.raises(EqcAuthError):
        client_for(eqc, fake_time).lookup("测试公司")


def test_rate_limiter_sleeps_until_the_oldest_request_leaves_the_window(
    eqc: FakeEqc, fake_time: FakeTime
) -> None:
    client = client_for(eqc, fake_time, rate_limit=2, rate_window=10)
    client.search("甲")
    fake_time.now = 3.0
    client.search("乙")
    fake_time.now = 4.0
    client.search("丙")  # the window holds 0 s and 3 s: wait until the first leaves it, at 10 s

    assert fake_time.sleeps == [6.0]
    fake_time.now = 13.0
    client.search("丁")  # the window holds 10 s only: 3 s left it at 13 s
    assert fake_time.sleeps == [6.0] and len(eqc.requests) == 4


def test_validate_says_valid_for_a_working_token(eqc: FakeEqc, fake_time: FakeTime) -> None:
    assert client_for(eqc, fake_time).validate() == "valid"
    assert paths(eqc) == ["/kg-api-hfd/api/search/searchAll?keyword=test&currentPage=1&pageSize=1"]


def test_validate_says_invalid_for_a_refused_token(eqc: FakeEqc, fake_time: FakeTime) -> None:
    client = EqcClient(EqcSettings(eqc.url, "wrong-token"), sleep=fake_time.sleep)
    assert client.validate() == "invalid"
    eqc.fail_next("token_expired")
    assert client_for(eqc, fake_time).validate() == "invalid"
    eqc.fail_next(403, 403)
    assert client_for(eqc, fake_time).validate() == "invalid"


def test_validate_says_unknown_when_the_service_cannot_tell(eqc: FakeEqc, fake_time: FakeTime) -> None:
    eqc.fail_next(500)
    assert client_for(eqc, fake_time).validate() == "unknown"
    assert len(eqc.requests) == 1 and fake_time.sleeps == []  # one attempt, no retry


EQC_SETTINGS = ("WDH_EQC_TOKEN", "WDH_EQC_BASE_URL", "WDH_EQC_RATE_LIMIT", "WDH_EQC_RATE_LIMIT_WINDOW")


@pytest.fixture
def no_eqc_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No EQC setting in the environment, and a working directory without `.wdh_env`."""
    for key in (*EQC_SETTINGS, "WDH_ENV_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_settings_without_a_token_are_none(no_eqc_settings: pytest.MonkeyPatch) -> None:
    no_eqc_settings.setenv("WDH_EQC_BASE_URL", "http://127.0.0.1:1")
    assert EqcSettings.from_env() is None


def test_settings_defaults(no_eqc_settings: pytest.MonkeyPatch) -> None:
    no_eqc_settings.setenv("WDH_EQC_TOKEN", "abcdef0123456789")
    assert EqcSettings.from_env() == EqcSettings(
        "https://eqc.pingan.com", "abcdef0123456789", 10, 60.0, 5.0, 2
    )


def test_settings_from_the_env_file(no_eqc_settings: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".wdh_env").write_text(
        "WDH_EQC_TOKEN=abcdef0123456789 # Updated: 2026-01-01 10:00:00\n"
        "WDH_EQC_BASE_URL=http://127.0.0.1:8765/\n"
        "WDH_EQC_RATE_LIMIT=3\nWDH_EQC_RATE_LIMIT_WINDOW=1.5\n",
        encoding="utf-8",
    )
    expected = EqcSettings("http://127.0.0.1:8765", "abcdef0123456789", rate_limit=3, rate_window=1.5)
    assert EqcSettings.from_env() == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [("WDH_EQC_RATE_LIMIT", "ten"), ("WDH_EQC_RATE_LIMIT", "0"), ("WDH_EQC_RATE_LIMIT_WINDOW", "-1")],
)
def test_bad_rate_setting_is_an_error_naming_it(
    no_eqc_settings: pytest.MonkeyPatch, key: str, value: str
) -> None:
    no_eqc_settings.setenv("WDH_EQC_TOKEN", "abcdef0123456789")
    no_eqc_settings.setenv(key, value)
    with pytest.raises(WdhError, match=f"^{key} is not a positive") as raised:
        EqcSettings.from_env()
    assert raised.value.hint is not None


def test_settings_repr_hides_the_token() -> None:
    settings = EqcSettings("https://eqc.pingan.com", "abcdef0123456789")
    assert "abcdef0123456789" not in repr(settings) and "abcd…" in repr(settings)
    assert "secret" not in repr(replace(settings, token="secret"))
